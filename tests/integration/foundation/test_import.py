"""`import customers`: encodings, per-line errors, upsert semantics and scale."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import col, func, select

from bot.bootstrap import App
from bot.db.models import Branch, ConsentChange, Customer, Event, utcnow
from bot.service.customers.csv_encoding import EncodingError
from bot.service.customers.csv_reader import ImportFileError
from bot.service.customers.importer import ImportReport, import_customers
from tests.integration.foundation.csvfiles import HEADER, person, write_csv


async def run(app: App, path: Path, said: list[str] | None = None) -> ImportReport:
    return await import_customers(app.engine, path, app.settings,
                                  say=(said.append if said is not None else lambda _: None))


async def customers(app: App) -> dict[str, Customer]:
    async with app.sessions() as s:
        return {c.id: c for c in (await s.exec(select(Customer))).all()}


async def count(app: App, model: type) -> int:
    async with app.sessions() as s:
        return (await s.exec(select(func.count()).select_from(model))).one()


async def test_utf8_with_bom_reads_the_first_column(app: App, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bom.csv", [person(1, name="欧阳晓燕")], encoding="utf-8-sig")
    report = await run(app, path)
    assert (report.encoding, report.created, report.error_count) == ("utf-8-sig", 1, 0)
    assert (await customers(app))["C000001"].name == "欧阳晓燕"


async def test_gb18030_detected_from_a_byte_deep_in_the_file(app: App, tmp_path: Path) -> None:
    rows = [person(i) for i in range(1, 3001)]  # ~250 KB of pure ASCII first
    rows.append(person(3001, name="阿依古丽·买买提江"))
    path = write_csv(tmp_path / "excel.csv", rows, encoding="gb18030")
    assert path.read_bytes()[:200_000].isascii()
    report = await run(app, path)
    assert report.encoding == "gb18030"
    assert report.created == 3001
    assert (await customers(app))["C003001"].name == "阿依古丽·买买提江"


async def test_a_file_in_neither_encoding_imports_nothing(app: App, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(b"customer_id,name,branch\n" + b"C1,\xff\xfe\xff,SH01\n")
    with pytest.raises(EncodingError, match="not UTF-8"):
        await run(app, path)
    assert await count(app, Customer) == 0


async def test_missing_required_column_is_a_file_error(app: App, tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("customer_id,name\nC1,张三\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="branch"):
        await run(app, path)


async def test_bad_lines_are_named_and_skipped_whole(app: App, tmp_path: Path) -> None:
    rows = [person(1), person(2, phone="12345"), person(3, birthday="1990-13-01"),
            person(4, opened_on="1970-01-01"), person(5)]
    said: list[str] = []
    report = await run(app, write_csv(tmp_path / "c.csv", rows), said)
    assert report.error_count == 3
    assert report.errors[0].startswith("line 3, column phone:")
    assert report.errors[1].startswith("line 4, column birthday:")
    assert report.errors[2].startswith("line 5, column opened_on:")
    assert "before the birthday" in report.errors[2]
    assert set(await customers(app)) == {"C000001", "C000005"}
    assert report.errors[0] in said


async def test_field_count_mismatch_is_a_line_error(app: App, tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text("customer_id,name,branch\nC1,张三,SH01\nC2,李四\nC3,王五,SH01\n",
                    encoding="utf-8")
    report = await run(app, path)
    assert report.errors == ["line 3: 2 fields, the header has 3"]
    assert report.created == 2


async def test_rerun_changes_nothing(app: App, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", [person(i) for i in range(1, 21)])
    first = await run(app, path)
    events_after_first = await count(app, Event)
    second = await run(app, path)
    assert (first.created, second.created, second.updated, second.unchanged) == (20, 0, 0, 20)
    assert await count(app, Event) == events_after_first


async def test_empty_keeps_and_dash_clears(app: App, tmp_path: Path) -> None:
    await run(app, write_csv(tmp_path / "a.csv", [person(1), person(2)]))
    update = [person(1, phone="", email="", tier="gold"), person(2, phone="-", email="-")]
    report = await run(app, write_csv(tmp_path / "b.csv", update))
    assert report.updated == 2
    stored = await customers(app)
    assert stored["C000001"].phone == "+8613100000001"
    assert stored["C000001"].email == "c1@example.com"
    assert stored["C000001"].tier == "gold"
    assert stored["C000002"].phone is None and stored["C000002"].email is None


async def test_a_dash_never_brings_a_deceased_customer_back(app: App, tmp_path: Path) -> None:
    """`-` clears to the default, which for status would be `active`: refused, line named."""
    header = [*HEADER, "status"]
    await run(app, write_csv(tmp_path / "a.csv", [person(1, status="deceased")], header=header))
    report = await run(app, write_csv(tmp_path / "b.csv", [person(1, status="-")], header=header))
    assert report.errors[0].startswith("line 2, column status: cannot be cleared with '-'")
    assert (await customers(app))["C000001"].status == "deceased"


async def test_repeated_id_is_an_error_on_the_later_line(app: App, tmp_path: Path) -> None:
    rows = [person(i) for i in range(1, 1601)]
    rows.append(person(7, name="Repeat"))  # line 1602, in a later batch than line 8
    rows.insert(3, person(2, name="Twice"))  # line 5 repeats line 3 within one batch
    report = await run(app, write_csv(tmp_path / "d.csv", rows))
    assert report.errors == [
        "line 5, column customer_id: C000002 already appears on line 3",
        "line 1603, column customer_id: C000007 already appears on line 9",
    ]
    stored = await customers(app)
    assert stored["C000002"].name == "Li Lei" and stored["C000007"].name == "Li Lei"


async def test_unknown_branch_created_once_and_unknown_rep_warned(
    app: App, tmp_path: Path
) -> None:
    rows = [person(i, branch="GZ09", sales_rep="nobody") for i in range(1, 4)]
    said: list[str] = []
    report = await run(app, write_csv(tmp_path / "e.csv", rows), said)
    assert report.created == 3
    assert sum("branch GZ09 did not exist" in line for line in said) == 1
    assert sum("sales_rep nobody" in line for line in said) == 1
    async with app.sessions() as s:
        branch = await s.get(Branch, "GZ09")
    assert branch is not None and branch.send_window == "09:00-20:00"


async def test_learned_opt_out_is_never_overwritten(app: App, tmp_path: Path) -> None:
    await run(app, write_csv(tmp_path / "a.csv", [person(1, marketing_consent="no")]))
    async with app.sessions() as s:
        customer = await s.get(Customer, "C000001")
        assert customer is not None
        customer.opted_out_at = utcnow()
        s.add(customer)
        await s.commit()
    report = await run(app, write_csv(tmp_path / "b.csv", [person(1, marketing_consent="yes")]))
    assert report.kept_learned == 1
    assert (await customers(app))["C000001"].marketing_consent is False


async def test_consent_changes_are_recorded(app: App, tmp_path: Path) -> None:
    await run(app, write_csv(tmp_path / "a.csv", [person(1, marketing_consent="yes")]))
    await run(app, write_csv(tmp_path / "b.csv", [person(1, marketing_consent="no")]))
    async with app.sessions() as s:
        changes = (await s.exec(select(ConsentChange).order_by(col(ConsentChange.id)))).all()
    assert [c.marketing for c in changes] == [True, False]
    assert {c.source for c in changes} == {"import"}


async def test_ten_thousand_lines_with_three_bad(app: App, tmp_path: Path) -> None:
    rows = [person(i) for i in range(1, 10_001)]
    rows[1233] = person(1234, email="not-an-email")
    rows[5677] = person(5678, birthday="2099-01-01")
    rows[9998] = person(9999, tier="vip")
    report = await run(app, write_csv(tmp_path / "big.csv", rows))
    assert report.imported == 9_997
    assert report.errors == [
        report.errors[0],
        "line 5679, column birthday: 2099-01-01 is in the future",
        "line 10000, column tier: 'vip' is not one of diamond|gold|standard",
    ]
    assert report.errors[0].startswith("line 1235, column email:")
    assert await count(app, Customer) == 9_997
