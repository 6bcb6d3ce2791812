"""Library-backed calendar facts (``holidays``, ``lunardate``) behind the domain's seams.

``bot.domain`` stays standard-library only; this package adapts the libraries to
``bot.domain.calendar.DaySource`` and ``bot.domain.festivals.LunarToSolar``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date

from bot.calendars.china import HolidaysChinaSource, official_years
from bot.calendars.lunar import lunar_to_solar
from bot.domain.calendar import OperatorTable, WorkingCalendar

__all__ = [
    "HolidaysChinaSource",
    "build_working_calendar",
    "lunar_to_solar",
    "official_years",
]


def build_working_calendar(
    operator_rows: Mapping[date, bool] | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> WorkingCalendar:
    """The production calendar: operator table, then holidays.China, then weekends."""
    return WorkingCalendar(
        [OperatorTable(operator_rows or {}), HolidaysChinaSource()], on_warning=on_warning
    )
