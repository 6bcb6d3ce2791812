"""`outreach plan`, `calendar import`, branch festival options and import re-planning."""

from __future__ import annotations

import json
from pathlib import Path

import time_machine
from typer.testing import CliRunner

from bot.cli import app
from tests.integration.foundation.csvfiles import person, write_csv
from tests.integration.planning.helpers import at

runner = CliRunner()


def outreach(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_plan_json_dry_run_writes_nothing(cli_env: dict[str, str], tmp_path: Path) -> None:
    from datetime import date

    with time_machine.travel(at(date(2026, 3, 3), 8, 0)):
        rows = [person(1, birthday="1990-03-04", opened_on="2026-03-03")]
        assert outreach("import", "customers", str(write_csv(tmp_path / "c.csv", rows)))[0] == 0
        code, output = outreach("plan", "--date", "2026-03-04", "--dry-run", "--json")
        assert code == 0
        data = json.loads(output)
        assert data["date"] == "2026-03-04" and data["dry_run"] is True
        assert data["by_kind"] == {"birthday": {"planned": 1}, "new_account": {"planned": 1}}
        assert data["capacity"]["sms"]["planned"] == 1
        assert set(data) == {"date", "dry_run", "by_kind", "skipped_backfill", "capacity"}
        again = json.loads(outreach("plan", "--date", "2026-03-04", "--json")[1])
        assert again["by_kind"] == data["by_kind"] and again["dry_run"] is False


def test_import_replans_today_for_a_late_new_account(cli_env: dict[str, str], tmp_path: Path) -> None:
    from datetime import date

    with time_machine.travel(at(date(2026, 3, 3), 23, 0)):
        assert outreach("plan")[0] == 0  # today was planned at midnight, before the import
        rows = [person(1, opened_on="2026-03-02"), person(2, opened_on="2019-03-02")]
        code, output = outreach("import", "customers", str(write_csv(tmp_path / "c.csv", rows)))
        assert code == 0 and "re-planned 2026-03-03: 1 touch(es)" in output
        view = json.loads(outreach("customer", "C000001", "--json")[1])
        assert view["customer"]["customer_id"] == "C000001"


def test_calendar_import_overrides_the_library(cli_env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "cal.csv"
    path.write_text("date,working\n2027-01-02,1\n2027-01-04,0\n2027-13-01,1\n", encoding="utf-8")
    code, output = outreach("calendar", "import", str(path))
    assert code == 1  # one bad line named, the rest imported
    assert "line 4, column date" in output and "calendar 2027: 2 days" in output
    from datetime import date

    with time_machine.travel(at(date(2027, 1, 2), 8, 0)):
        rows = [person(1, opened_on="2027-01-01")]
        outreach("import", "customers", str(write_csv(tmp_path / "c.csv", rows)))
        data = json.loads(outreach("plan", "--date", "2027-01-02", "--json")[1])
    # Saturday 2027-01-02 is a working day in the imported table: the new account is due.
    assert data["by_kind"].get("new_account") == {"planned": 1}


def test_branch_festival_settings(cli_env: dict[str, str]) -> None:
    assert outreach("branch", "add", "SH01")[0] == 0
    code, _ = outreach("branch", "set", "SH01", "--festival", "dragon_boat=on",
                       "--add-festival", "lantern,元宵节,Lantern Festival,lunar:1-15",
                       "--festival-offset", "-1")
    assert code == 0
    shown = json.loads(outreach("branch", "show", "SH01", "--json")[1])
    by_code = {f["code"]: f for f in shown["festivals"]}
    assert by_code["dragon_boat"]["enabled"] and by_code["lantern"]["date"] == "lunar 1-15"
    assert shown["festival_offset_working_days"] == -1
    code, output = outreach("branch", "set", "SH01", "--add-festival", "qm,清明节,Qingming,solar:04-05")
    assert code == 2 and "清明" in output
    code, output = outreach("branch", "set", "SH01", "--festival", "nope=on")
    assert code == 2 and "unknown festival" in output
