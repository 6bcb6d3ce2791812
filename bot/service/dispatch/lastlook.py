"""The last step before a provider call: the message becomes `sending` only now.

Preparing writes each message `prepared`: composed, nothing sent. A send may then wait many
seconds for its rate slot (and a place among DISPATCH_CONCURRENCY); if the process dies
meanwhile, nothing left, so the message goes again without asking anyone. Only as its request
is about to leave is it marked `sending` (after which an interruption needs reconciling).

The same step stops a send that must not go after all: the worker is shutting down, or
(after a long wait) a pause or an opt-out arrived. The mark is conditional on the message
being exactly as this worker prepared it, so a send released and prepared again elsewhere
(a stale claim) is never sent twice.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.app import App
from bot.db.models import Branch, Customer, Message, table
from bot.service.admin import pause as pause_flags
from bot.service.customers.consent import effective_consent
from bot.service.dispatch.prepare import Send

#: A send that starts this soon after preparing is still within the tick that checked it.
RECHECK_AFTER = 1.0  # seconds

MESSAGES = table(Message)


@dataclass(frozen=True)
class Held:
    """A prepared send stopped before its provider call: nothing went out.

    `reason`: paused, opted_out, waiting_degraded (its channel failed over and over in this
    batch), shutdown (the worker is stopping), or released (another worker took the bundle
    over after this one's claim went stale: left to it)."""

    reason: str


async def start_call(app: App, send: Send, now: datetime, stopping: bool) -> str | None:
    """Why the send must not go now, or None: then it is marked `sending` (and must go)."""
    if stopping:
        return "shutdown"
    async with app.sessions() as s:
        reason = None
        if time.monotonic() - send.prepared >= RECHECK_AFTER:
            reason = await _changed_meanwhile(app, s, send)
        if reason is None:
            conn = await s.connection()
            started = await conn.execute(sa.update(MESSAGES).where(
                MESSAGES.c.id == send.message_id, MESSAGES.c.status == "prepared",
                MESSAGES.c.updated_at == send.prepared_at,
            ).values(status="sending", updated_at=now))
            if started.rowcount != 1:
                reason = "released"
        await s.commit()
    return reason


async def _changed_meanwhile(app: App, s: AsyncSession, send: Send) -> str | None:
    """A pause or a withdrawn consent that arrived while the send waited."""
    if pause_flags.is_paused(await pause_flags.flags(s), send.branch_code, send.channel):
        return "paused"
    if send.marketing:
        customer = await s.get(Customer, send.customer_id)
        branch = await s.get(Branch, send.branch_code)
        if customer is None or not effective_consent(customer, branch, app.settings):
            return "opted_out"
    return None
