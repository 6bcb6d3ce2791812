"""`import customers` with hostile files: a NUL in a cell, a header of 100,000 columns,
formula-looking names. Each is a line error or a short warning; the good lines import."""

from __future__ import annotations

import time
from pathlib import Path

from typer.testing import CliRunner

from bot.bootstrap import App
from bot.cli import app as cli
from tests.integration.foundation.test_import import customers, run


def test_cli_a_nul_in_a_cell_is_a_line_error_and_the_rest_imports(
        cli_env: dict[str, str], tmp_path: Path) -> None:
    """PostgreSQL refuses NUL in text: it used to abort the whole import with a traceback,
    good lines included; SQLite stored it inside a customer_id."""
    path = tmp_path / "nul.csv"
    path.write_text("customer_id,name,branch,sales_rep\n"
                    "N1,甲,SH01,\n"
                    "N\x002,乙,SH01,\n"
                    "N3,丙,SH01,rep\x00x\n"
                    "N4,丁,SH01,\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["import", "customers", str(path)])
    assert result.exit_code == 1, result.output
    assert "line 3, column customer_id: contains a NUL character" in result.output
    assert "line 4, column sales_rep: contains a NUL character" in result.output
    assert "created 2" in result.output and "Traceback" not in result.output
    shown = CliRunner().invoke(cli, ["customer", "N4", "--json"])
    assert shown.exit_code == 0 and '"N4"' in shown.output


async def test_a_nul_in_a_cell_is_never_stored(app: App, tmp_path: Path) -> None:
    path = tmp_path / "nul.csv"
    path.write_text("customer_id,name,branch\nN1,甲,SH01\nN\x002,乙,SH01\nN3,丙\x00,SH01\n",
                    encoding="utf-8")
    report = await run(app, path)
    assert report.errors == ["line 3, column customer_id: contains a NUL character",
                             "line 4, column name: contains a NUL character"]
    assert set(await customers(app)) == {"N1"}


async def test_a_header_of_100000_columns_is_read_quickly_with_a_short_warning(
        app: App, tmp_path: Path) -> None:
    """The header check was quadratic (109 s) and named every unknown column (789 KB)."""
    extra = [f"x{i}" for i in range(100_000)]
    path = tmp_path / "wide.csv"
    blanks = "," * len(extra)
    path.write_text("customer_id,name,branch," + ",".join(extra) + "\n"
                    f"W1,甲,SH01{blanks}\n", encoding="utf-8")
    said: list[str] = []
    started = time.monotonic()
    report = await run(app, path, said)
    assert time.monotonic() - started < 10
    [warning] = [line for line in said if "unknown column" in line]
    assert warning == ("warning: unknown column(s) ignored: x0, x1, x2, x3, x4, x5, x6, x7, "
                       "x8, x9 and 99990 more")
    assert (report.created, report.errors) == (1, [])


async def test_a_header_naming_columns_twice_lists_a_few(app: App, tmp_path: Path) -> None:
    twice = [f"d{i}" for i in range(50_000)] * 2
    path = tmp_path / "twice.csv"
    path.write_text("customer_id,name,branch," + ",".join(twice) + "\n", encoding="utf-8")
    started = time.monotonic()
    try:
        await run(app, path)
    except Exception as exc:
        message = str(exc)
    assert time.monotonic() - started < 10
    assert message.startswith("line 1: column(s) named twice: d0, d1, d10, d100, ")
    assert message.endswith(" and 49990 more") and len(message) < 200


async def test_formula_looking_names_import_as_given(app: App, tmp_path: Path) -> None:
    """A name starting with = + - is the customer's data, kept as written (the bot exports
    no spreadsheet, so nothing evaluates it). `@` stays refused by the older rule that a
    name holds no `<>@` (an email address pasted into the name column)."""
    path = tmp_path / "formula.csv"
    path.write_text("customer_id,name,branch\n"
                    'F1,=HYPERLINK("x"),SH01\nF2,+Lee,SH01\nF3,-Wang,SH01\nF4,@Zhang,SH01\n',
                    encoding="utf-8")
    report = await run(app, path)
    assert report.errors == ["line 5, column name: unexpected character '@' in the name"]
    names = {cid: c.name for cid, c in (await customers(app)).items()}
    assert names == {"F1": '=HYPERLINK("x")', "F2": "+Lee", "F3": "-Wang"}
