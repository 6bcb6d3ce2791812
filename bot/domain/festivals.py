"""Festivals a branch greets customers on, and the day each greeting goes.

Lunar festivals move every year, so dates are computed for any year through a
converter the caller supplies (``bot.calendars.lunar_to_solar``); nothing here
reads a table that runs out. 清明 is a day of mourning and is never offered.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

from bot.domain.calendar import WorkingCalendar

LunarToSolar = Callable[[int, int, int], date]
"""(lunar year, lunar month, lunar day) → solar date; ValueError if no such day."""

MAX_NAME_ZH = 10  # characters: keeps SMS within budget (templates validate with it)
MAX_NAME_EN = 40
MIN_OFFSET_WORKING_DAYS = -10  # greetings go on the day or before it, never after

_CODE = re.compile(r"[a-z][a-z0-9_]{0,31}")
_SOLAR = re.compile(r"(\d{2})-(\d{2})")
_FORBIDDEN_CODES = frozenset(
    {
        "qingming",
        "qing_ming",
        "qingming_festival",
        "tomb_sweeping",
        "tomb_sweeping_day",
        "tombsweeping",
        "ching_ming",
    }
)
_FORBIDDEN_NAMES = (
    "清明",
    "qingming",
    "qing ming",
    "ching ming",
    "tomb-sweeping",
    "tomb sweeping",
    "tombsweeping",
)


class ForbiddenFestivalError(ValueError):
    """清明 (Tomb-Sweeping Day) is a day of mourning: no greeting, ever."""


def _refuse_qingming(code: str, name_zh: str, name_en: str) -> None:
    names = f"{code} {name_zh} {name_en}".lower()
    if code.lower() in _FORBIDDEN_CODES or any(word in names for word in _FORBIDDEN_NAMES):
        raise ForbiddenFestivalError("清明 (Tomb-Sweeping Day) is a day of mourning: no greetings")


@dataclass(frozen=True)
class Festival:
    """A greeting occasion: solar (month, day) or lunar (month, day), never both."""

    code: str
    name_zh: str
    name_en: str
    solar: tuple[int, int] | None = None
    lunar: tuple[int, int] | None = None
    enabled: bool = True

    def __post_init__(self) -> None:
        _refuse_qingming(self.code, self.name_zh, self.name_en)
        if not _CODE.fullmatch(self.code):
            raise ValueError(
                f"festival code {self.code!r}: lowercase letters, digits and _, "
                "starting with a letter, at most 32 characters"
            )
        for label, name, limit in (
            ("zh", self.name_zh, MAX_NAME_ZH),
            ("en", self.name_en, MAX_NAME_EN),
        ):
            if not name.strip() or len(name) > limit:
                raise ValueError(f"festival {self.code}: {label} name must be 1–{limit} characters")
        if (self.solar is None) == (self.lunar is None):
            raise ValueError(f"festival {self.code}: give exactly one of a solar or a lunar date")
        if self.solar is not None:
            month, day = self.solar
            date(2000, month, day)  # a leap year: accepts 02-29, rejects 02-30 with ValueError
        if self.lunar is not None:
            month, day = self.lunar
            if not (1 <= month <= 12 and 1 <= day <= 30):
                raise ValueError(f"festival {self.code}: lunar month 1–12 and day 1–30")

    def name(self, locale: str = "zh-CN") -> str:
        """Display name for templates: Chinese unless the locale is English."""
        return self.name_en if locale.lower().startswith("en") else self.name_zh


def solar_festival(
    code: str, name_zh: str, name_en: str, mm_dd: str, enabled: bool = True
) -> Festival:
    """A branch festival on a fixed solar date given as "MM-DD"."""
    match = _SOLAR.fullmatch(mm_dd.strip())
    if match is None:
        raise ValueError(f"solar festival date {mm_dd!r}: expected MM-DD, e.g. 03-08")
    return Festival(code, name_zh, name_en, solar=(int(match[1]), int(match[2])), enabled=enabled)


def lunar_festival(
    code: str, name_zh: str, name_en: str, month: int, day: int, enabled: bool = True
) -> Festival:
    """A branch festival on a lunar date (day 30 means the month's last day)."""
    return Festival(code, name_zh, name_en, lunar=(month, day), enabled=enabled)


NEW_YEAR = Festival("new_year", "元旦", "New Year's Day", solar=(1, 1))
SPRING_FESTIVAL = Festival("spring_festival", "春节", "Spring Festival", lunar=(1, 1))
LABOUR_DAY = Festival("labour_day", "劳动节", "Labour Day", solar=(5, 1))
DRAGON_BOAT = Festival("dragon_boat", "端午节", "Dragon Boat Festival", lunar=(5, 5), enabled=False)
MID_AUTUMN = Festival("mid_autumn", "中秋节", "Mid-Autumn Festival", lunar=(8, 15))
NATIONAL_DAY = Festival("national_day", "国庆节", "National Day", solar=(10, 1))

BUILTIN_FESTIVALS: tuple[Festival, ...] = (
    NEW_YEAR,
    SPRING_FESTIVAL,
    LABOUR_DAY,
    DRAGON_BOAT,
    MID_AUTUMN,
    NATIONAL_DAY,
)
"""The rulebook's list (元旦, 春节, 劳动节, 中秋, 国庆 on) plus 端午, available but off."""


def branch_festivals(
    switches: Mapping[str, bool] | None = None,
    custom: Sequence[Festival] = (),
) -> tuple[Festival, ...]:
    """A branch's festival set: built-ins with its on/off switches, then its own.

    Unknown switch codes and custom codes clashing with a built-in are refused,
    so a typo cannot silently leave a festival on.
    """
    switches = dict(switches or {})
    builtin_codes = {f.code for f in BUILTIN_FESTIVALS}
    for code in switches:
        _refuse_qingming(code, "", "")
    result = [replace(f, enabled=switches.pop(f.code, f.enabled)) for f in BUILTIN_FESTIVALS]
    seen = set(builtin_codes)
    for fest in custom:
        if fest.code in seen:
            raise ValueError(f"festival code {fest.code!r} is already used")
        seen.add(fest.code)
        result.append(replace(fest, enabled=switches.pop(fest.code, fest.enabled)))
    if switches:
        raise ValueError(f"unknown festival codes: {', '.join(sorted(switches))}")
    return tuple(result)


def festival_date(festival: Festival, year: int, lunar_to_solar: LunarToSolar) -> date | None:
    """The solar date in ``year`` the festival falls on, None if it has none that year.

    A solar 02-29 falls on 02-28 in other years, like birthdays. A lunar date is
    looked up in the lunar years that can land in ``year`` (a 12th-month date of
    lunar year Y-1 falls in January/February of Y); the earliest wins. Lunar day
    30 in a 29-day month means the month's last day (so 12-30 is always 除夕).
    """
    if festival.solar is not None:
        month, day = festival.solar
        if (month, day) == (2, 29) and not _is_leap(year):
            day = 28
        return date(year, month, day)
    assert festival.lunar is not None
    month, day = festival.lunar
    found = [
        d
        for ly in (year - 1, year)
        if (d := _lunar(lunar_to_solar, ly, month, day)) is not None and d.year == year
    ]
    return min(found) if found else None


def festival_dates(
    year: int, festivals: Iterable[Festival], lunar_to_solar: LunarToSolar
) -> dict[str, date]:
    """Code → festival date for the enabled festivals that occur in ``year``."""
    result: dict[str, date] = {}
    for fest in festivals:
        if fest.enabled and (day := festival_date(fest, year, lunar_to_solar)) is not None:
            result[fest.code] = day
    return result


def greeting_dates(year: int, festivals: Iterable[Festival], calendar: WorkingCalendar,
                   lunar_to_solar: LunarToSolar, offset_working_days: int = 0) -> dict[str, date]:
    """Code → day the greeting goes, for the branch's enabled festivals of ``year``.

    ``offset_working_days`` 0 sends on the festival itself (a holiday is fine for a
    greeting); −1 sends on the working day before it, −n n working days before.
    Keyed by the festival's year (``holiday:<code>:<year>``) even if an offset
    moves the greeting into the previous December.
    """
    check_offset(offset_working_days)
    return {
        code: calendar.add_working_days(day, offset_working_days)
        for code, day in festival_dates(year, festivals, lunar_to_solar).items()
    }


def greetings_due_on(day: date, festivals: Sequence[Festival], calendar: WorkingCalendar,
                     lunar_to_solar: LunarToSolar, offset_working_days: int = 0) -> dict[str, int]:
    """Code → festival year of the greetings that go on ``day`` (the planner's question).

    Looks at this year's and next year's festivals, since an offset can pull a
    01-01 greeting back into December.
    """
    return {
        code: year
        for year in (day.year, day.year + 1)
        for code, when in greeting_dates(
            year, festivals, calendar, lunar_to_solar, offset_working_days
        ).items()
        if when == day
    }


def check_offset(offset_working_days: int) -> int:
    """Validate a branch's offset: greetings go on the day or before it (当日或提前)."""
    if not MIN_OFFSET_WORKING_DAYS <= offset_working_days <= 0:
        raise ValueError(
            f"offset_working_days must be between {MIN_OFFSET_WORKING_DAYS} and 0 "
            f"(0 = on the day, -1 = the working day before); got {offset_working_days}"
        )
    return offset_working_days


def longest_festival_name(
    locale: str = "zh-CN", festivals: Iterable[Festival] = BUILTIN_FESTIVALS
) -> str:
    """The longest display name, for template length checks (SMS segments)."""
    return max((f.name(locale) for f in festivals), key=len, default="")


def _lunar(convert: LunarToSolar, lunar_year: int, month: int, day: int) -> date | None:
    for candidate in (day, day - 1) if day == 30 else (day,):
        try:
            return convert(lunar_year, month, candidate)
        except ValueError:  # no such day that year, or outside the converter's range
            continue
    return None


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
