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

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.bootstrap import App
from bot.db.models import AddressStatus, Branch, Bundle, Customer, Message, Touch, utcnow
from bot.domain.rules import MARKETING_KINDS, parse_window, window_bounds_utc
from bot.service import pause as pause_flags
from bot.service.channel_registry import CHANNEL_NAMES, Channels
from bot.service.customers import effective_consent
from bot.service.dispatch import circuit, outcomes
from bot.service.dispatch.claim import claim, release_stale
from bot.service.dispatch.compose import compose
from bot.service.dispatch.ratelimit import wait_for_slot
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


class Dispatcher:
    """One per process; `tick()` is called every few seconds by the scheduler."""

    def __init__(self, app: App, channels: Channels, clock: Callable[[], datetime] = utcnow,
                 batch: int | None = None) -> None:
        self.app, self.channels, self.clock = app, channels, clock
        self.settings = app.settings
        self.batch = batch or self.settings.dispatch_concurrency * 4
        self.on_latency: Callable[[str, float], None] | None = None
        self._outbound: dict[str, OutboundMessage] = {}  # composed payloads awaiting their send

    async def tick(self) -> TickStats:
        """Reconcile interrupted sends, then claim and process what is due."""
        now = self.clock()
        await mark_interrupted(self.app, now - SEND_TIMEOUT)
        await release_stale(self.app.engine, now, SEND_TIMEOUT)
        ids = await claim(self.app.engine, now, self.batch)
        stats = TickStats(claimed=len(ids))
        gate = asyncio.Semaphore(self.settings.dispatch_concurrency)

        async def one(bundle_id: int) -> None:
            async with gate:
                try:
                    stats.add(await self.process(bundle_id))
                except Exception:  # one bad bundle must not stop the others
                    log.exception("bundle %s: dispatch failed; it will be retried", bundle_id)
                    await self._release(bundle_id, self.clock() + timedelta(minutes=1))
                    stats.add("error")

        await asyncio.gather(*(one(i) for i in ids))
        return stats

    async def process(self, bundle_id: int) -> str:
        """Try channels in the customer's order until one takes the message or none is left."""
        for _ in range(len(CHANNEL_NAMES) + 2):
            step, send = await self._prepare(bundle_id)
            if send is None:
                if step == "next":
                    continue
                return step
            step = await self._send(bundle_id, send)
            if step != "next":
                return step
        return "released"

    async def _release(self, bundle_id: int, at: datetime | None) -> None:
        async with self.app.sessions() as s:
            bundle = await s.get(Bundle, bundle_id)
            if bundle is not None and bundle.status == "claimed":
                bundle.status, bundle.next_attempt_at = "planned", at
                bundle.claimed_at, bundle.updated_at = None, self.clock()
                s.add(bundle)
                await s.commit()

    def _order(self, customer: Customer) -> list[str]:
        return customer.channels.split("|") if customer.channels else list(CHANNEL_NAMES)

    async def _prepare(self, bundle_id: int) -> tuple[str, _Send | None]:
        """Inside one transaction: checks, channel choice, compose, record `sending`."""
        now = self.clock()
        async with self.app.sessions() as s:
            bundle = await s.get(Bundle, bundle_id)
            if bundle is None or bundle.status != "claimed":
                return "done", None
            customer = await s.get(Customer, bundle.customer_id)
            assert customer is not None
            branch = await s.get(Branch, customer.branch_code)
            assert branch is not None
            members = list((await s.exec(select(Touch).where(
                Touch.bundle_id == bundle.id, col(Touch.status).in_(("planned", "sending"))))).all())
            _, window_end = window_bounds_utc(bundle.local_date, parse_window(branch.send_window),
                                              branch.timezone)
            if now >= window_end:  # never late: the sweep expires it
                await s.rollback()
                await self._release(bundle_id, None)
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
                await s.commit()
                return "suppressed", None
            messages = list((await s.exec(select(Message).where(Message.bundle_id == bundle.id))).all())
            retry = next((m for m in messages if m.status == "retry"), None)
            if retry is not None:
                channel, address = retry.channel, retry.address
            else:
                choice = await self._choose(s, customer, messages)
                if choice is None:
                    await outcomes.exhausted(s, bundle, customer, members, self.channels.all_log(), now)
                    await s.commit()
                    return bundle.status, None
                channel, address = choice
            adapter = self.channels.adapter(channel, address)
            assert adapter is not None
            if pause_flags.is_paused(await pause_flags.flags(s), branch.code, channel):
                await s.rollback()
                await self._release(bundle_id, now + timedelta(seconds=5))
                return "paused", None
            probe = False
            if adapter.mode != "log":
                conn = await s.connection()
                allowed, retry_at = await circuit.may_send(
                    conn, channel, now, self.settings.circuit_probe_seconds)
                if not allowed:
                    await s.commit()
                    await self._release(bundle_id, retry_at)
                    return "waiting_degraded", None
                probe = retry_at is None and await self._degraded(s, channel)
            if retry is None:
                message_id = new_id()
                composed = await compose(
                    s, self.settings, message_id=message_id, customer=customer, branch=branch,
                    members=members, channel=channel, address=address,
                    two_way_sms=channel == "sms" and adapter.name != "log",
                    today=now.astimezone(ZoneInfo(branch.timezone)).date())
                message = Message(id=message_id, direction="out", customer_id=customer.id,
                                  bundle_id=bundle.id, channel=channel, address=address,
                                  subject=composed.rendered.subject, body=composed.stored_body,
                                  status="sending", created_at=now, updated_at=now,
                                  segments=composed.rendered.sms.segments if composed.rendered.sms else None)
                self._outbound[message_id] = composed.outbound
            else:
                message = retry
                message.status, message.updated_at = "sending", now
            s.add(message)
            if adapter.mode == "log":
                # Log mode: recorded, not delivered; the next channel is tried.
                await self._finish_log(s, message, adapter)
                await s.commit()
                return "next", None
            outcomes.set_members(members, "sending", now)
            for touch in members:
                s.add(touch)
            await s.commit()
            sender, rate = self._sender(channel, adapter.name)
            return "sending", _Send(message.id, channel, sender, rate, probe)

    async def _degraded(self, s: AsyncSession, channel: str) -> bool:
        from bot.db.models import ChannelState

        state = await s.get(ChannelState, channel)
        return state is not None and state.state == "degraded"

    def _sender(self, channel: str, provider: str) -> tuple[str, float]:
        rates = {"sms": self.settings.twilio_rate_per_second,
                 "email": self.settings.email_rate_per_second,
                 "telegram": self.settings.telegram_rate_per_second}
        return f"{channel}:{provider}", rates[channel]

    async def _finish_log(self, s: AsyncSession, message: Message, adapter: Channel) -> None:
        outbound = self._outbound.pop(message.id, None) or OutboundMessage(
            message_id=message.id, channel=message.channel, to=message.address, body=message.body)
        result: SendResult = await adapter.send(outbound)
        message.status, message.provider_id = "logged", result.provider_id
        message.updated_at = self.clock()

    async def _choose(self, s: AsyncSession, customer: Customer,
                      messages: list[Message]) -> tuple[str, str] | None:
        """First channel in the customer's order with an address that is usable and routable,
        not already tried for this bundle."""
        tried = {m.channel for m in messages if m.status in ("failed", "logged")}
        for channel in self._order(customer):
            address = getattr(customer, ADDRESS[channel], None)
            if not address or channel in tried:
                continue
            state = await s.get(AddressStatus, (channel, address))
            if state is not None and state.status != "ok":
                continue
            if self.channels.adapter(channel, address) is None:
                continue  # an unroutable number is skipped like a missing address
            return channel, address
        return None

    async def _send(self, bundle_id: int, send: _Send) -> str:
        """Outside any transaction: wait for a rate slot, call the provider, record the outcome."""
        async with self.app.sessions() as s:
            message = await s.get(Message, send.message_id)
            assert message is not None
            outbound = self._outbound.pop(send.message_id, None)
            if outbound is None:  # a retry: resend exactly what was recorded
                outbound = await self._rebuild(s, message)
        adapter = self.channels.adapter(send.channel, message.address)
        assert adapter is not None
        await wait_for_slot(self.app.engine, send.sender, send.rate)
        started = time.perf_counter()
        try:
            result = await adapter.send(outbound)
        except TransientDeliveryError as exc:
            return await self._transient(bundle_id, send, exc)
        except PermanentDeliveryError as exc:
            return await self._permanent(bundle_id, send, exc)
        finally:
            if self.on_latency:
                self.on_latency(send.channel, time.perf_counter() - started)
        return await self._sent(bundle_id, send, result)

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

    async def _sent(self, bundle_id: int, send: _Send, result: SendResult) -> str:
        now = self.clock()
        async with self.app.sessions() as s:
            message = await s.get(Message, send.message_id)
            bundle = await s.get(Bundle, bundle_id)
            assert message is not None and bundle is not None
            customer = await s.get(Customer, bundle.customer_id)
            assert customer is not None
            message.status, message.provider_id = result.status, result.provider_id
            message.attempts += 1
            message.segments = result.segments or message.segments
            message.updated_at = now
            s.add(message)
            members = await self._members(s, bundle_id)
            outcomes.set_members(members, "sent", now)
            for touch in members:
                s.add(touch)
            bundle.status, bundle.updated_at = "sent", now
            bundle.attempts += 1
            s.add(bundle)
            outcomes.record_sent(s, customer, message)
            await circuit.record(await s.connection(), send.channel, True, now,
                                 self.settings.circuit_failures, self.settings.circuit_probe_seconds)
            await s.flush()
            await _apply_early(s, message)
            await s.commit()
        return "sent"

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


async def _apply_early(session: AsyncSession, message: Message) -> None:
    """Statuses that arrived before the provider id was recorded (webhooks are fast)."""
    try:
        from bot.service.delivery import apply_early_statuses
    except ImportError:  # the inbound side is not installed in this build
        return
    await apply_early_statuses(session, message)
