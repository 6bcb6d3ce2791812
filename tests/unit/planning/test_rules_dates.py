"""Due dates, reply deadlines, SLAs and dedupe keys of birthday, new_account and dormancy."""

from __future__ import annotations

from datetime import date

from bot.domain.calendar import WorkingCalendar
from bot.domain.kinds import NEW_ACCOUNT_KEY
from bot.domain.rules import (
    TouchDates,
    birthday_greeting_date,
    birthday_key,
    dormancy_episode,
    dormancy_skipped_backfill,
    holiday_key,
    new_account_dates,
)


def test_birthday_on_the_day_and_29_february() -> None:
    assert birthday_greeting_date(date(1985, 7, 15), 2026) == date(2026, 7, 15)
    assert birthday_greeting_date(date(1992, 2, 29), 2027) == date(2027, 2, 28)
    assert birthday_greeting_date(date(1992, 2, 29), 2028) == date(2028, 2, 29)
    assert birthday_greeting_date(date(1992, 2, 29), 2100) == date(2100, 2, 28)  # not leap


def test_dedupe_keys() -> None:
    assert birthday_key(2027) == "birthday:2027"
    assert holiday_key("mid_autumn", 2027) == "holiday:mid_autumn:2027"
    assert NEW_ACCOUNT_KEY == "new_account"


def test_new_account_in_an_ordinary_week(cal: WorkingCalendar) -> None:
    # Opened Friday 2026-03-06: due Monday, reply by Wednesday, SLA the next Friday.
    assert new_account_dates(date(2026, 3, 6), cal) == TouchDates(
        due_on=date(2026, 3, 9), reply_by=date(2026, 3, 11), sla_on=date(2026, 3, 13)
    )
    # Opened on a Saturday: still the first working day after.
    assert new_account_dates(date(2026, 3, 7), cal).due_on == date(2026, 3, 9)


def test_new_account_before_spring_festival(cal: WorkingCalendar) -> None:
    # Opened Friday 2026-02-13: the make-up Saturday 02-14 is the next working day,
    # then 02-15..02-23 are off.
    assert new_account_dates(date(2026, 2, 13), cal) == TouchDates(
        due_on=date(2026, 2, 14), reply_by=date(2026, 2, 25), sla_on=date(2026, 2, 27)
    )


def test_dormancy_crossing_on_the_friday_before_golden_week(cal: WorkingCalendar) -> None:
    # 180 days after 2026-03-29 is Friday 2026-09-25, itself 中秋 (off).
    ep = dormancy_episode(date(2020, 1, 6), date(2026, 3, 29), cal)
    assert ep is not None
    assert ep.crossing_on == date(2026, 9, 25)
    assert ep.dates.due_on == date(2026, 9, 28)
    assert ep.dates.reply_by == date(2026, 9, 30)
    # 7 working days: 09-28, 09-29, 09-30, 10-08, 10-09, 10-10 (make-up Sat), 10-12.
    assert ep.dates.sla_on == date(2026, 10, 12)
    assert ep.dedupe_key == "dormancy:2026-03-29"


def test_dormancy_uses_opening_when_never_traded(cal: WorkingCalendar) -> None:
    ep = dormancy_episode(date(2026, 1, 5), None, cal)
    assert ep is not None and ep.last_activity == date(2026, 1, 5)
    assert ep.crossing_on == date(2026, 7, 4)  # Saturday
    assert ep.dates.due_on == date(2026, 7, 6)
    assert dormancy_episode(None, None, cal) is None


def test_dormancy_backfill_only_on_the_first_run() -> None:
    run = date(2026, 6, 30)
    assert not dormancy_skipped_backfill(date(2026, 5, 31), run, first_run=True)  # 30 days: touch
    assert dormancy_skipped_backfill(date(2026, 5, 30), run, first_run=True)  # 31 days: skip
    assert not dormancy_skipped_backfill(date(2025, 1, 1), run, first_run=False)
    assert dormancy_skipped_backfill(date(2026, 6, 20), run, first_run=True, backfill_days=5)
