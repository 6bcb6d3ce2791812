"""The dispatcher: claim due bundles, pick a channel, compose, take a rate slot, send, record.

A message is recorded `sending` before the provider call, so a send cut off before its
outcome was recorded is found and reconciled, never blindly repeated.

This module is the batched happy path, kept apart so its few-transactions-per-tick shape
stays visible: preparing a bundle lives in `prepare`, recording an accepted send in
`record`, and everything that follows a failed send in `failover`.
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.bootstrap import App
from bot.db.models import Bundle, Message, PauseFlag, utcnow
from bot.service import pause as pause_flags
from bot.service.channel_registry import Channels
from bot.service.dispatch.claim import claim, release_stale
from bot.service.dispatch.failover import Failover
from bot.service.dispatch.lastlook import Held, hold_reason
from bot.service.dispatch.preload import Preload, preload
from bot.service.dispatch.prepare import Preparer, Send, release_in
from bot.service.dispatch.ratelimit import reserve_many
from bot.service.dispatch.reconcile import mark_interrupted
from bot.service.dispatch.record import record_accepted
from channels.base import (
    ChannelError,
    ConfigurationError,
    OutboundMessage,
    PermanentDeliveryError,
    SendResult,
    TransientDeliveryError,
)

log = logging.getLogger("outreach.dispatch")
Outcome = SendResult | Exception | Held
SEND_TIMEOUT = timedelta(minutes=2)
MAINTENANCE_EVERY = 10  # ticks between looks for interrupted sends and stale claims


@dataclass
class TickStats:
    """What one dispatch pass did."""

    claimed: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def add(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


class Dispatcher:
    """One per process; `tick()` is called every few seconds by the scheduler."""

    def __init__(self, app: App, channels: Channels, clock: Callable[[], datetime] = utcnow,
                 batch: int | None = None) -> None:
        self.app, self.channels, self.clock = app, channels, clock
        self.settings = app.settings
        self.batch = batch or self.settings.dispatch_concurrency * 4
        self.on_latency: Callable[[str, float], None] | None = None
        self._ticks = 0
        self._preparer = Preparer(self.settings, channels, clock)
        self._failover = Failover(app, clock, self._preparer, self._call)

    async def tick(self) -> TickStats:
        """Claim what is due, prepare the batch in one transaction, send it concurrently,
        record the results in one transaction; failures take the per-bundle path."""
        now = self.clock()
        self._ticks += 1
        if self._ticks % MAINTENANCE_EVERY == 1:
            await mark_interrupted(self.app, now - SEND_TIMEOUT)
            await release_stale(self.app.engine, now, SEND_TIMEOUT)
        ids = await claim(self.app.engine, now, self.batch)
        stats = TickStats(claimed=len(ids))
        if not ids:
            return stats
        sends = await self._prepare_batch(ids, now, stats)
        results = await self._send_batch(sends)
        await self._record_batch(results, stats)
        return stats

    async def process(self, bundle_id: int) -> str:
        """One bundle on its own, through its channels in order (see `failover`)."""
        return await self._failover.process(bundle_id)

    async def _prepare_batch(self, ids: list[int], now: datetime, stats: TickStats) -> list[Send]:
        """One transaction for the whole batch (no per-bundle flushes). A bundle that raises
        is released for a minute and the batch is prepared again without it."""
        async with self.app.sessions() as s:
            pauses = await pause_flags.flags(s)
            pre = await preload(s, ids)
            sends: list[Send] = []
            steps: list[str] = []
            for bundle_id in ids:
                try:
                    step, send = await self._preparer.prepare_loop(s, bundle_id, now, pauses, pre)
                except Exception:
                    log.exception("bundle %s: dispatch failed; it will be retried", bundle_id)
                    await s.rollback()
                    await self._release(bundle_id, self.clock() + timedelta(minutes=1))
                    stats.add("error")
                    rest = [i for i in ids if i != bundle_id]
                    return await self._prepare_batch(rest, now, stats) if rest else []
                if send is None:
                    steps.append(step)
                else:
                    sends.append(send)
            await s.commit()
        for step in steps:
            stats.add(step)
        return sends

    async def _send_batch(self, sends: list[Send]) -> list[tuple[Send, Outcome]]:
        """Call the providers at DISPATCH_CONCURRENCY, each send at its reserved rate slot.
        Once a channel has failed CIRCUIT_FAILURES times in this batch, its other sends are
        held back (the circuit will be degraded) rather than all failing the same way."""
        slots: dict[str, list[datetime]] = {}
        for sender in {x.sender for x in sends}:
            group = [x for x in sends if x.sender == sender]
            slots[sender] = await reserve_many(self.app.engine, sender, group[0].rate, len(group))
        gate = asyncio.Semaphore(self.settings.dispatch_concurrency)
        failing: dict[str, int] = {}

        async def one(send: Send, slot: datetime) -> tuple[Send, Outcome]:
            async with gate:
                delay = (slot - utcnow()).total_seconds()
                if delay > 0:
                    await asyncio.sleep(delay)
                if failing.get(send.channel, 0) >= self.settings.circuit_failures and not send.probe:
                    return send, Held("waiting_degraded")
                outcome = await self._call(send)
                if isinstance(outcome, SendResult):
                    failing[send.channel] = 0
                elif isinstance(outcome, TransientDeliveryError):
                    failing[send.channel] = failing.get(send.channel, 0) + 1
                return send, outcome

        ordered = [(x, slots[x.sender].pop(0)) for x in sends]
        return list(await asyncio.gather(*(one(x, slot) for x, slot in ordered)))

    async def _call(self, send: Send) -> Outcome:
        """The provider call, after a last look if the send waited (`lastlook`). A failure comes
        back as a value, so one send never sinks the batch. Our own setup being wrong sent
        nothing: retried like a transient error and counted by the circuit, so the channel
        degrades and waits for the operator. An adapter bug is an outcome we do not know."""
        reason = await hold_reason(self.app, send, self.clock())
        if reason is not None:
            return Held(reason)
        adapter = self.channels.adapter(send.channel, send.address)
        assert adapter is not None and send.outbound is not None
        started = time.perf_counter()
        try:
            return await adapter.send(send.outbound)
        except (TransientDeliveryError, PermanentDeliveryError) as exc:
            return exc
        except ConfigurationError as exc:
            log.error("%s send %s: %s (code %s): check the %s settings", send.channel,
                      send.message_id, type(exc).__name__, exc.code, send.channel)
            return TransientDeliveryError(f"configuration: {exc.code}", code=exc.code)
        except ChannelError as exc:
            log.error("%s send %s: %s (code %s)", send.channel, send.message_id,
                      type(exc).__name__, exc.code)
            return TransientDeliveryError(type(exc).__name__, outcome_unknown=True)
        except Exception as exc:  # an adapter bug: treat as an outcome we do not know
            # The frames, not the message: an exception's text may hold the address.
            log.error("%s send %s raised %s (adapter bug)\n%s", send.channel, send.message_id,
                      type(exc).__name__, "".join(traceback.format_tb(exc.__traceback__)))
            return TransientDeliveryError(f"adapter error: {exc.__class__.__name__}",
                                          outcome_unknown=True)
        finally:
            if self.on_latency:
                self.on_latency(send.channel, time.perf_counter() - started)

    async def _record_batch(self, results: list[tuple[Send, Outcome]],
                            stats: TickStats) -> None:
        """Accepted sends are recorded together in one transaction; each failure is handed to
        the per-bundle failover path, which goes straight on to the next channel if it can."""
        now = self.clock()
        ok = [(x, r) for x, r in results if isinstance(r, SendResult)]
        if ok:
            async with self.app.sessions() as s:
                await record_accepted(s, ok, now, self.settings)
                await s.commit()
            for _ in ok:
                stats.add("sent")
        for send, outcome in results:
            if isinstance(outcome, SendResult):
                continue
            try:
                if isinstance(outcome, Held):
                    stats.add(await self._failover.held(send, outcome.reason))
                    continue
                step = await self._failover.failed(send, outcome)
                stats.add(await self.process(send.bundle_id) if step == "next" else step)
            except Exception:
                # One bundle's trouble must not leave the batch's other failures unrecorded:
                # left `sending` they would pass for interrupted sends and never go again.
                log.exception("bundle %s: handling a failed send failed; reconciled later",
                              send.bundle_id)
                stats.add("error")

    async def _release(self, bundle_id: int, at: datetime | None) -> None:
        """In a transaction of its own: the batch's was rolled back."""
        async with self.app.sessions() as s:
            bundle = await s.get(Bundle, bundle_id)
            if bundle is not None and bundle.status == "claimed":
                release_in(bundle, at, self.clock())
                s.add(bundle)
                await s.commit()

    # Kept for callers that prepare or rebuild one message by hand (tests, diagnostics).

    async def _prepare(self, s: AsyncSession, bundle_id: int, now: datetime,
                       pauses: list[PauseFlag], pre: Preload) -> tuple[str, Send | None]:
        return await self._preparer.prepare(s, bundle_id, now, pauses, pre)

    async def _rebuild(self, s: AsyncSession, message: Message) -> OutboundMessage:
        return await self._preparer.rebuild(s, message)
