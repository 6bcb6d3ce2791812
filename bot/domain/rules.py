"""Pure planning rules (DOMAIN.md "Touch kinds" and "Rules that govern every touch").

Each rule is a small function the planner's SQL mirrors and the tests pin down.
Numbers default to the settings of DESIGN.md and can be passed in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.calendar import TimeWindow, WorkingCalendar
from bot.domain.kinds import (
    ACTIVE_ONLY_KINDS,
    CAP_COUNTED_KINDS,
    DISCRETIONARY_KINDS,
    GREETING_KINDS,
    MARKETING_KINDS,
    REPLY_EXPECTED_KINDS,
    SERVICE_KINDS,
)

DORMANCY_DAYS = 180
DORMANCY_REPLY_WORKING_DAYS = 2
DORMANCY_DUE_WORKING_DAYS = 7  # callback SLA: crossing + 7 working days
DORMANCY_BACKFILL_DAYS = 30
NEW_ACCOUNT_REPLY_WORKING_DAYS = 2
NEW_ACCOUNT_SLA_WORKING_DAYS = 5
CALLBACK_CAP_PER_QUARTER = 2

# -- dates and dedupe keys ---------------------------------------------------
def birthday_greeting_date(birthday: date, year: int) -> date:
    """The day of ``year`` a birthday greeting goes: on the day; 29 Feb → 28 Feb off leap years."""
    try:
        return birthday.replace(year=year)
    except ValueError:  # only 29 February can be missing
        return date(year, 2, 28)


def birthday_key(year: int) -> str:
    """Dedupe key: one birthday greeting per customer per year."""
    return f"birthday:{year}"


def holiday_key(festival_code: str, year: int) -> str:
    """Dedupe key: one greeting per festival per customer per (festival) year."""
    return f"holiday:{festival_code}:{year}"


def dormancy_key(last_activity: date) -> str:
    """Dedupe key: one dormancy touch per episode, an episode named by its last activity."""
    return f"dormancy:{last_activity.isoformat()}"


@dataclass(frozen=True)
class TouchDates:
    """When a reply-expecting touch goes, when its reply is due, and its callback SLA."""

    due_on: date
    reply_by: date
    sla_on: date


def new_account_dates(
    opened_on: date,
    calendar: WorkingCalendar,
    reply_working_days: int = NEW_ACCOUNT_REPLY_WORKING_DAYS,
    sla_working_days: int = NEW_ACCOUNT_SLA_WORKING_DAYS,
) -> TouchDates:
    """new_account: first working day after opening; reply 2 wd later; SLA opened + 5 wd."""
    due = calendar.next_working_day(opened_on)
    return TouchDates(
        due_on=due,
        reply_by=calendar.add_working_days(due, reply_working_days),
        sla_on=calendar.add_working_days(opened_on, sla_working_days),
    )


@dataclass(frozen=True)
class DormancyEpisode:
    """One stretch without trading: the touch it deserves and its dedupe key."""

    last_activity: date
    crossing_on: date
    dates: TouchDates

    @property
    def dedupe_key(self) -> str:
        """``dormancy:<last activity>``: a new trade starts a new episode."""
        return dormancy_key(self.last_activity)


def last_activity(opened_on: date | None, last_trade_on: date | None) -> date | None:
    """Last trade, or the opening date for a customer who never traded."""
    return last_trade_on or opened_on


def dormancy_episode(
    opened_on: date | None,
    last_trade_on: date | None,
    calendar: WorkingCalendar,
    dormancy_days: int = DORMANCY_DAYS,
    reply_working_days: int = DORMANCY_REPLY_WORKING_DAYS,
    sla_working_days: int = DORMANCY_DUE_WORKING_DAYS,
) -> DormancyEpisode | None:
    """The current dormancy episode: crossing = last activity + 180 days; None without dates.

    The message is due the first working day after crossing, its reply 2 working
    days later; the callback SLA is crossing + 7 working days.
    """
    activity = last_activity(opened_on, last_trade_on)
    if activity is None:
        return None
    crossing = activity + timedelta(days=dormancy_days)
    due = calendar.next_working_day(crossing)
    return DormancyEpisode(
        activity,
        crossing,
        TouchDates(
            due_on=due,
            reply_by=calendar.add_working_days(due, reply_working_days),
            sla_on=calendar.add_working_days(crossing, sla_working_days),
        ),
    )


def dormancy_skipped_backfill(
    crossing_on: date,
    run_on: date,
    first_run: bool,
    backfill_days: int = DORMANCY_BACKFILL_DAYS,
) -> bool:
    """On an installation's first run, old crossings (> 30 days back) are recorded, not touched.

    Later runs catch every missed day up in full, so this is False then.
    """
    return first_run and crossing_on < run_on - timedelta(days=backfill_days)


# -- status and consent ------------------------------------------------------
@dataclass(frozen=True)
class Gate:
    """Plan-time verdict: ``planned``, ``suppressed`` (with reason) or ``escalated``."""

    status: str
    reason: str | None = None


def gate(
    kind: str,
    status: str,
    marketing_consent: bool | None,
    assume_consent: bool = False,
    opted_out: bool = False,
) -> Gate:
    """Whether a touch may go: customer status first, then marketing consent.

    Only ``active`` customers get greetings, dormancy, new_account (and post-trade,
    tier care); nothing goes to the deceased. Marketing kinds need consent (the
    CSV column, else the branch's assumption) and no opt-out; an opted-out
    new_account goes straight to a human callback.
    """
    if status == "deceased" or (kind in ACTIVE_ONLY_KINDS and status != "active"):
        return Gate("suppressed", f"status_{status}")
    if kind in MARKETING_KINDS:
        if opted_out:
            return Gate("suppressed", "opted_out")
        consent = assume_consent if marketing_consent is None else marketing_consent
        if not consent:
            return Gate("suppressed", "no_consent")
    elif kind == "new_account" and opted_out:
        return Gate("escalated", "opted_out")
    return Gate("planned")


def needs_consent(kind: str) -> bool:
    """Marketing kinds need marketing consent; service and compliance touches do not."""
    return kind in MARKETING_KINDS


# -- cap ---------------------------------------------------------------------
@dataclass(frozen=True)
class ContactRecord:
    """One past touch or callback, as the cap sees it.

    ``origin_id`` names the touch a callback grew from, so the pair counts once;
    ``customer_requested`` marks callbacks the customer asked for (never counted).
    """

    id: str
    kind: str
    on: date  # local date it reached (or tried to reach) the customer
    reached: bool
    origin_id: str | None = None
    customer_requested: bool = False


def quarter_start(day: date) -> date:
    """First day of the calendar quarter holding ``day``."""
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def quarter_count(history: Iterable[ContactRecord], day: date) -> int:
    """Callback-type contacts that reached the customer in ``day``'s quarter.

    A touch and the callback it became form one contact, counted in the quarter
    it first reached the customer.
    """
    first_reach: dict[str, date] = {}
    for rec in history:
        if rec.reached and rec.kind in CAP_COUNTED_KINDS and not rec.customer_requested:
            root = rec.origin_id or rec.id
            first_reach[root] = min(rec.on, first_reach.get(root, rec.on))
    start = quarter_start(day)
    return sum(1 for on in first_reach.values() if quarter_start(on) == start)


def is_capped(
    kind: str, day: date, history: Iterable[ContactRecord], cap: int = CALLBACK_CAP_PER_QUARTER
) -> bool:
    """A discretionary touch is ``capped`` once the quarter already holds ``cap`` contacts.

    Mandatory kinds are never capped (they still count); greetings, tier care and
    customer-requested callbacks are outside the cap.
    """
    return kind in DISCRETIONARY_KINDS and quarter_count(history, day) >= cap


# -- send window -------------------------------------------------------------
_WINDOW = re.compile(r"(\d{2}):(\d{2})-(\d{2}):(\d{2})")


def parse_window(text: str) -> TimeWindow:
    """Parse a branch window "HH:MM-HH:MM" (24-hour, same day, start before end)."""
    match = _WINDOW.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"window {text!r}: expected HH:MM-HH:MM, e.g. 09:00-20:00")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ValueError(f"window {text!r}: hours are 00–23 and minutes 00–59")
    window = TimeWindow(time(h1, m1), time(h2, m2))
    if window.start >= window.end:
        raise ValueError(f"window {text!r}: start must be before end (no overnight windows)")
    return window


def window_bounds_utc(day: date, window: TimeWindow, tz: str) -> tuple[datetime, datetime]:
    """The window on a local day as aware UTC (start = when the touch is due)."""
    zone = ZoneInfo(tz)
    return (
        datetime.combine(day, window.start, zone).astimezone(UTC),
        datetime.combine(day, window.end, zone).astimezone(UTC),
    )


def in_window(moment: datetime, window: TimeWindow, tz: str) -> bool:
    """Whether an aware moment falls inside the window in the branch's time zone."""
    if moment.tzinfo is None:
        raise ValueError("an aware datetime is required")
    local = moment.astimezone(ZoneInfo(tz)).time()
    return window.start <= local < window.end


# -- one proactive message a day ---------------------------------------------
@dataclass(frozen=True)
class BundleMember:
    """A touch due on the bundle's day; ``reply_by`` is None if it expects no reply."""

    touch_id: str
    kind: str
    reply_by: date | None = None


@dataclass(frozen=True)
class Bundle:
    """What one day's single message to a customer promises as a whole."""

    day: date
    members: tuple[BundleMember, ...]
    expects_reply: bool
    reply_by: date | None
    marketing: bool  # carries the opt-out hint

    @property
    def kinds(self) -> tuple[str, ...]:
        """Member kinds in order, for choosing the bundle template."""
        return tuple(m.kind for m in self.members)


def is_bundled(kind: str) -> bool:
    """Service messages (asset movement) go on their own; proactive touches are bundled."""
    return kind not in SERVICE_KINDS


def build_bundle(day: date, members: Sequence[BundleMember]) -> Bundle:
    """One message for all of a customer's touches due the same local day (避免一事一扰)."""
    if not members:
        raise ValueError("a bundle needs at least one touch")
    if exempt := [m.kind for m in members if not is_bundled(m.kind)]:
        raise ValueError(f"not bundled: {', '.join(exempt)}")
    deadlines = [m.reply_by for m in members if m.reply_by is not None]
    return Bundle(
        day=day,
        members=tuple(members),
        expects_reply=bool(deadlines) or any(m.kind in REPLY_EXPECTED_KINDS for m in members),
        reply_by=min(deadlines, default=None),
        marketing=any(m.kind in MARKETING_KINDS for m in members),
    )


def after_daily_message(kind: str, day: date, calendar: WorkingCalendar) -> tuple[str, date | None]:
    """A touch due after the day's message went: greetings expire, callback-types move on."""
    if kind in GREETING_KINDS:
        return "expired", None
    return "moved", calendar.next_working_day(day)


# -- phone call windows (call script) ----------------------------------------
_MORNING = TimeWindow(time(9, 30), time(11, 0))
_AFTERNOON = TimeWindow(time(15, 0), time(17, 0))
CALL_WINDOWS: dict[int, tuple[TimeWindow, ...]] = {
    0: (TimeWindow(time(14, 30), time(17, 0)),),
    1: (_MORNING, _AFTERNOON),
    2: (_MORNING, _AFTERNOON),
    3: (_MORNING, _AFTERNOON),
    4: (_MORNING,),
}
"""Weekday → best call times. A make-up weekend workday (调休) uses the mid-week ones."""


def call_windows_on(day: date, calendar: WorkingCalendar) -> tuple[TimeWindow, ...]:
    """The call-script windows of a day: none on days off."""
    if not calendar.is_working_day(day):
        return ()
    return CALL_WINDOWS.get(day.weekday(), CALL_WINDOWS[2])


def next_call_slot(
    moment: datetime, tz: str, calendar: WorkingCalendar
) -> tuple[datetime, datetime]:
    """The call window holding ``moment`` (from ``moment``) or the next one, as aware times.

    A customer who said "not now" is called back here; evenings only by appointment.
    """
    if moment.tzinfo is None:
        raise ValueError("an aware datetime is required")
    zone = ZoneInfo(tz)
    local = moment.astimezone(zone)
    day = local.date()
    for _ in range(400):  # a year of days off is a broken calendar
        for window in call_windows_on(day, calendar):
            start = datetime.combine(day, window.start, zone)
            end = datetime.combine(day, window.end, zone)
            if local < end:
                return max(start, local), end
        day += timedelta(days=1)
    raise ValueError(f"no call window within 400 days of {moment.isoformat()}")
