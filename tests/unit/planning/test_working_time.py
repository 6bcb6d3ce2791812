"""Working-time SLAs (P1 4 working hours, P2 1 working day) and the wall-clock P0."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.calendar import WorkingCalendar, add_wall_clock_hours

SH = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SH)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (at(2026, 3, 10, 10), at(2026, 3, 10, 14)),  # inside hours, same day
        (at(2026, 3, 10, 7), at(2026, 3, 10, 13)),  # before opening: starts at 09:00
        (at(2026, 3, 10, 13, 30), at(2026, 3, 10, 17, 30)),  # ends exactly at closing
        (at(2026, 3, 10, 15), at(2026, 3, 11, 10, 30)),  # 2.5 h today, 1.5 h tomorrow
        (at(2026, 3, 10, 19), at(2026, 3, 11, 13)),  # after closing
        (at(2026, 3, 14, 12), at(2026, 3, 16, 13)),  # Saturday → Monday
        (at(2026, 2, 13, 16), at(2026, 2, 14, 11, 30)),  # into the make-up Saturday
        (at(2026, 9, 30, 16), at(2026, 10, 8, 11, 30)),  # across Golden Week
    ],
)
def test_p1_four_working_hours(cal: WorkingCalendar, start: datetime, expected: datetime) -> None:
    assert cal.add_working_hours(start, 4, "Asia/Shanghai") == expected


def test_working_hours_accept_utc_input_and_custom_hours(cal: WorkingCalendar) -> None:
    start = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    hours = (time(8, 0), time(10, 30))
    assert cal.add_working_hours(start, 0.5, SH, hours) == at(2026, 3, 10, 10, 30)
    assert cal.add_working_hours(start, 1, SH, hours) == at(2026, 3, 11, 8, 30)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (at(2026, 3, 9, 10), at(2026, 3, 10, 10)),  # Monday 10:00 → Tuesday 10:00
        (at(2026, 3, 9, 19), at(2026, 3, 10, 17, 30)),  # after hours → end of next day
        (at(2026, 3, 14, 12), at(2026, 3, 16, 17, 30)),  # weekend → end of Monday
        (at(2026, 2, 13, 10), at(2026, 2, 14, 10)),  # Friday → make-up Saturday
        (at(2026, 9, 30, 10), at(2026, 10, 8, 10)),  # before Golden Week
    ],
)
def test_p2_one_working_day(cal: WorkingCalendar, start: datetime, expected: datetime) -> None:
    assert cal.add_working_day_time(start, 1, "Asia/Shanghai") == expected


def test_end_of_working_day_and_wall_clock(cal: WorkingCalendar) -> None:
    assert cal.end_of_working_day(date(2026, 3, 13), "Asia/Shanghai") == at(2026, 3, 13, 17, 30)
    late = at(2026, 3, 14, 23, 30)  # Saturday night: not_me runs on the wall clock
    assert add_wall_clock_hours(late, 1) == late + timedelta(hours=1)


def test_naive_and_bad_inputs_are_refused(cal: WorkingCalendar) -> None:
    naive = datetime(2026, 3, 10, 10, 0)  # noqa: DTZ001 - deliberately naive
    with pytest.raises(ValueError, match="aware"):
        cal.add_working_hours(naive, 1, "Asia/Shanghai")
    with pytest.raises(ValueError, match="aware"):
        add_wall_clock_hours(naive, 1)
    with pytest.raises(ValueError, match="open before"):
        cal.add_working_hours(at(2026, 3, 10, 10), 1, SH, (time(18), time(9)))
    with pytest.raises(ValueError, match="negative"):
        cal.add_working_hours(at(2026, 3, 10, 10), -1, SH)
