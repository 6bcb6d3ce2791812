"""One open callback per customer: a new reason joins it, priority rises, SLA tightens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

PRIORITIES = ("P0", "P1", "P2", "P3")  # P0 most urgent
OPEN_STATUSES = ("open", "claimed")  # a callback still to be worked


@dataclass(frozen=True)
class CallbackState:
    """What a callback says about urgency: priority, reasons and SLA deadline."""

    priority: str
    reasons: tuple[str, ...]
    sla_due_at: datetime


def more_urgent(a: str, b: str) -> str:
    """The more urgent of two priorities (P0 beats P3)."""
    return a if PRIORITIES.index(a) <= PRIORITIES.index(b) else b


def join(current: CallbackState, priority: str, reason: str, sla_due_at: datetime) -> CallbackState:
    """Add a reason to an open callback: highest priority, earliest SLA, reasons kept once."""
    reasons = current.reasons if reason in current.reasons else (*current.reasons, reason)
    return CallbackState(
        priority=more_urgent(current.priority, priority),
        reasons=reasons,
        sla_due_at=min(current.sla_due_at, sla_due_at),
    )
