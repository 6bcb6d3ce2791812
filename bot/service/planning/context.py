"""What a planning run needs to know: the calendar, branch groups and the day's dates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.calendars import lunar_to_solar
from bot.db.models import Branch
from bot.domain.calendar import TimeWindow, WorkingCalendar
from bot.domain.festivals import Festival
from bot.domain.rules import parse_window, window_bounds_utc
from bot.service.calendar import festivals_from_json


@dataclass(frozen=True)
class BranchGroup:
    """Branches that share time zone, windows and festival settings: one SQL statement each."""

    codes: tuple[str, ...]
    timezone: str
    send_window: TimeWindow
    working_hours: TimeWindow
    festivals: tuple[Festival, ...]
    offset: int

    def window_utc(self, day: date) -> tuple[datetime, datetime]:
        """Start and end of the send window on a local day, in UTC."""
        return window_bounds_utc(day, self.send_window, self.timezone)

    def end_of_day(self, calendar: WorkingCalendar, day: date) -> datetime:
        """Deadlines end with the working hours of their day."""
        return calendar.end_of_working_day(day, self.timezone, self.working_hours)


async def load_groups(session: AsyncSession) -> list[BranchGroup]:
    """Group branches by everything that changes dates, so statements stay few."""
    grouped: dict[tuple[object, ...], list[str]] = {}
    shapes: dict[tuple[object, ...], BranchGroup] = {}
    for branch in (await session.exec(select(Branch))).all():
        key = (branch.timezone, branch.send_window, branch.working_hours,
               branch.festivals_json or "", branch.festival_offset_working_days)
        grouped.setdefault(key, []).append(branch.code)
        if key not in shapes:
            festivals, _ = festivals_from_json(branch.festivals_json)
            shapes[key] = BranchGroup((), branch.timezone, parse_window(branch.send_window),
                                      parse_window(branch.working_hours), festivals,
                                      branch.festival_offset_working_days)
    return [
        BranchGroup(tuple(sorted(codes)), *_rest(shapes[key])) for key, codes in grouped.items()
    ]


def _rest(g: BranchGroup) -> tuple[str, TimeWindow, TimeWindow, tuple[Festival, ...], int]:
    return g.timezone, g.send_window, g.working_hours, g.festivals, g.offset


@dataclass
class PlanContext:
    """One planning run: the day planned, the real today, and the rules' inputs."""

    day: date
    today: date
    now: datetime
    calendar: WorkingCalendar
    groups: list[BranchGroup]
    lunar_to_solar: Callable[[int, int, int], date] = lunar_to_solar
    warnings: list[str] = field(default_factory=list)
    # Working days a reply may take, per callback-type kind (settings); a touch that moves
    # to a later day gets its reply window from the new day.
    reply_days: dict[str, int] = field(default_factory=lambda: {"new_account": 2, "dormancy": 2})

    @property
    def past(self) -> bool:
        """A day being caught up after an outage: greetings expire, callbacks move on."""
        return self.day < self.today

    def effective_due(self) -> date:
        """Callback-type touches of a past day are due the first working day from today."""
        if not self.past:
            return self.day
        if self.calendar.is_working_day(self.today):
            return self.today
        return self.calendar.next_working_day(self.today)


def local_today(tz: str, now: datetime) -> date:
    """Today in the installation's time zone."""
    return now.astimezone(ZoneInfo(tz)).date()


def day_start(day: date, tz: str) -> datetime:
    """Local midnight of a day, aware."""
    return datetime.combine(day, time(0), ZoneInfo(tz))


def days_between(first: date, last: date) -> list[date]:
    """Every day from first to last, inclusive."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
