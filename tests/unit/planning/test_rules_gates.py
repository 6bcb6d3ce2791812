"""Cap, consent and status, send window, daily bundle and phone call windows."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.domain.calendar import WorkingCalendar
from bot.domain.rules import (
    BundleMember,
    ContactRecord,
    Gate,
    after_daily_message,
    build_bundle,
    gate,
    in_window,
    is_capped,
    needs_consent,
    next_call_slot,
    parse_window,
    quarter_count,
    quarter_start,
    window_bounds_utc,
)

SH = ZoneInfo("Asia/Shanghai")


def sh(month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SH)


DAY = date(2026, 6, 15)  # in Q2 2026


def rec(id_: str, kind: str, on: date, reached: bool = True, **kw: object) -> ContactRecord:
    return ContactRecord(id_, kind, on, reached, **kw)  # type: ignore[arg-type]


TWO_THIS_QUARTER = [
    rec("a", "new_account", date(2026, 4, 2)),
    rec("b", "dormancy", date(2026, 5, 6)),
]


def test_two_counted_touches_cap_dormancy_but_not_new_account() -> None:
    assert is_capped("dormancy", DAY, TWO_THIS_QUARTER)
    assert is_capped("post_trade", DAY, TWO_THIS_QUARTER)
    assert not is_capped("new_account", DAY, TWO_THIS_QUARTER)
    assert not is_capped("holiday", DAY, TWO_THIS_QUARTER)


def test_what_does_not_count() -> None:
    one = [TWO_THIS_QUARTER[0]]
    cases = [
        rec("p", "dormancy", date(2026, 3, 31)),  # previous quarter
        rec("h", "holiday", date(2026, 6, 1)),  # greetings
        rec("g", "birthday", date(2026, 6, 2)),
        rec("t", "tier_care", date(2026, 6, 3)),
        rec("u", "dormancy", date(2026, 6, 4), reached=False),  # never reached anyone
        rec("r", "complaint_followup", date(2026, 6, 5), customer_requested=True),
        rec("c", "new_account", date(2026, 4, 3), origin_id="a"),  # the callback touch "a" became
    ]
    assert quarter_count(one + cases, DAY) == 1
    assert not is_capped("dormancy", DAY, one + cases)


def test_mandatory_kinds_count_past_the_cap() -> None:
    history = [*TWO_THIS_QUARTER, rec("s", "sampling", date(2026, 6, 1))]
    assert quarter_count(history, DAY) == 3
    assert not is_capped("asset_movement", DAY, history)


def test_quarter_boundaries() -> None:
    assert quarter_start(date(2026, 6, 30)) == date(2026, 4, 1)
    assert quarter_start(date(2026, 7, 1)) == date(2026, 7, 1)
    assert quarter_start(date(2026, 12, 31)) == date(2026, 10, 1)
    late_q2 = [rec("x", "dormancy", date(2026, 6, 30)), rec("y", "dormancy", date(2026, 6, 30))]
    assert is_capped("dormancy", date(2026, 6, 30), late_q2)
    assert not is_capped("dormancy", date(2026, 7, 1), late_q2)
    # A pair counts once, in the quarter it first reached the customer.
    pair = [
        rec("t", "dormancy", date(2026, 6, 29)),
        rec("cb", "dormancy", date(2026, 7, 2), origin_id="t"),
    ]
    assert quarter_count(pair, date(2026, 6, 30)) == 1
    assert quarter_count(pair, date(2026, 7, 2)) == 0


@pytest.mark.parametrize(
    ("kind", "status", "consent", "assume", "opted_out", "expected"),
    [
        ("birthday", "active", True, False, False, Gate("planned")),
        ("birthday", "active", None, True, False, Gate("planned")),
        ("holiday", "active", None, False, False, Gate("suppressed", "no_consent")),
        ("holiday", "active", False, True, False, Gate("suppressed", "no_consent")),
        ("dormancy", "active", True, True, True, Gate("suppressed", "opted_out")),
        ("dormancy", "frozen", True, False, False, Gate("suppressed", "status_frozen")),
        ("new_account", "closed", True, False, False, Gate("suppressed", "status_closed")),
        ("new_account", "active", False, False, False, Gate("planned")),
        ("new_account", "active", False, False, True, Gate("escalated", "opted_out")),
        ("asset_movement", "closed", None, False, True, Gate("planned")),
        ("account_closed", "deceased", None, False, False, Gate("suppressed", "status_deceased")),
    ],
)
def test_status_and_consent(
    kind: str, status: str, consent: bool | None, assume: bool, opted_out: bool, expected: Gate
) -> None:
    assert gate(kind, status, consent, assume, opted_out) == expected


def test_which_kinds_need_consent() -> None:
    assert {
        k
        for k in ("holiday", "birthday", "dormancy", "tier_care", "new_account", "asset_movement")
        if needs_consent(k)
    } == {"holiday", "birthday", "dormancy", "tier_care"}


def test_send_window_due_time_and_membership() -> None:
    window = parse_window("09:00-20:00")
    start, end = window_bounds_utc(date(2026, 2, 17), window, "Asia/Shanghai")
    assert start == datetime(2026, 2, 17, 1, 0, tzinfo=UTC)
    assert end == datetime(2026, 2, 17, 12, 0, tzinfo=UTC)
    assert start.utcoffset() is not None and start.tzinfo == UTC
    assert not in_window(datetime(2026, 2, 17, 8, 59, 59, tzinfo=SH), window, "Asia/Shanghai")
    assert in_window(datetime(2026, 2, 17, 9, 0, tzinfo=SH), window, "Asia/Shanghai")
    assert in_window(datetime(2026, 2, 17, 11, 59, tzinfo=UTC), window, "Asia/Shanghai")
    assert not in_window(datetime(2026, 2, 17, 12, 0, tzinfo=UTC), window, "Asia/Shanghai")
    # A branch abroad keeps its own clock, DST included (London is UTC+1 in July).
    london, _ = window_bounds_utc(date(2026, 7, 1), window, "Europe/London")
    assert london == datetime(2026, 7, 1, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("9:00-20:00", "HH:MM-HH:MM"),
        ("09:00–20:00", "HH:MM-HH:MM"),
        ("", "HH:MM-HH:MM"),
        ("09:00-24:00", "00–23"),
        ("09:60-10:00", "00–59"),
        ("20:00-09:00", "before end"),
        ("09:00-09:00", "before end"),
    ],
)
def test_window_parsing_is_strict(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_window(text)


def test_bundle_of_the_day() -> None:
    day = date(2027, 9, 15)  # a birthday on 中秋
    greetings = build_bundle(day, [BundleMember("1", "holiday"), BundleMember("2", "birthday")])
    assert not greetings.expects_reply and greetings.reply_by is None and greetings.marketing
    mixed = build_bundle(
        day,
        [
            BundleMember("3", "dormancy", date(2027, 9, 20)),
            BundleMember("4", "birthday"),
            BundleMember("5", "new_account", date(2027, 9, 17)),
        ],
    )
    assert mixed.expects_reply and mixed.reply_by == date(2027, 9, 17) and mixed.marketing
    assert mixed.kinds == ("dormancy", "birthday", "new_account")
    service = build_bundle(day, [BundleMember("6", "new_account", date(2027, 9, 17))])
    assert service.expects_reply and not service.marketing
    with pytest.raises(ValueError):
        build_bundle(day, [])
    with pytest.raises(ValueError, match="asset_movement"):
        build_bundle(day, [BundleMember("7", "asset_movement")])


def test_after_the_days_message_greetings_expire_callbacks_move(cal: WorkingCalendar) -> None:
    assert after_daily_message("birthday", date(2026, 9, 30), cal) == ("expired", None)
    assert after_daily_message("dormancy", date(2026, 9, 30), cal) == ("moved", date(2026, 10, 8))


@pytest.mark.parametrize(
    ("moment", "start", "end"),
    [
        (datetime(2026, 3, 9, 10, 0, tzinfo=SH), sh(3, 9, 14, 30), sh(3, 9, 17, 0)),  # Monday
        (datetime(2026, 3, 9, 17, 0, tzinfo=SH), sh(3, 10, 9, 30), sh(3, 10, 11, 0)),
        (datetime(2026, 3, 10, 10, 0, tzinfo=SH), sh(3, 10, 10, 0), sh(3, 10, 11, 0)),  # inside
        (datetime(2026, 3, 10, 11, 0, tzinfo=SH), sh(3, 10, 15, 0), sh(3, 10, 17, 0)),
        (datetime(2026, 3, 13, 12, 0, tzinfo=SH), sh(3, 16, 14, 30), sh(3, 16, 17, 0)),  # Fri noon
        (
            datetime(2026, 3, 12, 9, 0, tzinfo=UTC),
            sh(3, 13, 9, 30),
            sh(3, 13, 11, 0),
        ),  # 17:00 SH Thu
        (
            datetime(2026, 9, 30, 17, 0, tzinfo=SH),
            sh(10, 8, 9, 30),
            sh(10, 8, 11, 0),
        ),  # Golden Week
        (
            datetime(2026, 10, 10, 8, 0, tzinfo=SH),
            sh(10, 10, 9, 30),
            sh(10, 10, 11, 0),
        ),  # make-up Sat
    ],
)
def test_next_call_slot(
    cal: WorkingCalendar, moment: datetime, start: datetime, end: datetime
) -> None:
    assert next_call_slot(moment, "Asia/Shanghai", cal) == (start, end)
