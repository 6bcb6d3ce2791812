"""Working days from the State Council notices, the library estimate, and the operator table."""

from __future__ import annotations

from datetime import date, timedelta

import holidays
import pytest

from bot.calendars import HolidaysChinaSource, build_working_calendar, official_years
from bot.domain.calendar import OperatorTable, WorkingCalendar, YearArrangement


def _days(start: date, end: date) -> set[date]:
    return {start + timedelta(days=i) for i in range((end - start).days + 1)}


# 国务院办公厅关于2026年部分节假日安排的通知 (days off, and weekend days that are workdays).
NOTICE_2026_OFF = (
    _days(date(2026, 1, 1), date(2026, 1, 3))
    | _days(date(2026, 2, 15), date(2026, 2, 23))
    | _days(date(2026, 4, 4), date(2026, 4, 6))
    | _days(date(2026, 5, 1), date(2026, 5, 5))
    | _days(date(2026, 6, 19), date(2026, 6, 21))
    | _days(date(2026, 9, 25), date(2026, 9, 27))
    | _days(date(2026, 10, 1), date(2026, 10, 7))
)
NOTICE_2026_WORK = {
    date(2026, 1, 4),
    date(2026, 2, 14),
    date(2026, 2, 28),
    date(2026, 5, 9),
    date(2026, 9, 20),
    date(2026, 10, 10),
}


def test_2026_matches_the_state_council_notice_day_by_day(cal: WorkingCalendar) -> None:
    assert not cal.is_estimated(2026)
    for day in _days(date(2026, 1, 1), date(2026, 12, 31)):
        expected = day in NOTICE_2026_WORK or (day.weekday() < 5 and day not in NOTICE_2026_OFF)
        assert cal.is_working_day(day) is expected, day


def test_2026_spring_festival_and_its_make_up_saturdays(cal: WorkingCalendar) -> None:
    assert cal.is_working_day(date(2026, 2, 14))  # Saturday, 调休上班
    assert cal.is_working_day(date(2026, 2, 28))  # Saturday, 调休上班
    assert not any(cal.is_working_day(d) for d in _days(date(2026, 2, 15), date(2026, 2, 23)))
    assert cal.next_working_day(date(2026, 2, 13)) == date(2026, 2, 14)
    assert cal.next_working_day(date(2026, 2, 14)) == date(2026, 2, 24)
    assert cal.add_working_days(date(2026, 2, 24), -1) == date(2026, 2, 14)


def test_official_years_come_from_the_library_notice_table() -> None:
    assert 2026 in official_years()
    # When a holidays release adds the 2027 notice this flips: then move the estimate tests on.
    assert 2027 not in official_years()
    assert HolidaysChinaSource().arrangement(1949) is None  # the library starts in 1950


def test_2027_is_estimated_but_keeps_the_statutory_holidays(cal: WorkingCalendar) -> None:
    assert cal.is_estimated(2027)
    for statutory in (
        date(2027, 1, 1),
        date(2027, 2, 5),
        date(2027, 2, 8),
        date(2027, 6, 9),
        date(2027, 9, 15),
        date(2027, 10, 1),
    ):
        assert not cal.is_working_day(statutory), statutory
    assert cal.is_working_day(date(2027, 3, 10))  # an ordinary Wednesday
    assert not cal.is_working_day(date(2027, 3, 14))  # an ordinary Sunday
    assert cal.arrangement(2027).workdays == frozenset()  # no make-up days are guessed


def test_2035_is_estimated_and_rests_on_spring_festival(cal: WorkingCalendar) -> None:
    assert cal.is_estimated(2035)
    named = holidays.China(years=2035, language="en_US").get_named("Spring Festival")
    assert named and not any(cal.is_working_day(d) for d in named)


def test_one_warning_per_estimated_year() -> None:
    seen: list[str] = []
    cal = build_working_calendar(on_warning=seen.append)
    for year in (2026, 2027, 2028, 2027, 2028):
        for day in _days(date(year, 1, 1), date(year, 1, 31)):
            cal.is_working_day(day)
    cal.add_working_days(date(2027, 12, 30), 5)
    assert seen == cal.warnings
    assert len(seen) == 2
    assert "calendar 2027 is estimated; import the official arrangement" in seen[0]
    assert "calendar 2028 is estimated" in seen[1] and "2028 年" in seen[1]


def test_operator_table_wins_for_the_years_it_has() -> None:
    seen: list[str] = []
    rows = {date(2028, 1, 3): False, date(2028, 1, 8): True, date(2026, 3, 2): False}
    cal = build_working_calendar(rows, on_warning=seen.append)
    assert not cal.is_working_day(date(2028, 1, 3))  # Monday off by the table
    assert cal.is_working_day(date(2028, 1, 8))  # Saturday worked by the table
    assert cal.is_working_day(date(2028, 1, 4))  # unlisted weekday
    # 2026 is the operator's year now: only its rows and the Mon–Fri rule apply.
    assert not cal.is_working_day(date(2026, 3, 2))
    assert cal.is_working_day(date(2026, 2, 16))
    assert not cal.is_estimated(2028) and cal.arrangement(2028).source == "operator"
    assert seen == []


def test_without_sources_weekends_only_and_estimated() -> None:
    cal = WorkingCalendar()
    assert cal.is_working_day(date(2030, 10, 1)) and not cal.is_working_day(date(2030, 10, 5))
    assert cal.is_estimated(2030) and len(cal.warnings) == 1
    assert OperatorTable({}).arrangement(2030) is None


@pytest.mark.parametrize("year", [1901, 1949, 1950, 2000, 2099])
def test_edge_years_answer(cal: WorkingCalendar, year: int) -> None:
    first = cal.next_working_day(date(year, 1, 1))
    assert first.year == year and cal.is_working_day(first)
    assert cal.add_working_days(first, -1) < first


def test_every_year_1901_to_2099_answers(cal: WorkingCalendar) -> None:
    for year in range(1901, 2100):
        assert cal.add_working_days(date(year, 12, 31), 1) > date(year, 12, 31)


def test_add_working_days_and_between_agree(cal: WorkingCalendar) -> None:
    start = date(2026, 9, 30)  # Wednesday before Golden Week
    assert cal.add_working_days(start, 0) == start
    assert cal.add_working_days(start, 1) == date(2026, 10, 8)
    assert cal.add_working_days(start, 3) == date(2026, 10, 10)  # make-up Saturday
    assert cal.add_working_days(date(2026, 10, 8), -1) == start
    assert cal.working_days_between(start, date(2026, 10, 7)) == 0
    assert cal.working_days_between(start, date(2026, 10, 12)) == 4
    assert cal.working_days_between(date(2026, 10, 12), start) == -4
    for n in range(-12, 13):
        assert cal.working_days_between(start, cal.add_working_days(start, n)) == n


class _NothingWorks:
    """A broken source: every day of every year off."""

    def arrangement(self, year: int) -> YearArrangement:
        days = _days(date(year, 1, 1), date(year, 12, 31))
        return YearArrangement(year, frozenset(days), frozenset(), "broken", False)


def test_a_calendar_without_working_days_refuses_instead_of_looping() -> None:
    cal = WorkingCalendar([_NothingWorks()])
    with pytest.raises(ValueError, match="no working day"):
        cal.add_working_days(date(2031, 1, 1), 1)
