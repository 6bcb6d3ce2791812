"""Store first, act after: the inbox that lets a webhook answer a reply storm.

The webhook stores the verified request (one INSERT, a second copy of the same provider id
ignored) and answers. `Drainer` then works the stored rows in arrival order, one row at a time
and one drainer at a time (PostgreSQL: an advisory lock shared by every process), so each
customer's replies are acted on in the order they wrote them. A row is marked done after it
was acted on; a crash in between acts on it again, which the processor's own deduplication by
provider id makes harmless. Nothing is lost: the stored row is the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.models import InboxItem, table, utcnow
from bot.logs import frames_only
from bot.service.inbound.processor import WriterBusy
from bot.service.inbound.spool import database_down

log = logging.getLogger("outreach.inbox")
INBOX = table(InboxItem)
DRAIN_LOCK = 7_000_113  # pg advisory lock key: one drainer across processes
BATCH = 200


@dataclass(frozen=True, slots=True)
class Stored:
    """A stored request, as the drainer hands it to its handler."""

    id: int
    route: str
    form: dict[str, str]
    received_at: datetime


class Writer:
    """Stores requests for the webhooks, many in one transaction (group commit): requests that
    arrive while a write is under way wait for the next one together, so a storm costs one
    commit per handful of replies instead of one each. Each caller still waits until its own
    row is committed before it answers."""

    def __init__(self, engine: AsyncEngine,
                 guard: Callable[[], AbstractAsyncContextManager[Any]] = contextlib.nullcontext,
                 queue_limit: float | None = None) -> None:
        self.engine, self.guard, self.queue_limit = engine, guard, queue_limit
        self._pending: list[tuple[dict[str, Any], asyncio.Future[bool]]] = []
        self._writing: asyncio.Task[None] | None = None

    async def store(self, route: str, provider_id: str, form: dict[str, str],
                    received_at: datetime) -> bool:
        """Keep the request; False when this provider id was stored before (a retry)."""
        row = {"route": route, "provider_id": provider_id, "status": "new",
               "form": json.dumps(form, ensure_ascii=False), "received_at": received_at,
               "created_at": utcnow()}
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((row, done))
        if self._writing is None or self._writing.done():
            self._writing = asyncio.create_task(self._write())
        if self.queue_limit is None:
            return await done
        try:
            return await asyncio.wait_for(asyncio.shield(done), self.queue_limit)
        except TimeoutError:
            if (row, done) not in self._pending:
                return await done  # its write is under way: that decides
            # Still waiting behind a write that is stuck: the caller spools it instead, in
            # time for the provider's timeout.
            self._pending.remove((row, done))
            raise WriterBusy("an earlier inbound write still holds the database") from None

    async def _write(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:BATCH], self._pending[BATCH:]
            try:
                async with self.guard():
                    stored = await _insert(self.engine, [row for row, _ in batch])
            except Exception as exc:  # every caller in the batch spools its request
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for row, done in batch:
                if not done.done():
                    key = (row["route"], row["provider_id"])
                    done.set_result(key in stored)
                    stored.discard(key)  # the same id twice in one batch: the second is a retry


async def _insert(engine: AsyncEngine, rows: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """One INSERT for the batch; returns the (route, provider id) of the rows that were new."""
    module = postgresql if engine.dialect.name == "postgresql" else sqlite
    statement = (module.insert(INBOX).values(rows)
                 .on_conflict_do_nothing(index_elements=["route", "provider_id"])
                 .returning(INBOX.c.route, INBOX.c.provider_id))
    async with engine.begin() as conn:
        return {(r.route, r.provider_id) for r in await conn.execute(statement)}


class Drainer:
    """Acts on stored requests in order. A loop (`wait`, then `kick`) does the work: rows a
    storm left, rows another process stored, rows a crash left behind; `wake()` after storing
    one. Without a loop (an app served without its lifespan), `kick(limit)` right after.

    `busy()` says requests are being answered right now: the drainer then waits a moment
    before each row (at most `YIELD_LIMIT`), so answering a storm comes before acting on it."""

    YIELD_STEP, YIELD_LIMIT = 0.005, 0.2  # seconds

    def __init__(self, engine: AsyncEngine, handle: Callable[[Stored], Awaitable[None]],
                 busy: Callable[[], bool] = lambda: False) -> None:
        self.engine, self.handle, self.busy = engine, handle, busy
        self._lock = asyncio.Lock()
        self._more = False
        self._wake = asyncio.Event()
        self.looping = False  # a loop calls `kick`: requests only wake it

    async def kick(self, limit: int | None = None) -> None:
        """Work the inbox now (at most `limit` rows), unless a drain is running here: then
        it goes on to the new row before it stops."""
        self._more = True
        if self._lock.locked():
            return
        async with self._lock:
            budget = limit
            while self._more:
                self._more = False
                done, full = await self._drain(budget)
                if budget is not None and full:
                    self.wake()  # more to do: the loop takes over, if there is one
                    return
                if budget is not None:
                    budget -= done

    def wake(self) -> None:
        """New rows: the loop (`wait`) goes round now."""
        self._wake.set()

    async def wait(self, every: float) -> None:
        """The loop's pause: until woken, or `every` seconds (rows another process stored)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), every)
        self._wake.clear()

    async def _drain(self, budget: int | None) -> tuple[int, bool]:
        """(rows done, whether the budget ran out)."""
        if self.engine.dialect.name != "postgresql":
            return await self._work(budget)
        async with self.engine.connect() as conn:  # the lock lives as long as this connection
            got = (await conn.execute(sa.select(sa.func.pg_try_advisory_lock(DRAIN_LOCK)))).scalar()
            await conn.commit()
            if not got:
                return 0, False  # another process is draining; it reads our rows too
            try:
                return await self._work(budget)
            finally:
                await conn.execute(sa.select(sa.func.pg_advisory_unlock(DRAIN_LOCK)))
                await conn.commit()

    async def _work(self, budget: int | None) -> tuple[int, bool]:
        done = 0
        while True:
            size = BATCH if budget is None else min(BATCH, budget - done)
            if size <= 0:
                return done, True
            async with self.engine.connect() as conn:
                rows = (await conn.execute(sa.select(INBOX).where(INBOX.c.status == "new")
                                           .order_by(INBOX.c.id).limit(size))).all()
            for row in rows:
                await self._wait_while_busy()
                await self._one(row)
                done += 1
            if len(rows) < size:
                return done, False

    async def _wait_while_busy(self) -> None:
        waited = 0.0
        while self.busy() and waited < self.YIELD_LIMIT:
            await asyncio.sleep(self.YIELD_STEP)
            waited += self.YIELD_STEP

    async def _one(self, row: sa.Row[Any]) -> None:
        item = Stored(row.id, row.route, json.loads(row.form), row.received_at)
        try:
            await self.handle(item)
        except Exception as exc:
            if database_down(exc):
                raise  # the row stays `new`: acted on when the database is back
            # Acting on it failed for another reason: set aside for a person, so the
            # requests behind it are not held up.
            log.error("inbox %s (%s): acting failed; set aside: %s", row.id, row.route,
                      frames_only(exc))
            await self._mark(row.id, "failed")
            return
        await self._mark(row.id, "done")

    async def _mark(self, row_id: int, status: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(sa.update(INBOX).where(INBOX.c.id == row_id).values(status=status))
