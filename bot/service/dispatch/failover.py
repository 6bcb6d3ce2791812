"""What a failed send leads to, one bundle at a time.

The batch path only handles sends that went well; each failure comes here, because what
follows depends on the bundle: a transient error is retried later (backoff with jitter, or
the provider's Retry-After; a degraded channel is waited for, not failed over), an outcome
we do not know is reconciled rather than repeated, and a permanent error moves on to the
customer's next channel. When no channel is left, preparing the bundle hands callback
touches to a person (`outcomes.exhausted`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.bootstrap import App
from bot.db.models import Bundle, Message, Touch
from bot.service import pause as pause_flags
from bot.service.channel_registry import CHANNEL_NAMES
from bot.service.dispatch import circuit, outcomes
from bot.service.dispatch.preload import preload
from bot.service.dispatch.prepare import Preparer, Send
from bot.service.dispatch.ratelimit import wait_for_slot
from bot.service.dispatch.record import record_accepted
from channels.base import PermanentDeliveryError, SendResult, TransientDeliveryError

Call = Callable[[Send], Awaitable[SendResult | Exception]]


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

    async def _transient(self, bundle_id: int, send: Send, exc: TransientDeliveryError) -> str:
        now = self.clock()
        async with self.app.sessions() as s:
            message = await s.get(Message, send.message_id)
            bundle = await s.get(Bundle, bundle_id)
            assert message is not None and bundle is not None
            members = await _sending_members(s, bundle_id)
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

    async def _permanent(self, bundle_id: int, send: Send, exc: PermanentDeliveryError) -> str:
        now = self.clock()
        async with self.app.sessions() as s:
            message = await s.get(Message, send.message_id)
            assert message is not None
            members = await _sending_members(s, bundle_id)
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


async def _sending_members(s: AsyncSession, bundle_id: int) -> list[Touch]:
    return list((await s.exec(select(Touch).where(
        Touch.bundle_id == bundle_id, Touch.status == "sending"))).all())
