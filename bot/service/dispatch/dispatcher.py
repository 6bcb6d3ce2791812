"""The dispatcher: claim due bundles, pick a channel, compose, take a rate slot, send, record.

A message is recorded `prepared` when composed and `sending` only as its request leaves
(`lastlook`): a send cut off while waiting simply goes again; one cut off during its call is
found and reconciled (`reconcile`), never blindly repeated. `drain()` is the shutdown: stop
claiming, let the calls out finish, hand the rest back unsent.

One path for every send, in rounds of a few transactions each: prepare the batch in one
transaction (`prepare`), reserve its rate slots in one go and call the providers
concurrently, record the accepted sends in one transaction (`record`) and each failure on
its own (`failures`). A bundle whose channel failed for good goes round again at once, for
the customer's next channel, through the same steps.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.app import App
from bot.db.models import Bundle, utcnow
from bot.logs import frames_only
from bot.service.admin import pause as pause_flags
from bot.service.dispatch.claim import claim, release_stale
from bot.service.dispatch.failures import Failures
from bot.service.dispatch.lastlook import Held, Starter, start_call
from bot.service.dispatch.outbox import send_outbox
from bot.service.dispatch.preload import preload
from bot.service.dispatch.prepare import Preparer, Send, release_in
from bot.service.dispatch.ratelimit import reserve_many
from bot.service.dispatch.reconcile import mark_interrupted
from bot.service.dispatch.record import record_accepted
from channels.base import (
    ChannelError,
    ConfigurationError,
    PermanentDeliveryError,
    SendResult,
    TransientDeliveryError,
)
from channels.registry import CHANNEL_NAMES, Channels

log = logging.getLogger("outreach.dispatch")
#: What one provider call came to: accepted, an error (as a value), or held back before it.
CallResult = SendResult | Exception | Held
#: Rounds per tick: the first send and one more per channel a bundle may fail over to.
ROUNDS = len(CHANNEL_NAMES) + 2
SEND_TIMEOUT = timedelta(minutes=2)
MAINTENANCE_EVERY = 10  # ticks between looks for interrupted sends and stale claims


@dataclass
class TickStats:
    """What one dispatch pass did."""

    claimed: int = 0
    steps: dict[str, int] = field(default_factory=dict)  # what each bundle came to

    def add(self, step: str) -> None:
        self.steps[step] = self.steps.get(step, 0) + 1


class Dispatcher:
    """One per process; `tick()` is called every few seconds by the scheduler."""

    def __init__(self, app: App, channels: Channels, clock: Callable[[], datetime] = utcnow,
                 batch: int | None = None) -> None:
        self.app, self.channels, self.clock = app, channels, clock
        self.settings = app.settings
        self.batch = batch or self.settings.dispatch_concurrency * 4
        self.on_latency: Callable[[str, float], None] | None = None
        self._ticks = 0
        self.preparer = Preparer(self.settings, channels, clock)
        self._failures = Failures(app, clock)
        self._stop = asyncio.Event()  # set by drain(): claim nothing more, start no call
        self._idle = asyncio.Event()  # clear while a tick runs
        self._idle.set()

    async def drain(self, grace: float) -> bool:
        """Shutdown: claim nothing more; calls already out may finish within `grace` seconds
        and are recorded; sends still waiting go back unsent. False if the grace ran out
        (calls cut off then are reconciled like any interrupted send)."""
        self._stop.set()
        try:
            await asyncio.wait_for(self._idle.wait(), grace)
        except TimeoutError:
            log.warning("shutdown: sends still out after %.0f s; they will be reconciled", grace)
            return False
        return True

    async def tick(self) -> TickStats:
        """Claim what is due and send it; a bundle whose channel failed for good goes round
        again for its next channel within the same tick."""
        if self._stop.is_set():
            return TickStats()
        self._idle.clear()
        try:
            return await self._tick(self.clock())
        finally:
            self._idle.set()

    async def _tick(self, now: datetime) -> TickStats:
        self._ticks += 1
        # Answers and alerts first: they wait for no window (any the deciding process could
        # not send, or that wait for a retry).
        outbox = await send_outbox(self.app, self.channels, now)
        if self._ticks % MAINTENANCE_EVERY == 1:
            await mark_interrupted(self.app, now - SEND_TIMEOUT, now)
            await release_stale(self.app.engine, now, SEND_TIMEOUT)
        ids = await claim(self.app.engine, now, self.batch)
        stats = TickStats(claimed=len(ids))
        for step, count in outbox.items():
            stats.steps[f"outbox_{step}"] = count
        for _ in range(ROUNDS):
            if not ids or self._stop.is_set():
                break
            sends = await self._prepare_batch(ids, self.clock(), stats)
            results = await self._send_batch(sends)
            ids = await self._record_batch(results, stats)
        for bundle_id in ids:
            if self._stop.is_set():  # shutting down: back to the queue for whoever runs next
                await self._release(bundle_id, None)
            # (Still failing over after every round: the stale-claim sweep frees it.)
            stats.add("released")
        return stats

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
                    step, send = await self.preparer.prepare_loop(s, bundle_id, now, pauses, pre)
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

    async def _send_batch(self, sends: list[Send]) -> list[tuple[Send, CallResult]]:
        """Call the providers at DISPATCH_CONCURRENCY, each send at its reserved rate slot.
        Once a channel has failed CIRCUIT_FAILURES times in this batch, its other sends are
        held back (the circuit will be degraded) rather than all failing the same way."""
        slots: dict[str, list[datetime]] = {}
        for sender in {x.sender for x in sends}:
            group = [x for x in sends if x.sender == sender]
            slots[sender] = await reserve_many(self.app.engine, sender, group[0].rate, len(group))
        gate = asyncio.Semaphore(self.settings.dispatch_concurrency)
        starter = Starter(self.app)
        failing: dict[str, int] = {}

        async def one(send: Send, slot: datetime) -> tuple[Send, CallResult]:
            async with gate:
                delay = (slot - utcnow()).total_seconds()
                if delay > 0:
                    await self._sleep(delay)
                if failing.get(send.channel, 0) >= self.settings.circuit_failures and not send.probe:
                    return send, Held("waiting_degraded")
                result = await self._call(send, starter)
                if isinstance(result, SendResult):
                    failing[send.channel] = 0
                elif isinstance(result, TransientDeliveryError):
                    failing[send.channel] = failing.get(send.channel, 0) + 1
                return send, result

        ordered = [(x, slots[x.sender].pop(0)) for x in sends]
        return list(await asyncio.gather(*(one(x, slot) for x, slot in ordered)))

    async def _sleep(self, seconds: float) -> None:
        """Wait for a rate slot, waking early for a shutdown."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)

    async def _call(self, send: Send, starter: Starter | None = None) -> CallResult:
        """The provider call, after a last look if the send waited (`lastlook`). A failure comes
        back as a value, so one send never sinks the batch. Our own setup being wrong sent
        nothing: retried like a transient error and counted by the circuit, so the channel
        degrades and waits for the operator. An adapter bug is an outcome we do not know."""
        reason = await start_call(self.app, send, self.clock(), self._stop.is_set(), starter)
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
            log.error("%s send %s raised (adapter bug) %s", send.channel, send.message_id,
                      frames_only(exc))
            return TransientDeliveryError(f"adapter error: {exc.__class__.__name__}",
                                          outcome_unknown=True)
        finally:
            if self.on_latency:
                self.on_latency(send.channel, time.perf_counter() - started)

    async def _record_batch(self, results: list[tuple[Send, CallResult]],
                            stats: TickStats) -> list[int]:
        """Accepted sends are recorded together in one transaction, each failure on its own.
        Returns the bundles to prepare again now, for their next channel."""
        now = self.clock()
        ok = [(x, r) for x, r in results if isinstance(r, SendResult)]
        if ok:
            async with self.app.sessions() as s:
                await record_accepted(s, ok, now, self.settings)
                await s.commit()
            for _ in ok:
                stats.add("sent")
        again: list[int] = []
        for send, result in results:
            if isinstance(result, SendResult):
                continue
            try:
                if isinstance(result, Held):
                    stats.add(await self._failures.held(send, result.reason))
                    continue
                step = await self._failures.failed(send, result)
            except Exception:
                # One bundle's trouble must not leave the batch's other failures unrecorded:
                # left `sending` they would pass for interrupted sends and never go again.
                log.exception("bundle %s: handling a failed send failed; reconciled later",
                              send.bundle_id)
                stats.add("error")
                continue
            if step == "next":
                again.append(send.bundle_id)
            else:
                stats.add(step)
        return again

    async def _release(self, bundle_id: int, at: datetime | None) -> None:
        """In a transaction of its own: the batch's was rolled back."""
        async with self.app.sessions() as s:
            bundle = await s.get(Bundle, bundle_id)
            if bundle is not None and bundle.status == "claimed":
                release_in(bundle, at, self.clock())
                s.add(bundle)
                await s.commit()
