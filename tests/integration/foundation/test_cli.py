"""The `outreach` command as an operator uses it: exit codes, messages, masking."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from tests.integration.foundation.csvfiles import person, write_csv

runner = CliRunner()


def outreach(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), input=stdin)
    return result.exit_code, result.output


@pytest.fixture
def branch(cli_env: dict[str, str]) -> str:
    code, _ = outreach("branch", "add", "SH01", "--name", "上海浦东营业部",
                       "--sms-signature", "【华东证券】", "--service-phone", "95555")
    assert code == 0
    return "SH01"


def test_wrong_setting_fails_with_one_line_naming_it(
    cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTREACH_SEND_WINDOW", "9-20")
    code, output = outreach("check")
    assert code == 2
    assert output.strip().splitlines() == [
        "configuration error: OUTREACH_SEND_WINDOW: expected HH:MM-HH:MM, got '9-20'"
    ]


def test_branch_add_set_show(branch: str) -> None:
    code, output = outreach("branch", "set", branch, "--send-window", "10:00-19:00",
                            "--manager-email", "Boss@Example.com", "--recording-optional")
    assert code == 0, output
    code, output = outreach("branch", "show", branch, "--json")
    data = json.loads(output)
    assert data["sms_signature"] == "华东证券"  # stored without 【】
    assert data["send_window"] == "10:00-19:00"
    assert data["recording_ref_required"] is False
    assert data["name"] == "上海浦东营业部"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--sms-signature", "证"), "2 to 12 characters"),
        (("--send-window", "20:00-09:00"), "must end after it starts"),
        (("--timezone", "Mars/Base"), "unknown time zone"),
        (("--manager-email", "boss@"), "--manager-email"),
    ],
)
def test_branch_set_rejects_bad_values(branch: str, args: tuple[str, ...], fragment: str) -> None:
    code, output = outreach("branch", "set", branch, *args)
    assert code == 2
    assert fragment in output


def test_branch_add_refuses_an_existing_code(branch: str) -> None:
    code, output = outreach("branch", "add", branch)
    assert code == 2 and "exists" in output


@pytest.mark.parametrize(
    ("args", "ok", "fragment"),
    [
        (("agent1", "--role", "agent", "--branch", "SH01"), True, "added"),
        (("agent2", "--role", "agent"), False, "add --branch"),
        (("hq1", "--role", "hq_agent", "--branch", "SH01"), False, "leave out --branch"),
        (("hq2", "--role", "hq_agent"), True, "added"),
        (("comp1", "--role", "compliance"), True, "added"),
        (("comp2", "--role", "compliance", "--branch", "SH01"), True, "added"),
        (("sales1", "--role", "sales", "--branch", "SH01", "--sales"), True, "added"),
        (("ba1", "--role", "branch_admin", "--branch", "SH01", "--sales"), True, "added"),
        (("x1", "--role", "agent", "--branch", "SH01", "--sales"), False, "independence rule"),
        (("x2", "--role", "hq_agent", "--sales"), False, "independence rule"),
        (("x3", "--role", "compliance", "--sales"), False, "only for roles sales and branch_admin"),
        (("x4", "--role", "boss"), False, "unknown role"),
        (("x5", "--role", "agent", "--branch", "NOPE"), False, "no branch NOPE"),
    ],
)
def test_staff_roles_follow_the_rules(branch: str, args: tuple[str, ...], ok: bool,
                                      fragment: str) -> None:
    code, output = outreach("staff", "add", *args, stdin="a-long-password\n")
    assert (code == 0) is ok, output
    assert fragment in output


def test_password_rules_and_system_user(branch: str) -> None:
    code, output = outreach("staff", "add", "short", "--role", "admin", stdin="abc\n")
    assert code == 2 and "at least 8" in output
    code, output = outreach("staff", "add", "system", "--role", "system")
    assert code == 0, output


def test_password_is_stored_as_argon2(branch: str, database_url: str) -> None:
    import asyncio

    from sqlmodel import select

    from bot.bootstrap import open_app
    from bot.db.models import Staff
    from bot.service.admin.staff import verify_password
    from bot.settings import load_settings

    outreach("staff", "add", "li", "--role", "agent", "--branch", "SH01", stdin="s3cret-pass\n")

    async def check() -> tuple[str, bool, bool]:
        async with open_app(load_settings(_env_file=None, database_url=database_url)) as a, \
                a.sessions() as s:
            staff = (await s.exec(select(Staff).where(Staff.username == "li"))).one()
            return (staff.password_hash or "", verify_password(staff, "s3cret-pass"),
                    verify_password(staff, "wrong-pass"))

    stored, good, bad = asyncio.run(check())
    assert stored.startswith("$argon2") and "s3cret-pass" not in stored
    assert good and not bad


def test_token_issue_revoke_and_deactivate(branch: str) -> None:
    outreach("staff", "add", "bot", "--role", "system")
    code, output = outreach("staff", "token", "bot")
    assert code == 0
    token_id = output.split("token id: ")[1].split()[0]
    assert "ob_" in output
    code, output = outreach("staff", "token", "bot", "--revoke", token_id)
    assert code == 0 and "revoked" in output
    code, output = outreach("staff", "token", "bot", "--revoke", token_id)
    assert code == 2 and "already revoked" in output
    assert outreach("staff", "deactivate", "bot")[0] == 0
    code, output = outreach("staff", "token", "bot")
    assert code == 2 and "deactivated" in output


def test_import_exit_codes_and_customer_view(branch: str, tmp_path: Path) -> None:
    rows = [person(1, name="欧阳晓燕", phone="13812345678", email="zhang@example.com"),
            person(2, phone="bad")]
    code, output = outreach("import", "customers", str(write_csv(tmp_path / "c.csv", rows)))
    assert code == 1
    assert "line 3, column phone:" in output
    assert "created 1" in output
    code, output = outreach("customer", "C000001", "--json")
    assert code == 0
    view = json.loads(output)
    assert view["customer"]["name"] == "欧*"
    assert {"channel": "sms", "address": "138****5678", "status": "ok"} in view["addresses"]
    assert {"channel": "email", "address": "z***@example.com", "status": "ok"} in view["addresses"]
    assert view["consent"]["marketing"] is True
    assert [t["type"] for t in view["timeline"]] == ["customer.imported"]
    assert "13812345678" not in output and "欧阳晓燕" not in output
    code, output = outreach("customer", "NOPE")
    assert code == 2 and "no customer NOPE" in output


def test_demo_is_idempotent_and_fills_the_queue(cli_env: dict[str, str], tmp_path: Path) -> None:
    code, output = outreach("demo", "--seed-only")
    assert code == 0, output
    assert "50 created" in output
    assert not (tmp_path / ".env").exists()  # a key in the environment is enough
    assert output.count("\nreply: ") == 5 and "/console/" in output
    queue = json.loads(outreach("queue", "--json")[1])
    assert [(q["customer_id"], q["priority"]) for q in queue][:2] == [("D0002", "P0"), ("D0003", "P1")]
    asked = next(q for q in queue if q["customer_id"] == "D0012")
    assert asked["asked_by_customer"] is True and "T10:00:00" in asked["suggested_call_at"]
    code, output = outreach("demo", "--seed-only")
    assert code == 0
    assert "0 staff added" in output and "0 created, 0 updated, 50 unchanged" in output
    assert "reply: " not in output and len(json.loads(outreach("queue", "--json")[1])) == len(queue)


def test_demo_writes_a_secret_key_when_none_is_set(
    cli_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OUTREACH_SECRET_KEY")
    assert outreach("demo", "--seed-only")[0] == 0
    first = (tmp_path / ".env").read_text()
    assert first.startswith("OUTREACH_SECRET_KEY=") and len(first.strip()) > 40
    outreach("demo", "--seed-only")
    assert (tmp_path / ".env").read_text() == first


def test_check_names_the_default_sms_over_the_segment_limit(
    cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The one-way unsubscribe link grows with PUBLIC_URL: check says which defaults no
    longer fit SMS_MAX_SEGMENTS / SMS_MAX_SEGMENTS_EN for the long sample, one per line."""
    code, output = outreach("check")
    assert code == 0, output
    assert ("sms templates: every default fits SMS_MAX_SEGMENTS=2, SMS_MAX_SEGMENTS_EN=3 for "
            "the long sample") in output.splitlines()
    monkeypatch.setenv("OUTREACH_PUBLIC_URL", "https://outreach.example-brokerage.com.cn")
    code, output = outreach("check")
    assert code == 0, output
    assert "PUBLIC_URL is 41 characters" in output
    assert "  new_account+birthday+holiday en one-way: 4 (204 units)" in output.splitlines()
    monkeypatch.setenv("OUTREACH_SMS_MAX_SEGMENTS_EN", "4")
    code, output = outreach("check")
    assert "every default fits SMS_MAX_SEGMENTS=2, SMS_MAX_SEGMENTS_EN=4" in output
