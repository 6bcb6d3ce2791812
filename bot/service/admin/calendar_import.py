"""`outreach calendar import`: the State Council arrangement as `date,working` lines."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import CalendarDay, table, utcnow
from bot.service.customers.csv_encoding import detect

_TRUE = {"1", "true", "yes", "y", "working", "上班", "班"}
_FALSE = {"0", "false", "no", "n", "off", "holiday", "休", "休息"}


@dataclass
class CalendarReport:
    """Days stored per year, and the bad lines."""

    years: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def read_calendar(path: Path) -> tuple[dict[date, bool], list[str]]:
    """Parse the file; each bad line is named and skipped."""
    facts = detect(path)
    rows: dict[date, bool] = {}
    errors: list[str] = []
    with path.open(encoding=facts.encoding, newline="") as handle:
        reader = csv.reader(handle)
        for cells in reader:
            line = reader.line_num
            if not cells or not "".join(cells).strip():
                continue
            if line == 1 and cells[0].strip().lower() == "date":
                continue
            if len(cells) != 2:
                errors.append(f"line {line}: expected date,working")
                continue
            raw_day, raw_working = cells[0].strip(), cells[1].strip().lower()
            try:
                day = date.fromisoformat(raw_day)
            except ValueError:
                errors.append(f"line {line}, column date: {raw_day!r} is not YYYY-MM-DD")
                continue
            if raw_working not in _TRUE | _FALSE:
                errors.append(f"line {line}, column working: {raw_working!r} is not 1/0 or true/false")
                continue
            rows[day] = raw_working in _TRUE
    return rows, errors


async def store_calendar(session: AsyncSession, rows: dict[date, bool]) -> dict[int, int]:
    """Replace the stored table for every year the file mentions (the notice covers whole years)."""
    years = sorted({d.year for d in rows})
    days = table(CalendarDay)
    for year in years:
        await session.exec(sa.delete(days).where(  # type: ignore[call-overload]
            days.c.day >= date(year, 1, 1), days.c.day <= date(year, 12, 31)))
    now = utcnow()
    for day, working in sorted(rows.items()):
        session.add(CalendarDay(day=day, working=working, imported_at=now))
    return {y: sum(1 for d in rows if d.year == y) for y in years}
