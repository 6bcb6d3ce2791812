"""``holidays.China`` as a day source: official arrangements where it has them.

holidays 0.109 keeps each State Council notice as a year's entry in
``ChinaStaticHolidays.special_public_holidays`` (the substituted days off and
their make-up workdays); for any other year it still computes the statutory
holidays with a weekend-to-next-workday rule and no make-up days. We treat the
first as official and the second as an estimate. It knows nothing before 1950.
"""

from __future__ import annotations

from functools import cache

import holidays
from holidays.countries import china as _china

from bot.domain.calendar import YearArrangement

SOURCE_NAME = "holidays.China"


@cache
def official_years() -> frozenset[int]:
    """Years for which the installed holidays release carries the official notice."""
    static = getattr(_china, "ChinaStaticHolidays", None)
    table = getattr(static, "special_public_holidays", None)
    # A library reshuffle must degrade to "everything estimated", never to a crash.
    return frozenset(table) if isinstance(table, dict) else frozenset()


class HolidaysChinaSource:
    """Official arrangement or the library's estimate for 1950 onwards; None before."""

    name = SOURCE_NAME

    def arrangement(self, year: int) -> YearArrangement | None:
        """The year's holidays and make-up workdays as holidays.China computes them."""
        if year < holidays.China.start_year:
            return None
        table = holidays.China(years=year)
        days_off = frozenset(d for d in table if d.year == year)
        # weekend_workdays also holds stray dates of other years: keep this year's only.
        workdays = frozenset(d for d in table.weekend_workdays if d.year == year)
        official = year in official_years()
        return YearArrangement(
            year=year,
            days_off=days_off,
            workdays=workdays,
            source=SOURCE_NAME if official else f"{SOURCE_NAME} (estimate)",
            estimated=not official,
        )
