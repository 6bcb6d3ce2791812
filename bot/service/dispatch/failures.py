"""What a failed or held send leads to, one bundle at a time.

Recording success is one batch (`record`); each failure is recorded here, because what
follows depends on the bundle: a transient error is retried later (backoff with jitter, or
the provider's Retry-After; a degraded channel is waited for, not failed over), an outcome
we do not know is reconciled rather than repeated (but counted by the circuit like any
failure: a provider that hangs is down), and a permanent error answers "next": the
dispatcher prepares the bundle again in its next round, for the customer's next channel.
A message taken for interrupted meanwhile (`unknown`) is not moved. When no channel is
left, preparing the bundle hands callback touches to a person (`steps.exhausted`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.app import App
from bot.db.models import Bundle, Message, Touch
from bot.domain.kinds import MARKETING_KINDS
from bot.service.customers.addresses import mark_unusable
from bot.service.dispatch import circuit, steps
from bot.service.dispatch.prepare import Send, release_in
from channels.base import PermanentDeliveryError, TransientDeliveryError

PAUSE_RECHECK = timedelta(seconds=5)  # as preparing does for a paused channel


class Failures:
    """Records failed and held sends; each method answers the bundle's next step."""

    def __init__(self, app: App, clock: Callable[[], datetime]) -> None:
        self.app, self.clock = app, clock
        self.settings = app.settings

    async def failed(self, send: Send, exc: Exception) -> str:
        """Record a failed send; "next" means try the bundle's next channel now."""
        if isinstance(exc, PermanentDeliveryError):
            return await self._permanent(send.bundle_id, send, exc)
        assert isinstance(exc, TransientDeliveryError)
        return await self._transient(send.bundle_id, send, exc)

    async def held(self, send: Send, reason: str) -> str:
        """A send stopped before its provider call (see `lastlook`): nothing went out. Paused,
        waiting for its channel or shut down: back to planned, the same message later. Opted
        out: the greetings are suppressed, anything else is composed again without them."""
        if reason == "released":
            return "released"  # another worker has the bundle now: left to it
        now = self.clock()
        async with self.app.sessions() as s:
            message = await s.get(Message, send.message_id, with_for_update=True)
            bundle = await s.get(Bundle, send.bundle_id)
            assert message is not None and bundle is not None
            if message.status != "prepared" or message.updated_at != send.prepared_at:
                return "released"
            members = await _sending_members(s, send.bundle_id)
            if reason == "opted_out":
                message.status, message.error_code = "cancelled", "no_consent_at_send"
                greetings = [t for t in members if t.kind in MARKETING_KINDS]
                steps.set_members(greetings, "suppressed", now, "no_consent_at_send")
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
                # Paused: look again soon. Degraded: the probe decides. Shut down: at once,
                # by whichever worker is running.
                at = now + PAUSE_RECHECK if reason == "paused" else None
                release_in(bundle, at, now)
                step = "released" if reason == "shutdown" else reason
            message.updated_at = now
            steps.set_members(members, "planned", now)
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
                await steps.wait_for_channel(s, send.channel)
            if exc.outcome_unknown:
                # The request may have reached the provider: reconcile, never blindly repeat.
                message.status, message.updated_at = "unknown", now
                steps.set_members(members, "unknown", now)
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
                steps.set_members(members, "planned", now)
                for row in (message, *members):
                    s.add(row)
                await s.commit()
                return "next"
            message.status, message.updated_at = "retry", now
            delay = steps.backoff(message.attempts, exc.retry_after)
            steps.set_members(members, "planned", now)
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
                await mark_unusable(s, message.channel, message.address,
                                    f"provider code {exc.code}", customer_id=message.customer_id,
                                    message_id=message.id, now=now)
            if message.status != "sending":
                # Marked `unknown` (interrupted) while the call was out: left as it is.
                await s.commit()
                return "unknown"
            members = await _sending_members(s, bundle_id)
            message.status, message.error_code = "failed", str(exc.code) if exc.code else "permanent"
            message.attempts += 1
            message.updated_at = now
            steps.set_members(members, "planned", now)
            for row in (message, *members):
                s.add(row)
            await s.commit()
        return "next"


async def _sending_members(s: AsyncSession, bundle_id: int) -> list[Touch]:
    return list((await s.exec(select(Touch).where(
        Touch.bundle_id == bundle_id, Touch.status == "sending"))).all())
