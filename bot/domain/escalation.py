"""DOMAIN.md's escalation table: which reply intents go to a person, how urgently, by when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from bot.domain.calendar import WorkingCalendar, add_wall_clock_hours
from bot.domain.kinds import CALLBACK_TYPE_KINDS, SERVICE_KINDS


@dataclass(frozen=True)
class Escalation:
    """Priority and SLA rule of one intent."""

    priority: str
    clock: str  # wall_hours | working_hours | working_days
    amount: float
    alert: bool = False


TABLE: dict[str, Escalation] = {
    "not_me": Escalation("P0", "wall_hours", 1, alert=True),
    "complaint": Escalation("P1", "working_hours", 4),
    "negative": Escalation("P2", "working_days", 1),
    "callback_request": Escalation("P2", "working_days", 1),
    "reschedule": Escalation("P2", "working_hours", 1),
    "wrong_person": Escalation("P3", "working_days", 3),
}
LOW_CONFIDENCE = Escalation("P2", "working_days", 1)


def sla_due(rule: Escalation, start: datetime, calendar: WorkingCalendar, tz: str,
            working_hours: tuple[time, time]) -> datetime:
    """When the callback must be done: wall clock for not_me, working time otherwise."""
    if rule.clock == "wall_hours":
        return add_wall_clock_hours(start, rule.amount)
    if rule.clock == "working_hours":
        return calendar.add_working_hours(start, rule.amount, tz, working_hours)
    return calendar.add_working_day_time(start, rule.amount, tz, working_hours)


def needs_person(intent: str, confidence: float, min_confidence: float,
                 answered_kinds: frozenset[str]) -> tuple[Escalation | None, bool]:
    """(escalation, needs_review) for a classified reply.

    An unsure answer to a callback-type or service touch is a P2 callback; an unsure answer
    to a greeting goes to the needs_review list (no SLA). A not_me is acted on however
    unsure the classifier is: a possible fraud must reach a person.
    """
    if intent == "not_me":
        return TABLE["not_me"], False
    if confidence < min_confidence:
        if answered_kinds & (CALLBACK_TYPE_KINDS | SERVICE_KINDS):
            return LOW_CONFIDENCE, False
        return None, True
    return TABLE.get(intent), False
