"""The last look before a provider call that waited for its rate slot.

Preparing checked pause flags and consent, but a send may then wait many seconds for its
slot (and for a free place among DISPATCH_CONCURRENCY); a pause or an opt-out arriving
meanwhile must still stop it. The same look stamps the message, so the cut-off after which
a `sending` message counts as interrupted runs from the call, not from preparing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

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
    batch), or interrupted (marked `unknown` while it waited; left so, never sent)."""

    reason: str


async def hold_reason(app: App, send: Send, now: datetime) -> str | None:
    """Why a send that waited must not go now, or None (then it is stamped as started)."""
    if time.monotonic() - send.prepared < RECHECK_AFTER:
        return None
    async with app.sessions() as s:
        conn = await s.connection()
        started = await conn.execute(sa.update(MESSAGES).where(
            MESSAGES.c.id == send.message_id, MESSAGES.c.status == "sending",
        ).values(updated_at=now))
        reason = None
        if started.rowcount != 1:
            reason = "interrupted"
        elif pause_flags.is_paused(await pause_flags.flags(s), send.branch_code, send.channel):
            reason = "paused"
        elif send.marketing:
            customer = await s.get(Customer, send.customer_id)
            branch = await s.get(Branch, send.branch_code)
            if customer is None or not effective_consent(customer, branch, app.settings):
                reason = "opted_out"
        await s.commit()
    return reason
