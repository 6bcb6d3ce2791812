"""The Chinese working-day calendar: due dates, deadlines and SLAs count in it.

Day facts come from sources asked in order; the first that knows a year wins
(DOMAIN.md "Calendar"): the operator's imported State Council table, then a
library arrangement (``bot.calendars``), then weekends only. A year answered by
an estimate raises exactly one warning, so operators know to import the notice.
Standard library only: library-backed sources plug in through ``DaySource``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import NamedTuple, Protocol
from zoneinfo import ZoneInfo

SATURDAY = 5
MAX_SCAN_DAYS = 3660  # a run of ten years without a working day is a broken table


class TimeWindow(NamedTuple):
    """A same-day clock window, start inclusive and end exclusive."""

    start: time
    end: time


DEFAULT_WORKING_HOURS = TimeWindow(time(9, 0), time(17, 30))


@dataclass(frozen=True)
class YearArrangement:
    """One year's departures from the Mon–Fri rule, as a source knows them."""

    year: int
    days_off: frozenset[date]  # holidays, including weekdays given off by 调休
    workdays: frozenset[date]  # weekend make-up workdays (调休上班)
    source: str
    estimated: bool

    def is_working_day(self, day: date) -> bool:
        """Mon–Fri work unless listed off; weekends rest unless listed as make-up days."""
        if day in self.workdays:
            return True
        if day in self.days_off:
            return False
        return day.weekday() < SATURDAY


class DaySource(Protocol):
    """Anything that may know a year's official or estimated arrangement."""

    def arrangement(self, year: int) -> YearArrangement | None:
        """The year's arrangement, or None when this source does not know it."""
        ...


class OperatorTable:
    """The table an operator imported from the State Council notice (date → working).

    A year is known as soon as the table has any row in it; days the notice does
    not list follow the Mon–Fri rule.
    """

    name = "operator"

    def __init__(self, rows: Mapping[date, bool]) -> None:
        self._by_year: dict[int, dict[date, bool]] = {}
        for day, working in rows.items():
            self._by_year.setdefault(day.year, {})[day] = bool(working)

    def years(self) -> list[int]:
        """Years the operator has imported."""
        return sorted(self._by_year)

    def arrangement(self, year: int) -> YearArrangement | None:
        """The imported year as an official arrangement, None if no row for it."""
        rows = self._by_year.get(year)
        if rows is None:
            return None
        return YearArrangement(
            year=year,
            days_off=frozenset(d for d, working in rows.items() if not working),
            workdays=frozenset(d for d, working in rows.items() if working),
            source=self.name,
            estimated=False,
        )


def estimate_warning(year: int) -> str:
    """The one warning an estimated year raises (English, then Chinese)."""
    return (
        f"calendar {year} is estimated; import the official arrangement "
        f"({year} 年工作日历为推算，请导入国务院办公厅放假安排: outreach calendar import)"
    )


class WorkingCalendar:
    """Working days and working time over every year, from the first source that knows it.

    Immutable once built: after an operator import, build a new one.
    """

    def __init__(
        self,
        sources: Iterable[DaySource] = (),
        on_warning: Callable[[str], None] | None = None,
    ) -> None:
        self._sources = tuple(sources)
        self._on_warning = on_warning
        self._years: dict[int, YearArrangement] = {}
        self.warnings: list[str] = []

    # -- day facts ---------------------------------------------------------
    def arrangement(self, year: int) -> YearArrangement:
        """The arrangement used for ``year``; warns once if it is an estimate."""
        found = self._years.get(year)
        if found is not None:
            return found
        for source in self._sources:
            found = source.arrangement(year)
            if found is not None:
                break
        else:
            found = YearArrangement(year, frozenset(), frozenset(), "weekends", True)
        self._years[year] = found
        if found.estimated:
            message = estimate_warning(year)
            self.warnings.append(message)
            if self._on_warning is not None:
                self._on_warning(message)
        return found

    def is_estimated(self, year: int) -> bool:
        """Whether ``year`` rests on an estimate rather than an official notice."""
        return self.arrangement(year).estimated

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` is a working day under the statutory calendar."""
        return self.arrangement(day.year).is_working_day(day)

    def add_working_days(self, day: date, n: int) -> date:
        """The n-th working day after ``day`` (before it if n < 0); n = 0 returns ``day``."""
        step = timedelta(days=1 if n > 0 else -1)
        remaining, scanned = abs(n), 0
        while remaining:
            day += step
            scanned += 1
            if scanned > MAX_SCAN_DAYS:
                raise ValueError(f"no working day within {MAX_SCAN_DAYS} days of {day}")
            if self.is_working_day(day):
                remaining -= 1
        return day

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        return self.add_working_days(day, 1)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days d with start < d <= end (negative when end is before start).

        Chosen so that ``add_working_days(start, n)`` lands on ``end`` for a working ``end``.
        """
        if end < start:
            return -self.working_days_between(end, start)
        return sum(
            1
            for i in range(1, (end - start).days + 1)
            if self.is_working_day(start + timedelta(days=i))
        )

    # -- working time ------------------------------------------------------
    def add_working_hours(
        self,
        start: datetime,
        hours: float,
        tz: str | ZoneInfo,
        working_hours: tuple[time, time] = DEFAULT_WORKING_HOURS,
    ) -> datetime:
        """Deadline after ``hours`` of working time (SLAs such as P1 = 4 working hours).

        Only time inside ``working_hours`` on working days counts; a start outside
        them begins at the next opening. Ending exactly at closing time stays on
        that day. The result is aware, in ``tz``.
        """
        if hours < 0:
            raise ValueError("hours must not be negative")
        zone = _zone(tz)
        opening, closing = _check_hours(working_hours)
        local = _aware(start).astimezone(zone)
        remaining = timedelta(hours=hours)
        day, clock = local.date(), local.time().replace(tzinfo=None)
        if not self.is_working_day(day) or clock >= closing:
            day, clock = self.next_working_day(day), opening
        clock = max(clock, opening)
        while True:
            left_today = _span(clock, closing)
            if remaining <= left_today:
                wall = datetime.combine(day, clock) + remaining
                return wall.replace(tzinfo=zone)
            remaining -= left_today
            day, clock = self.next_working_day(day), opening

    def add_working_day_time(
        self,
        start: datetime,
        days: float,
        tz: str | ZoneInfo,
        working_hours: tuple[time, time] = DEFAULT_WORKING_HOURS,
    ) -> datetime:
        """Deadline after ``days`` full working days of working time (P2 = 1 working day).

        Convention: one working day is the length of the working hours (8.5 h by
        default). Inside hours this is the next working day at the same clock
        time; a start after hours or on a day off ends at the next working day's
        closing time.
        """
        opening, closing = _check_hours(working_hours)
        length = _span(opening, closing)
        return self.add_working_hours(
            start, days * length / timedelta(hours=1), tz, (opening, closing)
        )

    def end_of_working_day(
        self,
        day: date,
        tz: str | ZoneInfo,
        working_hours: tuple[time, time] = DEFAULT_WORKING_HOURS,
    ) -> datetime:
        """Closing time of ``day``: turns a date-valued SLA into an aware deadline."""
        _, closing = _check_hours(working_hours)
        return datetime.combine(day, closing).replace(tzinfo=_zone(tz))


def add_wall_clock_hours(start: datetime, hours: float) -> datetime:
    """Wall-clock deadline (the not_me P0 SLA ignores working hours)."""
    return _aware(start) + timedelta(hours=hours)


def _zone(tz: str | ZoneInfo) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("an aware datetime is required (naive times are ambiguous)")
    return moment


def _span(a: time, b: time) -> timedelta:
    anchor = date(2000, 1, 1)
    return datetime.combine(anchor, b) - datetime.combine(anchor, a)


def _check_hours(working_hours: tuple[time, time]) -> tuple[time, time]:
    opening, closing = working_hours
    if opening.tzinfo is not None or closing.tzinfo is not None:
        raise ValueError("working hours are local clock times without tzinfo")
    if not opening < closing:
        raise ValueError(f"working hours must open before they close: {opening}-{closing}")
    return opening, closing
