"""The working calendar and branch festivals as the database holds them, for every package.

The operator's imported working-day table comes first, then the library (`bot.calendars`);
a branch's festival switches and own festivals are JSON on its row.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.calendars import build_working_calendar
from bot.db.models import CalendarDay
from bot.domain.calendar import WorkingCalendar
from bot.domain.festivals import Festival, branch_festivals, lunar_festival, solar_festival


def festivals_from_json(raw: str | None) -> tuple[tuple[Festival, ...], dict[str, object]]:
    """A branch's festival settings: on/off switches and its own festivals."""
    data: dict[str, object] = json.loads(raw) if raw else {}
    switches = dict(data.get("switches", {}))  # type: ignore[call-overload]
    custom = []
    for item in data.get("custom", []):  # type: ignore[attr-defined]
        if item.get("lunar"):
            month, day = (int(x) for x in item["lunar"].split("-"))
            custom.append(lunar_festival(item["code"], item["name_zh"], item["name_en"], month, day,
                                         enabled=item.get("enabled", True)))
        else:
            custom.append(solar_festival(item["code"], item["name_zh"], item["name_en"],
                                         item["solar"], enabled=item.get("enabled", True)))
    return branch_festivals(switches, custom), data


async def load_calendar(
    session: AsyncSession, on_warning: Callable[[str], None] | None = None
) -> WorkingCalendar:
    """The working-day calendar: the operator's imported table first, then the library."""
    rows = (await session.exec(select(CalendarDay))).all()
    return build_working_calendar({r.day: r.working for r in rows}, on_warning=on_warning)
