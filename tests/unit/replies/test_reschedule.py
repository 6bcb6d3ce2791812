"""Reading the callback time a reschedule reply asks for (arrival: Friday 2026-11-27 10:15)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.domain.replies import parse_reschedule

SHANGHAI = ZoneInfo("Asia/Shanghai")
ARRIVED = datetime(2026, 11, 27, 10, 15, tzinfo=SHANGHAI)  # a Friday
LATE = datetime(2026, 11, 27, 16, 0, tzinfo=SHANGHAI)


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("在开会，下午三点后再联系", at(27, 15)),
        ("下午三四点再联系", at(27, 15)),  # "3 or 4": the earlier hour, today
        ("明天上午九十点打给我", at(28, 9)),  # "9 or 10", not 90 o'clock
        ("十一二点打过来", at(27, 11)),
        ("三点半再联系", at(27, 15, 30)),
        ("15:00以后打我电话", at(27, 15)),
        ("明天上午再说吧", at(28, 9)),
        ("后天吧", at(29, 9)),
        ("周五再打吧", at(4, 9, month=12)),  # today is Friday and 09:00 has passed
        ("星期五下午有空", at(27, 14)),
        ("礼拜五再说", at(4, 9, month=12)),
        ("周一再联系", at(30, 9)),
        ("下周吧", at(30, 9)),
        ("下周一上午联系我", at(30, 9)),
        ("下周二下午三点可以", at(1, 15, month=12)),
        # A weekday digit next to the hour is the weekday, and ASCII and Chinese digits
        # never make one number (下周一10点 crashed the parser; 周一九点 read as 19:00).
        ("在开会，下周一10点半打给我", at(30, 10, 30)),
        ("周一九点", at(30, 9)),
        ("下周五十点", at(4, 10, month=12)),
        ("礼拜四十一点", at(3, 11, month=12)),
        ("星期二9点后", at(1, 9, month=12)),
        ("晚上8点后再打", at(27, 20)),
        ("晚上九点后打吧", at(27, 21)),
        ("今晚再聊", at(27, 19)),
        ("一小时后再打过来", at(27, 11, 15)),
        ("半小时后打给我", at(27, 10, 45)),
        ("过两个小时再联系", at(27, 12, 15)),
        ("一个半小时后", at(27, 11, 45)),
        ("十分钟后再打", at(27, 10, 25)),
        ("明早九点半打给我", at(28, 9, 30)),
        ("明天上午十點再打給我", at(28, 10)),
        ("两点以后再打", at(27, 14)),
        ("现在不太方便，10点以后吧", at(28, 10)),  # 10:00 has passed today
        ("等我下班吧，六点以后", at(27, 18)),
        ("今天没空，周一再联系", at(30, 9)),
        ("28号再说", at(28, 9)),
        ("12月1日下午", at(1, 14, month=12)),
        ("周末吧", at(28, 9)),
        ("两天后", at(29, 9)),
        ("busy now, call me tomorrow at 10am", at(28, 10)),
        ("tomorrow 10am", at(28, 10)),
        ("call me after 5pm", at(27, 17)),
        ("I'm at work, can we talk after 6?", at(27, 18)),
        ("not a good time, try next week", at(30, 9)),
        ("Call me Friday afternoon", at(27, 14)),  # still ahead today
        ("Friday", at(4, 9, month=12)),
        ("please call back next Monday", at(30, 9)),
        ("Driving, call me in 2 hours", at(27, 12, 15)),
        ("in a meeting, try again in 30 minutes", at(27, 10, 45)),
        ("call me back in an hour please", at(27, 11, 15)),
        ("Can't talk now, call tomorrow morning", at(28, 9)),
        ("Could you ring me this afternoon?", at(27, 14)),
        ("Sorry, busy today. Thursday works", at(3, 9, month=12)),
    ],
)
def test_phrases(text: str, expected: datetime) -> None:
    result = parse_reschedule(text, ARRIVED)
    assert result.at == expected, result.explanation
    assert result.at is not None and result.at.tzinfo is not None


def test_explanation_shows_the_words_and_the_moment() -> None:
    assert parse_reschedule("明天上午", ARRIVED).explanation == "明天上午 → 2026-11-28 09:00"
    assert (
        parse_reschedule("tomorrow 10am", ARRIVED).explanation == "tomorrow 10am → 2026-11-28 10:00"
    )


def test_a_time_already_passed_today_means_tomorrow() -> None:
    result = parse_reschedule("三点后再打", LATE)
    assert result.at == at(28, 15)
    assert "tomorrow" in result.explanation


def test_a_part_of_day_we_are_in_means_an_hour_from_now() -> None:
    assert parse_reschedule("下午再打", LATE).at == at(27, 17)
    assert parse_reschedule("上午再打", LATE).at == at(28, 9)


def test_weekday_later_this_week_and_same_day_before_nine() -> None:
    monday = datetime(2026, 11, 23, 8, 0, tzinfo=SHANGHAI)
    assert parse_reschedule("周五", monday).at == at(27, 9)
    assert parse_reschedule("周一", monday).at == at(23, 9)
    assert parse_reschedule("下周一", monday).at == at(30, 9)


@pytest.mark.parametrize(
    "text", ["晚点再说", "稍后联系", "改天吧", "in a meeting, call me later", "晚一点再打", "收到"]
)
def test_no_time_named(text: str) -> None:
    result = parse_reschedule(text, ARRIVED)
    assert result.at is None
    assert result.explanation


def test_arrival_in_another_zone_is_read_in_the_branch_zone() -> None:
    arrived_utc = datetime(2026, 11, 27, 2, 15, tzinfo=UTC)  # 10:15 in Shanghai
    assert parse_reschedule("明天上午", arrived_utc, "Asia/Shanghai").at == at(28, 9)
    hong_kong = ZoneInfo("Asia/Hong_Kong")
    result = parse_reschedule("下午三点", arrived_utc, hong_kong)
    assert result.at == datetime(2026, 11, 27, 15, 0, tzinfo=hong_kong)
    fixed = timezone(timedelta(hours=-5))
    assert parse_reschedule("tomorrow 10am", arrived_utc, fixed).at == datetime(
        2026, 11, 27, 10, 0, tzinfo=fixed
    )  # still Thursday 21:15 in UTC-5


def test_naive_arrival_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_reschedule("明天", datetime(2026, 11, 27, 10, 15))  # noqa: DTZ001


def test_an_absurd_relative_time_is_no_time_not_a_crash() -> None:
    """"in 99999999999 hours" overflowed a timedelta; now it is simply not a time."""
    assert parse_reschedule("in 99999999999 hours", ARRIVED, "Asia/Shanghai").at is None
    assert parse_reschedule("999999999天后", ARRIVED, "Asia/Shanghai").at is None
