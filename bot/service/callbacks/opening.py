"""Open a human callback, or join the customer's open one (DOMAIN.md: one per customer)."""

from __future__ import annotations

import json
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.locks import hold_xact_lock
from bot.db.models import Callback, Customer, utcnow
from bot.domain.callbacks import OPEN_STATUSES, CallbackState, join
from bot.service import events


async def open_or_join(
    session: AsyncSession,
    customer: Customer,
    priority: str,
    reason: str,
    sla_due_at: datetime,
    *,
    due_at: datetime | None = None,
    actor: str = "system",
) -> Callback:
    """Return the customer's open callback with this reason joined, creating one if none is open.

    `due_at` (a time the customer asked for) is kept on a new callback and moves an open one.
    An open callback whose SLA now falls before the time it waits for (a fraud denial joining
    a callback set for tomorrow) is due at once: urgency beats the wait.
    """
    # One open callback per customer: replies, the sweep and dispatch may race for it.
    await hold_xact_lock(session, f"callback:{customer.id}")
    current = (
        await session.exec(
            select(Callback)
            .where(Callback.customer_id == customer.id, col(Callback.status).in_(OPEN_STATUSES))
            .order_by(col(Callback.id))
        )
    ).first()
    if current is None:
        callback = Callback(
            customer_id=customer.id, branch_code=customer.branch_code, priority=priority,
            reasons=json.dumps([reason]), sla_due_at=sla_due_at, due_at=due_at,
        )
        session.add(callback)
        await session.flush()
        events.record(session, "callback.opened", f"callback {priority}: {reason}",
                      customer_id=customer.id, branch_code=customer.branch_code, actor=actor,
                      payload={"callback_id": callback.id, "reason": reason})
        return callback
    state = join(
        CallbackState(current.priority, tuple(json.loads(current.reasons)), current.sla_due_at),
        priority, reason, sla_due_at,
    )
    if (state.priority, state.reasons, state.sla_due_at) != (
        current.priority, tuple(json.loads(current.reasons)), current.sla_due_at
    ):
        current.priority = state.priority
        current.reasons = json.dumps(list(state.reasons))
        current.sla_due_at = state.sla_due_at
        current.updated_at = utcnow()
        events.record(session, "callback.joined", f"callback {state.priority}: + {reason}",
                      customer_id=customer.id, branch_code=customer.branch_code, actor=actor,
                      payload={"callback_id": current.id, "reason": reason})
    if due_at is None and current.due_at is not None and current.sla_due_at < current.due_at:
        current.due_at = None
        current.updated_at = utcnow()
        events.record(session, "callback.due_now",
                      f"callback {current.priority} due now: its SLA comes before the time "
                      f"it waited for ({reason})",
                      customer_id=customer.id, branch_code=customer.branch_code, actor=actor,
                      payload={"callback_id": current.id, "reason": reason})
    if due_at is not None and current.due_at != due_at:
        # The customer asked for a time (reschedule): the open callback moves there too.
        current.due_at = due_at
        current.updated_at = utcnow()
        events.record(session, "callback.rescheduled",
                      f"callback due {due_at.isoformat()} ({reason})",
                      customer_id=customer.id, branch_code=customer.branch_code, actor=actor,
                      payload={"callback_id": current.id, "due_at": due_at.isoformat(),
                               "reason": reason})
    session.add(current)
    return current
