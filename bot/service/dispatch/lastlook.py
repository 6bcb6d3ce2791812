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

import asyncio
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


async def start_call(app: App, send: Send, now: datetime, stopping: bool,
                     starter: Starter | None = None) -> str | None:
    """Why the send must not go now, or None: then it is marked `sending` (and must go).
    Sends that did not wait long are marked together by `starter` (one transaction for all
    that are leaving at the same moment)."""
    if stopping:
        return "shutdown"
    if time.monotonic() - send.prepared < RECHECK_AFTER:
        started = await (starter or Starter(app)).start(send, now)
        return None if started else "released"
    async with app.sessions() as s:
        reason = await _changed_meanwhile(app, s, send)
        if reason is None:
            conn = await s.connection()
            started_one = await conn.execute(_mark([send], now))
            if len(started_one.all()) != 1:
                reason = "released"
        await s.commit()
    return reason


def _mark(sends: list[Send], now: datetime) -> sa.Update:
    """`prepared` → `sending`, for each message exactly as this worker prepared it."""
    exactly = sa.or_(*(sa.and_(MESSAGES.c.id == x.message_id,
                               MESSAGES.c.updated_at == x.prepared_at) for x in sends))
    return (sa.update(MESSAGES).where(MESSAGES.c.status == "prepared", exactly)
            .values(status="sending", updated_at=now).returning(MESSAGES.c.id))


class Starter:
    """Marks sends `sending` in groups: those asking while a mark is being written wait for
    the next one together (a batch's sends leave at the same moment, DISPATCH_CONCURRENCY at
    a time), so a send costs a share of a transaction instead of one of its own."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._pending: list[tuple[Send, asyncio.Future[bool]]] = []
        self._writing: asyncio.Task[None] | None = None

    async def start(self, send: Send, now: datetime) -> bool:
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((send, done))
        if self._writing is None or self._writing.done():
            self._writing = asyncio.create_task(self._write(now))
        return await done

    async def _write(self, now: datetime) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                async with self.app.engine.begin() as conn:
                    marked = {r.id for r in await conn.execute(
                        _mark([x for x, _ in batch], now))}
            except Exception as exc:
                for _, done in batch:
                    done.set_exception(exc)
                continue
            for send, done in batch:
                done.set_result(send.message_id in marked)


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
