"""`import customers`: a stray quote, an opted-out customer's consent, spreadsheet headers."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.bootstrap import App
from bot.cli import app as cli
from bot.db.models import Customer, utcnow
from bot.service.customers.csv_reader import MAX_SPAN, ImportFileError
from tests.integration.foundation.csvfiles import person, write_csv
from tests.integration.foundation.test_import import customers, run

QUOTE = "\""


async def test_stray_quote_in_a_big_file_is_one_line_error(app: App, tmp_path: Path) -> None:
    lines = ["customer_id,name,branch,phone"]
    for i in range(1, 5001):
        name = '"张三' if i == 10 else "张三"
        lines.append(f"F{i},{name},SH01,+86138{i:08d}")
    path = tmp_path / "q.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = await run(app, path)
    assert report.errors == [f"line 11: unclosed quote (the quoted field runs on to line {10 + MAX_SPAN})"]
    assert (report.created, report.lines) == (4999, 5000)


@pytest.mark.parametrize(("text", "error", "kept"), [
    ('D1,甲,SH01\nD2,"乙,SH01\nD3,丙,SH01\nD4,丁,SH01\n',
     "line 3: unclosed quote (the quoted field runs on to the end of the file)",
     {"D1": "甲", "D3": "丙", "D4": "丁"}),
    # In the last column the swallowed lines make up the right number of fields: still the
    # line's own error.
    ('D1,甲,"SH01\nD2,乙,SH01\nD3,丙,SH01',
     "line 2: unclosed quote (the quoted field runs on to the end of the file)",
     {"D2": "乙", "D3": "丙"}),
    # Closed by a later quote: the later line keeps its own (quoted) value.
    ('D1,"甲,SH01\nD2,乙,SH01\nD3,"丙",SH01\n',
     "line 2: unclosed quote (the quoted field runs on to line 4)",
     {"D2": "乙", "D3": "丙"}),
], ids=["small-file", "last-column", "closed-later"])
async def test_a_stray_quote_is_its_own_line_error_and_loses_no_later_line(
        app: App, tmp_path: Path, text: str, error: str, kept: dict[str, str]) -> None:
    path = tmp_path / "q.csv"
    path.write_text("customer_id,name,branch\n" + text, encoding="utf-8")
    report = await run(app, path)
    assert report.errors == [error]
    assert {cid: c.name for cid, c in (await customers(app)).items()} == kept


async def test_quoted_newlines_keep_line_numbers(app: App, tmp_path: Path) -> None:
    path = tmp_path / "nl.csv"
    path.write_text(
        'customer_id,name,branch,note,tier\r\n'
        'D1,甲,SH01,"two\r\nlines",gold\r\n'
        'D2,乙,SH01,"three\nshort\nlines",standard\r\n'
        'D3,丙,SH01,,vip\r\n'
        'D4,丁,SH01,"a\r\nb",vip\r\n'
        'D5,戊,SH01,,gold\r\n',
        encoding="utf-8",
    )
    report = await run(app, path)
    assert report.errors == ["line 7, column tier: 'vip' is not one of diamond|gold|standard",
                             "line 8, column tier: 'vip' is not one of diamond|gold|standard"]
    assert set(await customers(app)) == {"D1", "D2", "D5"}


async def test_an_over_long_line_is_a_line_error(app: App, tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text(f"customer_id,name,branch\nD1,{'x' * 200_000},SH01\nD2,乙,SH01\n",
                    encoding="utf-8")
    report = await run(app, path)
    assert len(report.errors) == 1 and report.errors[0].startswith("line 2: field larger")
    assert set(await customers(app)) == {"D2"}


def test_cli_stray_quote_exits_1_naming_the_line(cli_env: dict[str, str], tmp_path: Path) -> None:
    lines = ["customer_id,name,branch"] + [f"F{i},{QUOTE if i == 3 else ''}甲,SH01"
                                           for i in range(1, 3000)]
    path = tmp_path / "q.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["import", "customers", str(path)])
    assert result.exit_code == 1, result.output
    assert "line 4: unclosed quote" in result.output
    assert "created 2998" in result.output and "Traceback" not in result.output


async def test_opted_out_consent_is_never_changed_by_an_import(app: App, tmp_path: Path) -> None:
    await run(app, write_csv(tmp_path / "a.csv", [person(1), person(2), person(3)]))
    when = utcnow()
    async with app.sessions() as s:
        for cid in ("C000001", "C000002"):
            c = await s.get(Customer, cid)
            assert c is not None
            c.opted_out_at, c.marketing_consent, c.consent_at = when, False, when
            s.add(c)
        await s.commit()
    header = ["customer_id", "name", "branch", "marketing_consent", "consent_at"]
    rows = [
        {"customer_id": "C000001", "name": "Li Lei", "branch": "SH01",
         "marketing_consent": "-", "consent_at": "2020-01-01"},
        {"customer_id": "C000002", "name": "Li Lei", "branch": "SH01",
         "marketing_consent": "yes", "consent_at": "-"},
        {"customer_id": "C000003", "name": "Li Lei", "branch": "SH01",
         "marketing_consent": "no", "consent_at": "2020-01-01"},
    ]
    said: list[str] = []
    report = await run(app, write_csv(tmp_path / "b.csv", rows, header=header), said)
    stored = await customers(app)
    for cid in ("C000001", "C000002"):
        assert stored[cid].marketing_consent is False
        assert stored[cid].consent_at is not None
        assert stored[cid].consent_at.replace(tzinfo=None) == when.replace(tzinfo=None)
    assert stored["C000003"].marketing_consent is False  # not opted out: the import applies
    assert report.kept_opted_out == 2
    warnings = [line for line in said if "opted out" in line]
    assert warnings == [
        "warning: 2 line(s) set marketing_consent or consent_at for customers who opted out: "
        "left unchanged (only the customer can opt back in)"
    ]


async def test_trailing_blank_header_columns_are_ignored(app: App, tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_text("customer_id,name,branch,channels,,\nD1,甲,SH01,sms,,\nD2,乙,SH01,sms,,x\n"
                    "D3,丙,SH01,sms\n", encoding="utf-8")
    report = await run(app, path)
    assert (report.errors, report.created) == ([], 3)


async def test_blank_header_cell_in_the_middle_names_its_column(app: App, tmp_path: Path) -> None:
    path = tmp_path / "gap.csv"
    path.write_text("customer_id,name,,branch\nD1,甲,,SH01\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match=r"^line 1: column\(s\) 3 have no name$"):
        await run(app, path)
