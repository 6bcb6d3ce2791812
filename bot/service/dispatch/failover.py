"""What a failed send leads to, one bundle at a time.

The batch path only handles sends that went well; each failure comes here, because what
follows depends on the bundle: a transient error is retried later (backoff with jitter, or
the provider's Retry-After; a degraded channel is waited for, not failed over), an outcome
we do not know is reconciled rather than repeated (but counted by the circuit like any
failure: a provider that hangs is down), and a permanent error moves on to the customer's
next channel. A message taken for interrupted meanwhile (`unknown`) is not moved. When no
channel is left, preparing the bundle hands callback touches to a person
(`outcomes.exhausted`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.bootstrap import App
from bot.db.models import Bundle, Message, Touch
from bot.domain.rules import MARKETING_KINDS
from bot.service import pause as pause_flags
from bot.service.channel_registry import CHANNEL_NAMES
from bot.service.dispatch import circuit, outcomes
from bot.service.dispatch.lastlook import Held
from bot.service.dispatch.preload import preload
from bot.service.dispatch.prepare import Preparer, Send, release_in
from bot.service.dispatch.ratelimit import wait_for_slot
from bot.service.dispatch.record import record_accepted
from channels.base import PermanentDeliveryError, SendResult, TransientDeliveryError

Call = Callable[[Send], Awaitable[SendResult | Exception | Held]]
PAUSE_RECHECK = timedelta(seconds=5)  # as preparing does for a paused channel


class Failover:
    """The per-bundle path: records a failure, then tries the bundle's next channel."""

    def __init__(self, app: App, clock: Callable[[], datetime], preparer: Preparer,
                 call: Call) -> None:
        self.app, self.clock, self.preparer, self.call = app, clock, preparer, call
        self.settings = app.settings

    async def process(self, bundle_id: int) -> str:
        """One bundle on its own: try channels in the customer's order until one takes the
        message or none is left (used after a failure; the batch path handles the rest)."""
        for _ in range(len(CHANNEL_NAMES) + 2):
            async with self.app.sessions() as s:
                step, send = await self.preparer.prepare_loop(s, bundle_id, self.clock(),
                                                              await pause_flags.flags(s),
                                                              await preload(s, [bundle_id]))
                await s.commit()
            if send is None:
                return step
            await wait_for_slot(self.app.engine, send.sender, send.rate)
            result = await self.call(send)
            if isinstance(result, Held):
                return await self.held(send, result.reason)
            if isinstance(result, SendResult):
                async with self.app.sessions() as s:
                    await record_accepted(s, [(send, result)], self.clock(), self.settings)
                    await s.commit()
                return "sent"
            step = await self.failed(send, result)
            if step != "next":
                return step
        return "released"

    async def failed(self, send: Send, exc: Exception) -> str:
        """Record a failed send; "next" means try the bundle's next channel now."""
        if isinstance(exc, PermanentDeliveryError):
            return await self._permanent(send.bundle_id, send, exc)
        assert isinstance(exc, TransientDeliveryError)
        return await self._transient(send.bundle_id, send, exc)

    async def held(self, send: Send, reason: str) -> str:
        """A send stopped before its provider call (see `lastlook`): nothing went out. Paused
        or waiting for its channel: back to planned, the same message later. Opted out:
        the greetings are suppressed, anything else is composed again without them."""
        if reason == "interrupted":
            return "unknown"  # already marked so while it waited: never sent, never resent
        now = self.clock()
        async with self.app.sessions() as s:
            message = await s.get(Message, send.message_id, with_for_update=True)
            bundle = await s.get(Bundle, send.bundle_id)
            assert message is not None and bundle is not None
            if message.status != "sending":
                return "unknown"
            members = await _sending_members(s, send.bundle_id)
            if reason == "opted_out":
                message.status, message.error_code = "cancelled", "no_consent_at_send"
                greetings = [t for t in members if t.kind in MARKETING_KINDS]
                outcomes.set_members(greetings, "suppressed", now, "no_consent_at_send")
                members = [t for t in members if t.kind not in MARKETING_KINDS]
                if members:
                    release_in(bundle, now, now)
                else:
                    bundle.status, bundle.reason, bundle.updated_at = (
                        "suppressed", "no_consent_at_send", now)
                s.add_all(greetings)
                step = "suppressed"
            else:
                message.status = "retry"
                at = now + PAUSE_RECHECK if reason == "paused" else None  # None: the probe
                release_in(bundle, at, now)
                step = reason
            message.updated_at = now
            outcomes.set_members(members, "planned", now)
            s.add_all([message, bundle, *members])
            await s.commit()
        return step

    async def _transient(self, bundle_id: int, send: Send, exc: TransientDeliveryError) -> str:
        now = self.clock()
        async with self.app.sessions() as s:
            message = await s.get(Message, send.message_id, with_for_update=True)
            bundle = await s.get(Bundle, bundle_id)
            assert message is not None and bundle is not None
            # Every failure counts, an unknown outcome too: a provider that hangs is down.
            state = await circuit.record(await s.connection(), send.channel, False, now,
                                         self.settings.circuit_failures,
                                         self.settings.circuit_probe_seconds)
            if message.status != "sending":
                # Marked `unknown` (interrupted) while the call was out: left as it is.
                await s.commit()
                return "unknown"
            members = await _sending_members(s, bundle_id)
            if state == "degraded":
                # Waiting messages keep their order: the probe decides when they all resume.
                await outcomes.wait_for_channel(s, send.channel)
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
            if message.attempts >= self.settings.send_max_attempts:
                message.status, message.updated_at = "failed", now
                outcomes.set_members(members, "planned", now)
                for row in (message, *members):
                    s.add(row)
                await s.commit()
                return "next"
            message.status, message.updated_at = "retry", now
            delay = outcomes.backoff(message.attempts, exc.retry_after)
            outcomes.set_members(members, "planned", now)
            bundle.status, bundle.claimed_at = "planned", None
            bundle.next_attempt_at = now + delay if state != "degraded" else None
            bundle.updated_at = now
            for row in (message, bundle, *members):
                s.add(row)
            await s.commit()
        return "retry"

    async def _permanent(self, bundle_id: int, send: Send, exc: PermanentDeliveryError) -> str:
        now = self.clock()
        async with self.app.sessions() as s:
            message = await s.get(Message, send.message_id, with_for_update=True)
            assert message is not None
            if exc.address_unusable:
                await outcomes.mark_unusable(s, message.channel, message.address,
                                             f"provider code {exc.code}")
            if message.status != "sending":
                # Marked `unknown` (interrupted) while the call was out: left as it is.
                await s.commit()
                return "unknown"
            members = await _sending_members(s, bundle_id)
            message.status, message.error_code = "failed", str(exc.code) if exc.code else "permanent"
            message.attempts += 1
            message.updated_at = now
            outcomes.set_members(members, "planned", now)
            for row in (message, *members):
                s.add(row)
            await s.commit()
        return "next"


async def _sending_members(s: AsyncSession, bundle_id: int) -> list[Touch]:
    return list((await s.exec(select(Touch).where(
        Touch.bundle_id == bundle_id, Touch.status == "sending"))).all())
