"""The dispatcher: claim due bundles, pick a channel, compose, take a rate slot, send, record.

A message is recorded `sending` before the provider call, so a send cut off before its
outcome was recorded is found and reconciled, never blindly repeated.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.bootstrap import App
from bot.db.models import (
    Bundle,
    Customer,
    Message,
    PauseFlag,
    Touch,
    utcnow,
)
from bot.domain.rules import MARKETING_KINDS, parse_window, window_bounds_utc
from bot.service import pause as pause_flags
from bot.service.channel_registry import CHANNEL_NAMES, Channels
from bot.service.customers import effective_consent
from bot.service.dispatch import circuit, outcomes
from bot.service.dispatch.claim import claim, release_stale
from bot.service.dispatch.compose import compose
from bot.service.dispatch.preload import Preload, preload
from bot.service.dispatch.ratelimit import reserve_many, wait_for_slot
from bot.service.dispatch.reconcile import mark_interrupted
from bot.service.tokens import new_id
from channels.base import (
    Channel,
    OutboundMessage,
    PermanentDeliveryError,
    SendResult,
    TransientDeliveryError,
)

log = logging.getLogger("outreach.dispatch")
ADDRESS = {"sms": "phone", "email": "email", "telegram": "telegram_chat_id"}
SEND_TIMEOUT = timedelta(minutes=2)
MAINTENANCE_EVERY = 10  # ticks between looks for interrupted sends and stale claims


@dataclass
class TickStats:
    """What one dispatch pass did."""

    claimed: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def add(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


@dataclass
class _Send:
    """A send prepared inside a transaction and performed outside it."""

    message_id: str
    channel: str
    sender: str
    rate: float
    probe: bool
    bundle_id: int
    address: str
    customer_id: str
    branch_code: str
    outbound: OutboundMessage | None = None


class Dispatcher:
    """One per process; `tick()` is called every few seconds by the scheduler."""

    def __init__(self, app: App, channels: Channels, clock: Callable[[], datetime] = utcnow,
                 batch: int | None = None) -> None:
        self.app, self.channels, self.clock = app, channels, clock
        self.settings = app.settings
        self.batch = batch or self.settings.dispatch_concurrency * 4
        self.on_latency: Callable[[str, float], None] | None = None
        self._ticks = 0

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

    async def _prepare_batch(self, ids: list[int], now: datetime, stats: TickStats) -> list[_Send]:
        """One transaction for the whole batch (no per-bundle flushes). A bundle that raises
        is released for a minute and the batch is prepared again without it."""
        async with self.app.sessions() as s:
            pauses = await pause_flags.flags(s)
            pre = await preload(s, ids)
            sends: list[_Send] = []
            steps: list[str] = []
            for bundle_id in ids:
                try:
                    step, send = await self._prepare_loop(s, bundle_id, now, pauses, pre)
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

    async def _send_batch(
        self, sends: list[_Send]
    ) -> list[tuple[_Send, SendResult | Exception]]:
        """Call the providers at DISPATCH_CONCURRENCY, each send at its reserved rate slot."""
        slots: dict[str, list[datetime]] = {}
        for sender in {x.sender for x in sends}:
            group = [x for x in sends if x.sender == sender]
            slots[sender] = await reserve_many(self.app.engine, sender, group[0].rate, len(group))
        gate = asyncio.Semaphore(self.settings.dispatch_concurrency)

        async def one(send: _Send, slot: datetime) -> tuple[_Send, SendResult | Exception]:
            async with gate:
                delay = (slot - utcnow()).total_seconds()
                if delay > 0:
                    await asyncio.sleep(delay)
                return send, await self._call(send)

        ordered = [(x, slots[x.sender].pop(0)) for x in sends]
        return list(await asyncio.gather(*(one(x, slot) for x, slot in ordered)))

    async def _call(self, send: _Send) -> SendResult | Exception:
        adapter = self.channels.adapter(send.channel, send.address)
        assert adapter is not None and send.outbound is not None
        started = time.perf_counter()
        try:
            return await adapter.send(send.outbound)
        except (TransientDeliveryError, PermanentDeliveryError) as exc:
            return exc
        except Exception as exc:  # an adapter bug: treat as an outcome we do not know
            log.exception("%s send %s raised", send.channel, send.message_id)
            return TransientDeliveryError(f"adapter error: {exc.__class__.__name__}",
                                          outcome_unknown=True)
        finally:
            if self.on_latency:
                self.on_latency(send.channel, time.perf_counter() - started)

    async def _record_batch(self, results: list[tuple[_Send, SendResult | Exception]],
                            stats: TickStats) -> None:
        now = self.clock()
        ok = [(x, r) for x, r in results if isinstance(r, SendResult)]
        if ok:
            async with self.app.sessions() as s:
                pre = await preload(s, [x.bundle_id for x, _ in ok])
                for send, result in ok:
                    await self._record_sent(s, send, result, now, pre)
                await s.flush()
                await _apply_early_batch(s, [m for ms in pre.messages.values() for m in ms
                                             if m.id in {x.message_id for x, _ in ok}])
                conn = await s.connection()
                for channel in sorted({x.channel for x, _ in ok}):
                    await circuit.record(conn, channel, True, now, self.settings.circuit_failures,
                                         self.settings.circuit_probe_seconds)
                await s.commit()
            for _ in ok:
                stats.add("sent")
        for send, outcome in results:
            if isinstance(outcome, SendResult):
                continue
            step = await self._failed(send, outcome)
            stats.add(await self.process(send.bundle_id) if step == "next" else step)

    async def _failed(self, send: _Send, exc: Exception) -> str:
        if isinstance(exc, PermanentDeliveryError):
            return await self._permanent(send.bundle_id, send, exc)
        assert isinstance(exc, TransientDeliveryError)
        return await self._transient(send.bundle_id, send, exc)

    async def process(self, bundle_id: int) -> str:
        """One bundle on its own: try channels in the customer's order until one takes the
        message or none is left (used after a failure; the batch path handles the rest)."""
        for _ in range(len(CHANNEL_NAMES) + 2):
            async with self.app.sessions() as s:
                step, send = await self._prepare_loop(s, bundle_id, self.clock(),
                                                      await pause_flags.flags(s),
                                                      await preload(s, [bundle_id]))
                await s.commit()
            if send is None:
                return step
            await wait_for_slot(self.app.engine, send.sender, send.rate)
            result = await self._call(send)
            if isinstance(result, SendResult):
                async with self.app.sessions() as s:
                    await self._record_sent(s, send, result, self.clock())
                    await s.flush()
                    await _apply_early_batch(s, [m for m in (await preload(s, [send.bundle_id])).messages[send.bundle_id] if m.id == send.message_id])
                    await circuit.record(await s.connection(), send.channel, True, self.clock(),
                                         self.settings.circuit_failures,
                                         self.settings.circuit_probe_seconds)
                    await s.commit()
                return "sent"
            step = await self._failed(send, result)
            if step != "next":
                return step
        return "released"

    async def _prepare_loop(self, s: AsyncSession, bundle_id: int, now: datetime,
                            pauses: list[PauseFlag], pre: Preload) -> tuple[str, _Send | None]:
        """Prepare, moving past log-mode channels (recorded, not delivered)."""
        for _ in range(len(CHANNEL_NAMES) + 1):
            step, send = await self._prepare(s, bundle_id, now, pauses, pre)
            if step != "next":
                return step, send
        return "released", None

    async def _release(self, bundle_id: int, at: datetime | None) -> None:
        async with self.app.sessions() as s:
            bundle = await s.get(Bundle, bundle_id)
            if bundle is not None and bundle.status == "claimed":
                bundle.status, bundle.next_attempt_at = "planned", at
                bundle.claimed_at, bundle.updated_at = None, self.clock()
                s.add(bundle)
                await s.commit()

    def _release_in(self, bundle: Bundle, at: datetime | None, now: datetime) -> None:
        bundle.status, bundle.next_attempt_at = "planned", at
        bundle.claimed_at, bundle.updated_at = None, now

    def _order(self, customer: Customer) -> list[str]:
        return customer.channels.split("|") if customer.channels else list(CHANNEL_NAMES)

    async def _prepare(self, s: AsyncSession, bundle_id: int, now: datetime,
                       pauses: list[PauseFlag], pre: Preload) -> tuple[str, _Send | None]:
        """In the caller's transaction: checks, channel choice, compose, record `sending`."""
        bundle = pre.bundles.get(bundle_id)
        if bundle is None or bundle.status != "claimed":
            return "done", None
        customer = pre.customers[bundle.customer_id]
        branch = pre.branches[customer.branch_code]
        members = [t for t in pre.members.get(bundle_id, []) if t.status in ("planned", "sending")]
        _, window_end = window_bounds_utc(bundle.local_date, parse_window(branch.send_window),
                                          branch.timezone)
        if now >= window_end:  # never late: the sweep expires it
            self._release_in(bundle, None, now)
            s.add(bundle)
            return "window_closed", None
        consent = effective_consent(customer, branch, self.settings)
        for touch in members:
            if touch.kind in MARKETING_KINDS and not consent:
                outcomes.set_members([touch], "suppressed", now, "no_consent_at_send")
                s.add(touch)
        members = [t for t in members if t.status != "suppressed"]
        if not members:
            bundle.status, bundle.reason, bundle.updated_at = "suppressed", "no_consent_at_send", now
            s.add(bundle)
            return "suppressed", None
        messages = pre.messages.setdefault(bundle_id, [])
        retry = next((m for m in messages if m.status == "retry"), None)
        if retry is not None:
            channel, address = retry.channel, retry.address
        else:
            choice = self._choose(customer, messages, pre.unusable)
            if choice is None:
                await outcomes.exhausted(s, bundle, customer, members, self.channels.all_log(), now)
                return bundle.status, None
            channel, address = choice
        adapter = self.channels.adapter(channel, address)
        assert adapter is not None
        if pause_flags.is_paused(pauses, branch.code, channel):
            self._release_in(bundle, now + timedelta(seconds=5), now)
            s.add(bundle)
            return "paused", None
        probe = False
        state = pre.states.get(channel)
        if adapter.mode != "log" and state is not None and state.state == "degraded":
            conn = await s.connection()
            allowed, retry_at = await circuit.may_send(
                conn, channel, now, self.settings.circuit_probe_seconds)
            if not allowed:
                self._release_in(bundle, retry_at, now)
                s.add(bundle)
                return "waiting_degraded", None
            probe = True
        if retry is None:
            message_id = new_id()
            composed = await compose(
                s, self.settings, message_id=message_id, customer=customer, branch=branch,
                members=members, channel=channel, address=address,
                two_way_sms=channel == "sms" and adapter.name != "log",
                today=now.astimezone(ZoneInfo(branch.timezone)).date(), templates=pre.templates)
            outbound: OutboundMessage | None = composed.outbound
            message = Message(id=message_id, direction="out", customer_id=customer.id,
                              bundle_id=bundle.id, channel=channel, address=address,
                              subject=composed.rendered.subject, body=composed.stored_body,
                              status="sending", created_at=now, updated_at=now,
                              segments=composed.rendered.sms.segments if composed.rendered.sms else None)
        else:
            message = retry
            message.status, message.updated_at = "sending", now
            outbound = await self._rebuild(s, message)
        s.add(message)
        if retry is None:
            messages.append(message)
        if adapter.mode == "log":
            # Log mode: recorded, not delivered; the next channel is tried.
            await self._finish_log(s, message, adapter, outbound)
            return "next", None
        outcomes.set_members(members, "sending", now)
        for touch in members:
            s.add(touch)
        sender, rate = self._sender(channel, adapter.name)
        return "sending", _Send(message.id, channel, sender, rate, probe, bundle.id,  # type: ignore[arg-type]
                                address, customer.id, customer.branch_code, outbound)

    def _sender(self, channel: str, provider: str) -> tuple[str, float]:
        rates = {"sms": self.settings.twilio_rate_per_second,
                 "email": self.settings.email_rate_per_second,
                 "telegram": self.settings.telegram_rate_per_second}
        return f"{channel}:{provider}", rates[channel]

    async def _finish_log(self, s: AsyncSession, message: Message, adapter: Channel,
                          outbound: OutboundMessage | None) -> None:
        outbound = outbound or OutboundMessage(
            message_id=message.id, channel=message.channel, to=message.address, body=message.body)
        result: SendResult = await adapter.send(outbound)
        message.status, message.provider_id = "logged", result.provider_id
        message.updated_at = self.clock()

    def _choose(self, customer: Customer, messages: list[Message],
                unusable: set[tuple[str, str]]) -> tuple[str, str] | None:
        """First channel in the customer's order with an address that is usable and routable,
        not already tried for this bundle."""
        tried = {m.channel for m in messages if m.status in ("failed", "logged")}
        for channel in self._order(customer):
            address = getattr(customer, ADDRESS[channel], None)
            if not address or channel in tried or (channel, address) in unusable:
                continue
            if self.channels.adapter(channel, address) is None:
                continue  # an unroutable number is skipped like a missing address
            return channel, address
        return None

    async def _rebuild(self, s: AsyncSession, message: Message) -> OutboundMessage:
        """Rebuild the payload of a retried message from what was stored (tokens included)."""
        from bot.db.models import LinkToken

        rows = (await s.exec(select(LinkToken).where(LinkToken.message_id == message.id))).all()
        by = {t.purpose: t.id for t in rows}
        base = self.settings.public_url
        return OutboundMessage(
            message_id=message.id, channel=message.channel, to=message.address,
            body=message.body, subject=message.subject,
            html=message.body if message.channel == "telegram" else None,
            reply_token=by.get("reply"), bounce_token=by.get("bounce"),
            list_unsubscribe_url=f"{base}/u/{by['unsubscribe']}" if "unsubscribe" in by and message.channel == "email" else None,
        )

    async def _members(self, s: AsyncSession, bundle_id: int) -> list[Touch]:
        return list((await s.exec(select(Touch).where(
            Touch.bundle_id == bundle_id, Touch.status == "sending"))).all())

    async def _record_sent(self, s: AsyncSession, send: _Send, result: SendResult,
                           now: datetime, pre: Preload | None = None) -> None:
        """Record an accepted send in the caller's transaction."""
        pre = pre or await preload(s, [send.bundle_id])
        message = next(m for m in pre.messages[send.bundle_id] if m.id == send.message_id)
        bundle = pre.bundles[send.bundle_id]
        message.status, message.provider_id = result.status, result.provider_id
        message.attempts += 1
        message.segments = result.segments or message.segments
        message.updated_at = now
        s.add(message)
        members = [t for t in pre.members.get(send.bundle_id, []) if t.status == "sending"]
        outcomes.set_members(members, "sent", now)
        for touch in members:
            s.add(touch)
        bundle.status, bundle.updated_at = "sent", now
        bundle.attempts += 1
        s.add(bundle)
        outcomes.record_sent(s, send.customer_id, send.branch_code, message)

    async def _transient(self, bundle_id: int, send: _Send, exc: TransientDeliveryError) -> str:
        now = self.clock()
        async with self.app.sessions() as s:
            message = await s.get(Message, send.message_id)
            bundle = await s.get(Bundle, bundle_id)
            assert message is not None and bundle is not None
            members = await self._members(s, bundle_id)
            if exc.outcome_unknown:
                # The request may have reached the provider: reconcile, never blindly repeat.
                message.status, message.updated_at = "unknown", now
                outcomes.set_members(members, "unknown", now)
                bundle.status, bundle.updated_at = "unknown", now
                for row in (message, bundle, *members):
                    s.add(row)
                await s.commit()
                return "unknown"
            if not send.probe:
                message.attempts += 1
            message.error_code = str(exc.code) if exc.code else "transient"
            state = await circuit.record(await s.connection(), send.channel, False, now,
                                         self.settings.circuit_failures,
                                         self.settings.circuit_probe_seconds)
            if message.attempts >= self.settings.send_max_attempts:
                message.status, message.updated_at = "failed", now
                outcomes.set_members(members, "planned", now)
                for row in (message, *members):
                    s.add(row)
                await s.commit()
                return "next"
            message.status, message.updated_at = "retry", now
            if state == "degraded":
                # Waiting messages keep their order: the probe decides when they all resume.
                await outcomes.wait_for_channel(s, send.channel)
            delay = outcomes.backoff(message.attempts, exc.retry_after)
            outcomes.set_members(members, "planned", now)
            bundle.status, bundle.claimed_at = "planned", None
            bundle.next_attempt_at = now + delay if state != "degraded" else None
            bundle.updated_at = now
            for row in (message, bundle, *members):
                s.add(row)
            await s.commit()
        return "retry"

    async def _permanent(self, bundle_id: int, send: _Send, exc: PermanentDeliveryError) -> str:
        now = self.clock()
        async with self.app.sessions() as s:
            message = await s.get(Message, send.message_id)
            assert message is not None
            members = await self._members(s, bundle_id)
            message.status, message.error_code = "failed", str(exc.code) if exc.code else "permanent"
            message.attempts += 1
            message.updated_at = now
            if exc.address_unusable:
                await outcomes.mark_unusable(s, message.channel, message.address,
                                             f"provider code {exc.code}")
            outcomes.set_members(members, "planned", now)
            for row in (message, *members):
                s.add(row)
            await s.commit()
        return "next"


async def _apply_early_batch(session: AsyncSession, messages: list[Message]) -> None:
    """Apply provider statuses that arrived before these sends were recorded (one query)."""
    from bot.db.models import EarlyStatus

    if not messages:
        return
    pids = [m.provider_id for m in messages if m.provider_id]
    early = (await session.exec(select(EarlyStatus).where(sa.or_(
        col(EarlyStatus.provider_id).in_(pids),
        col(EarlyStatus.message_id).in_([m.id for m in messages]))))).all()
    waiting = {e.provider_id for e in early} | {e.message_id for e in early}
    for message in messages:
        if message.provider_id in waiting or message.id in waiting:
            await _apply_early(session, message)


async def _apply_early(session: AsyncSession, message: Message) -> None:
    """Statuses that arrived before the provider id was recorded (webhooks are fast)."""
    try:
        from bot.service.delivery import apply_early_statuses
    except ImportError:  # the inbound side is not installed in this build
        return
    await apply_early_statuses(session, message)
