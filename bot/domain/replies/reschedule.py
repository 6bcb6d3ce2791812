"""When a customer asked to be called back ("下午三点后", "tomorrow 10am"), as an aware datetime.

The callback is due at the time asked for, read relative to when the reply
arrived and in the branch's time zone; staff see the parse as one line
("明天上午 → 2026-11-28 09:00") so a wrong reading is caught before dialling.

Decisions (documented because customers are vague):
- Bare parts of the day: 早上/上午 09:00, 中午 12:00, 下午 14:00, 傍晚 17:00,
  下班后 18:00, 晚上 19:00 (an evening time the customer asked for is kept).
- A day with no time (明天, 周五, 下周) means 09:00 that day; 下周 alone is next Monday.
- An hour with no part of the day: 1–6 are afternoon (三点 → 15:00), 7–12 as written.
- No day given and the time has already passed today → that time tomorrow
  ("三点后" at 16:00 → tomorrow 15:00). A bare part of the day we are already in
  ("下午再打" at 15:00) → one hour from now instead.
- A weekday: the next such moment still ahead. Said on a Friday at 10:15, 周五下午 is
  today 14:00, but 周五 alone (09:00) is next Friday.
- Vague words only (晚点, 稍后, later, 改天) → no time: the caller falls back to
  the next call window.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from bot.domain.replies.normalize import normalize


@dataclass(frozen=True, slots=True)
class RescheduleTime:
    """The moment asked for (None when the reply names none) and a one-line reading for staff."""

    at: datetime | None
    explanation: str


_CN_DIGITS = {
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_NUM = r"(?:\d{1,3}|[零一二两三四五六七八九十]{1,3})"  # ASCII or Chinese, never mixed
_WEEKDAYS_ZH = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_WEEKDAYS_EN = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_PARTS = {  # part of day → (default hour, minute, end hour of that part, add 12 to hours 1-11)
    "凌晨": (6, 0, 8, False),
    "早上": (9, 0, 12, False),
    "早晨": (9, 0, 12, False),
    "清晨": (9, 0, 12, False),
    "上午": (9, 0, 12, False),
    "morning": (9, 0, 12, False),
    "中午": (12, 0, 14, False),
    "noon": (12, 0, 14, False),
    "下午": (14, 0, 18, True),
    "afternoon": (14, 0, 18, True),
    "傍晚": (17, 0, 19, True),
    "下班": (18, 0, 21, True),
    "after work": (18, 0, 21, True),
    "晚上": (19, 0, 22, True),
    "夜里": (19, 0, 22, True),
    "evening": (19, 0, 22, True),
    "tonight": (19, 0, 22, True),
}
_PART_ALIASES = {"明早": "早上", "今早": "早上", "今晚": "晚上", "明晚": "晚上", "晚": "晚上"}

_RELATIVE_ZH = re.compile(
    rf"(?:过)?(?P<n>{_NUM}|半)(?P<half>个半)?个?(?P<unit>小时|钟头|分钟|天)(?:后|以后|之后)?"
)
_RELATIVE_EN = re.compile(
    r"\bin (?P<n>an|a|one|two|three|four|five|half an|a couple of|\d+) ?(?P<unit>hours?|hrs?|minutes?|mins?|days?)\b"
    r"|\b(?P<n2>\d+) ?(?P<unit2>hours?|hrs?|minutes?|mins?) (?:later|from now)\b"
)
_DAY_WORDS = re.compile(
    r"大后天|后天|明天|明早|明晚|明儿|明日|今天|今晚|今早|今日"
    r"|day after tomorrow|tomorrow|today|tonight"
)
_DAY_OFFSETS = {
    "大后天": 3, "后天": 2, "day after tomorrow": 2, "明天": 1, "明早": 1, "明晚": 1, "明儿": 1,
    "明日": 1, "tomorrow": 1, "今天": 0, "今晚": 0, "今早": 0, "今日": 0, "today": 0, "tonight": 0,
}  # fmt: skip
_WEEK_ZH = re.compile(r"(?P<next>下个?|这|本)?(?:周|星期|礼拜)(?P<d>[一二三四五六日天1-7末])?")
_WEEK_EN = re.compile(
    rf"\b(?P<next>next |this )?(?:(?P<d>{'|'.join(_WEEKDAYS_EN)})|(?P<w>week(?:end)?))\b"
)
_DATE_ZH = re.compile(rf"(?:(?P<m>{_NUM})月)?(?P<d>{_NUM})[号日](?!本)")
_PART = re.compile(r"凌晨|早上|早晨|清晨|上午|明早|今早|中午|下午|傍晚|晚上|今晚|明晚|夜里|下班"
                   r"|\bmorning\b|\bnoon\b|\bafternoon\b|\bevening\b|\btonight\b|after work")  # fmt: skip
# The hour never starts right after 周/星期/礼拜: in 周一九点 the 一 is the weekday, not 19.
_CLOCK_ZH = re.compile(rf"(?<![周期拜])(?P<h>{_NUM})点(?!都|也|儿)(?:钟)?(?P<m>半|一刻|三刻|{_NUM}(?:分)?)?")
# "晚一点", "早一点", "快一点": 一点 meaning "a little", not one o'clock.
_A_LITTLE = re.compile(r"[晚早快慢多少好有低高差这降]一点")
_CLOCK_DIGITAL = re.compile(r"(?<!\d)(?P<h>\d{1,2}):(?P<m>\d{2})(?!\d)(?: ?(?P<ap>am|pm))?")
_CLOCK_EN = re.compile(
    r"\b(?P<h>\d{1,2})(?::(?P<m>\d{2}))? ?(?P<ap>am|pm|a\.m\.|p\.m\.|o'?clock)"
    r"|\b(?:at|after|around|before|by|from) (?P<h2>\d{1,2})(?::(?P<m2>\d{2}))?\b(?! ?(?:hours?|hrs?|minutes?|mins?|days?|%))"
)


def parse_reschedule(
    text: str, arrived_at: datetime, tz: str | tzinfo = "Asia/Shanghai"
) -> RescheduleTime:
    """Read the callback time a reply asks for, relative to its arrival, in the branch's zone."""
    if arrived_at.tzinfo is None or arrived_at.utcoffset() is None:
        raise ValueError("arrived_at must be timezone-aware")
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    now = arrived_at.astimezone(zone)
    norm = normalize(text)

    relative = _relative(norm)
    if relative is not None:
        phrase, delta = relative
        if delta.days and not delta.seconds:  # "两天后": a day, at the default or named time
            return _on_day(norm, now, now.date() + delta, phrase)
        return _result(phrase, now + delta)

    day_phrase, day = _day(norm, now)
    if day is not None:
        result = _on_day(norm, now, day, day_phrase)
        if result.at is not None and result.at <= now and _is_weekday_phrase(day_phrase):
            return _on_day(norm, now, day + timedelta(days=7), day_phrase)
        return result

    clock = _clock(norm)
    part = _part(norm)
    if clock is None and part is None:
        return RescheduleTime(None, "no time found: next call window")
    phrase = _phrase(part[0] if part else "", clock[0] if clock else "")
    at_time = _combine(part, clock)
    at = datetime.combine(now.date(), at_time, tzinfo=zone)
    if at <= now:
        if clock is None and part is not None and now.hour < part[1][2]:
            return _result(phrase, now + timedelta(hours=1), "already then: in one hour")
        return _result(phrase, at + timedelta(days=1), "passed today: tomorrow")
    return _result(phrase, at)


def _on_day(norm: str, now: datetime, day: date, day_phrase: str) -> RescheduleTime:
    """A named day, at the named time of day or 09:00."""
    clock = _clock(norm)
    part = _part(norm)
    at = datetime.combine(day, _combine(part, clock), tzinfo=now.tzinfo)
    phrase = _phrase(day_phrase, part[0] if part else "", clock[0] if clock else "")
    return _result(phrase, at)


def _phrase(*pieces: str) -> str:
    """The words the parse used, once each: '明天上午十点', 'tomorrow 10am'."""
    kept: list[str] = []
    for piece in pieces:
        if piece and not any(piece in k for k in kept):
            kept.append(piece)
    return (" " if any(k.isascii() for k in kept) else "").join(kept)


def _result(phrase: str, at: datetime, note: str = "") -> RescheduleTime:
    suffix = f" ({note})" if note else ""
    return RescheduleTime(at, f"{phrase} → {at:%Y-%m-%d %H:%M}{suffix}")


def _cn_int(token: str) -> int:
    """'15', '十五', '二十三', '两' → int."""
    if token.isdigit():
        return int(token)
    if "十" in token:
        tens, _, ones = token.partition("十")
        return (_CN_DIGITS.get(tens, 1) if tens else 1) * 10 + (
            _CN_DIGITS.get(ones, 0) if ones else 0
        )
    value = 0
    for char in token:
        value = value * 10 + _CN_DIGITS[char]
    return value


def _clock_hour(token: str) -> int:
    """The hour of '三点', '十一点', and of the spoken ranges '三四点', '九十点', '十一二点'
    (3 or 4, 9 or 10, 11 or 12): the earlier hour, so the call is not late."""
    values = {**_CN_DIGITS, "十": 10}
    if all(ch in values for ch in token):
        digits = [values[ch] for ch in token]
        if len(digits) == 2 and digits[1] == digits[0] + 1:
            return digits[0]
        if len(digits) == 3 and token[0] == "十" and digits[2] == digits[1] + 1:
            return 10 + digits[1]
    return _cn_int(token)


#: Longer than any callback anyone means ("in 99999999999 hours" is not a request).
_MAX_RELATIVE = timedelta(days=366)


def _relative(norm: str) -> tuple[str, timedelta] | None:
    """'一小时后', '半小时后', '两天后', 'in 2 hours'."""
    match = _RELATIVE_ZH.search(norm)
    if match and (match.group(0).startswith("过") or re.search(r"后|以后|之后$", match.group(0))):
        n = 0.5 if match["n"] == "半" else _cn_int(match["n"]) + (0.5 if match["half"] else 0)
        unit = match["unit"]
        minutes = n * (60 if unit in ("小时", "钟头") else 1440 if unit == "天" else 1)
        if minutes <= _MAX_RELATIVE.total_seconds() / 60:
            return match.group(0), timedelta(minutes=minutes)
    match = _RELATIVE_EN.search(norm)
    if match:
        raw_n = match["n"] or match["n2"]
        unit = match["unit"] or match["unit2"]
        words = {"an": 1, "a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
                 "half an": 0.5, "a couple of": 2}  # fmt: skip
        n = words[raw_n] if raw_n in words else int(raw_n)
        minutes = n * (60 if unit.startswith("h") else 1440 if unit.startswith("d") else 1)
        if minutes <= _MAX_RELATIVE.total_seconds() / 60:
            return match.group(0), timedelta(minutes=minutes)
    return None


def _day(norm: str, now: datetime) -> tuple[str, date | None]:
    """The day named: 明天, 后天, 周五, 下周一, 下周, 28号, Friday, next week."""
    today = now.date()
    words = [m.group(0) for m in _DAY_WORDS.finditer(norm)]
    later = [w for w in words if _DAY_OFFSETS[w] > 0]
    if later or (words and not _names_other_day(norm)):
        # "今天没空，周一再联系": today is the reason, the other day the request.
        word = later[0] if later else words[0]
        return word, today + timedelta(days=_DAY_OFFSETS[word])
    match = _WEEK_ZH.search(norm)
    if match and (match["d"] or (match["next"] or "").startswith("下")):
        day = match["d"]
        weekday = (
            None
            if day is None
            else 5
            if day == "末"
            else (int(day) - 1 if day.isdigit() else _WEEKDAYS_ZH[day])
        )
        return match.group(0), _weekday_date(
            now, weekday, bool(match["next"] and match["next"].startswith("下"))
        )
    match = _WEEK_EN.search(norm)
    if match:
        weekday = (
            _WEEKDAYS_EN.index(match["d"]) if match["d"] else 5 if match["w"] == "weekend" else None
        )
        if weekday is not None or match["next"] == "next ":
            return match.group(0), _weekday_date(now, weekday, match["next"] == "next ")
    match = _DATE_ZH.search(norm)
    if match:
        return match.group(0), _month_day(today, match["m"], match["d"])
    return "", None


def _names_other_day(norm: str) -> bool:
    """A weekday or date besides today/今天 is named."""
    week = _WEEK_ZH.search(norm)
    return bool(
        (week and (week["d"] or (week["next"] or "").startswith("下")))
        or _WEEK_EN.search(norm)
        or _DATE_ZH.search(norm)
    )


def _weekday_date(now: datetime, weekday: int | None, next_week: bool) -> date:
    """下周X is in next week; a bare weekday is this week's, or next week's once it is past."""
    today = now.date()
    monday = today - timedelta(days=today.weekday())
    if next_week:
        return monday + timedelta(days=7 + (weekday or 0))
    assert weekday is not None
    day = monday + timedelta(days=weekday)
    return day if day >= today else day + timedelta(days=7)


def _is_weekday_phrase(phrase: str) -> bool:
    """周五 / Friday / 周末 (rolls a week when passed), not 今天 or 28号."""
    return bool(_WEEK_ZH.fullmatch(phrase) or _WEEK_EN.fullmatch(phrase))


def _month_day(today: date, month: str | None, day: str) -> date | None:
    """'28号' this month or next; '12月1日' this year or next."""
    d = _cn_int(day)
    m = _cn_int(month) if month else today.month
    for offset in range(13):
        y, mm = divmod(m - 1 + (offset if not month else 12 * offset), 12)
        try:
            candidate = date(today.year + y, mm + 1, d)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    return None


def _part(norm: str) -> tuple[str, tuple[int, int, int, bool]] | None:
    match = _PART.search(norm)
    if match is None:
        return None
    word = _PART_ALIASES.get(match.group(0), match.group(0))
    return match.group(0), _PARTS[word]


def _clock(norm: str) -> tuple[str, int, int, str | None] | None:
    """(phrase, hour, minute, am/pm) from 三点半, 15:00, 10am, after 5."""
    match = _CLOCK_DIGITAL.search(norm)
    if match:
        return match.group(0), int(match["h"]), int(match["m"]), match["ap"]
    match = next(
        (m for m in _CLOCK_ZH.finditer(norm) if not _A_LITTLE.match(norm, max(m.start() - 1, 0))),
        None,
    )
    if match:
        raw_m = match["m"] or ""
        minute = {"": 0, "半": 30, "一刻": 15, "三刻": 45}.get(raw_m)
        if minute is None:
            minute = _cn_int(raw_m.rstrip("分"))
        return match.group(0), _clock_hour(match["h"]), minute, None
    match = _CLOCK_EN.search(norm)
    if match:
        hour = int(match["h"] or match["h2"])
        minute = int(match["m"] or match["m2"] or 0)
        ap = (match["ap"] or "").replace(".", "")
        return match.group(0), hour, minute, ap if ap in ("am", "pm") else None
    return None


def _combine(
    part: tuple[str, tuple[int, int, int, bool]] | None,
    clock: tuple[str, int, int, str | None] | None,
) -> time:
    """Clock time adjusted by the part of day (下午三点 → 15:00), or the part's default."""
    if clock is None:
        hour, minute = (part[1][0], part[1][1]) if part else (9, 0)
        return time(hour, minute)
    _, hour, minute, ampm = clock
    if ampm == "pm" and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    elif ampm is None and part is not None:
        if (part[1][3] and hour < 12) or (part[0] in ("中午", "noon") and hour <= 2):
            hour += 12
    elif ampm is None and 1 <= hour <= 6:
        hour += 12  # "三点后": business hours, so the afternoon
    return time(hour % 24, min(minute, 59))
