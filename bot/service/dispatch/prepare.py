"""Turn a claimed bundle into a send, inside the caller's transaction.

Checks (window, consent, pause, degraded circuit), channel choice, compose, and the
`prepared` message are all written before any provider call; the message becomes `sending`
only as its request leaves (`lastlook`), so a send cut off while it waited for its rate slot
simply goes again, and one cut off during its call is reconciled, never blindly repeated.
A bundle going round again for its next channel is prepared here too, so every send makes
the same decisions.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import Bundle, Customer, LinkToken, Message, PauseFlag, Touch
from bot.domain.kinds import ACTIVE_ONLY_KINDS, MARKETING_KINDS
from bot.domain.rules import birthday_greeting_date, parse_window, window_bounds_utc
from bot.service.admin import pause as pause_flags
from bot.service.customers.consent import effective_consent
from bot.service.dispatch import circuit, steps
from bot.service.dispatch.compose import compose
from bot.service.dispatch.preload import ADDRESS, Preload
from bot.service.tokens import new_id
from bot.settings import Settings
from channels.base import Channel, OutboundMessage, SendResult
from channels.registry import CHANNEL_NAMES, Channels

log = logging.getLogger("outreach.dispatch")
#: Messages composed but not sent: the bundle's next attempt sends them as they are.
UNSENT = ("retry", "prepared")


@dataclass
class Send:
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
    marketing: bool = False  # needs consent: checked again if the call comes much later
    prepared_at: datetime | None = None  # the message's `updated_at` as prepared (see lastlook)
    prepared: float = field(default_factory=time.monotonic)


def sender_for(settings: Settings, channel: str, provider: str) -> tuple[str, float]:
    """The rate-limit key and its rate: one bucket per channel and provider, shared by
    planned sends and the outbox."""
    rates = {"sms": settings.twilio_rate_per_second,
             "email": settings.email_rate_per_second,
             "telegram": settings.telegram_rate_per_second}
    return f"{channel}:{provider}", rates[channel]


def release_in(bundle: Bundle, at: datetime | None, now: datetime) -> None:
    """Hand a claimed bundle back to the planner's queue, due again at `at` (None: not by time)."""
    bundle.status, bundle.next_attempt_at = "planned", at
    bundle.claimed_at, bundle.updated_at = None, now


def no_longer_due(touch: Touch, customer: Customer) -> str | None:
    """Why a planned touch must not go after all, judged on the customer as they are now:
    an import since planning may have closed the account (or recorded a death), or
    corrected the birthday the greeting was planned for."""
    status = customer.status or "active"
    if status == "deceased" or (touch.kind in ACTIVE_ONLY_KINDS and status != "active"):
        return f"status_{status}_at_send"
    if touch.kind == "birthday" and (
            customer.birthday is None
            or birthday_greeting_date(customer.birthday, touch.due_on.year) != touch.due_on):
        return "birthday_changed"
    return None


class Preparer:
    """Decides what a claimed bundle does next; writes only through the caller's session."""

    def __init__(self, settings: Settings, channels: Channels,
                 clock: Callable[[], datetime]) -> None:
        self.settings, self.channels, self.clock = settings, channels, clock

    async def prepare_loop(self, s: AsyncSession, bundle_id: int, now: datetime,
                           pauses: list[PauseFlag], pre: Preload) -> tuple[str, Send | None]:
        """Prepare, moving past log-mode channels (recorded, not delivered)."""
        for _ in range(len(CHANNEL_NAMES) + 1):
            step, send = await self.prepare(s, bundle_id, now, pauses, pre)
            if step != "next":
                return step, send
        return "released", None

    async def prepare(self, s: AsyncSession, bundle_id: int, now: datetime,
                      pauses: list[PauseFlag], pre: Preload) -> tuple[str, Send | None]:
        """In the caller's transaction: checks, channel choice, compose, record `prepared`."""
        bundle = pre.bundles.get(bundle_id)
        if bundle is None or bundle.status != "claimed":
            return "done", None
        customer = pre.customers[bundle.customer_id]
        branch = pre.branches[customer.branch_code]
        members = [t for t in pre.members.get(bundle_id, []) if t.status in ("planned", "sending")]
        if not members:
            # Its touches moved on without it (e.g. marked `unknown` by an interrupted send):
            # nothing to send, and retrying would only find nothing again.
            log.warning("bundle %s has no touch left to send; closed", bundle_id)
            bundle.status, bundle.reason, bundle.updated_at = "failed", "no_touch_left", now
            s.add(bundle)
            return "failed", None
        _, window_end = window_bounds_utc(bundle.local_date, parse_window(branch.send_window),
                                          branch.timezone)
        if now >= window_end:  # never late: the sweep expires it
            release_in(bundle, None, now)
            s.add(bundle)
            return "window_closed", None
        consent = effective_consent(customer, branch, self.settings)
        reasons = []
        for touch in members:
            reason = no_longer_due(touch, customer)
            if reason is None and touch.kind in MARKETING_KINDS and not consent:
                reason = "no_consent_at_send"
            if reason is not None:
                steps.set_members([touch], "suppressed", now, reason)
                s.add(touch)
                reasons.append(reason)
        members = [t for t in members if t.status != "suppressed"]
        if not members:
            bundle.status, bundle.reason, bundle.updated_at = "suppressed", reasons[0], now
            s.add(bundle)
            return "suppressed", None
        messages = pre.messages.setdefault(bundle_id, [])
        # A message composed earlier and not sent (a retry, a release at shutdown, a worker
        # that died before its call) goes again as it is: same id, text and links.
        retry = next((m for m in messages if m.status in UNSENT), None)
        if retry is not None:
            # Since the last attempt the address may have been found unusable or its route
            # removed: then that channel is done, and the next one is chosen below.
            gone = ("address_unusable" if (retry.channel, retry.address) in pre.unusable
                    else "no_route" if self.channels.adapter(retry.channel, retry.address) is None
                    else None)
            if gone:
                retry.status, retry.error_code, retry.updated_at = "failed", gone, now
                s.add(retry)
                retry = None
        if retry is not None:
            channel, address = retry.channel, retry.address
        else:
            choice = self._choose(customer, messages, pre.unusable)
            if choice is None:
                # Every channel tried: callback touches go to a person, the rest end failed.
                await steps.exhausted(s, bundle, customer, members, self.channels.all_log(), now)
                return bundle.status, None
            channel, address = choice
        adapter = self.channels.adapter(channel, address)
        assert adapter is not None
        if pause_flags.is_paused(pauses, branch.code, channel):
            release_in(bundle, now + timedelta(seconds=5), now)
            s.add(bundle)
            return "paused", None
        probe = False
        state = pre.states.get(channel)
        if adapter.mode != "log" and state is not None and state.state == "degraded":
            # A degraded channel is waited for, not failed over: one probe per interval.
            conn = await s.connection()
            allowed, retry_at = await circuit.may_send(
                conn, channel, now, self.settings.circuit_probe_seconds)
            if not allowed:
                release_in(bundle, retry_at, now)
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
                              status="prepared", created_at=now, updated_at=now,
                              segments=composed.rendered.sms.segments if composed.rendered.sms else None)
        else:
            message = retry
            message.status, message.updated_at = "prepared", now
            outbound = await self.rebuild(s, message)
        s.add(message)
        if retry is None:
            messages.append(message)
        if adapter.mode == "log":
            # Log mode: recorded, not delivered; the next channel is tried.
            await self._finish_log(s, message, adapter, outbound)
            return "next", None
        steps.set_members(members, "sending", now)
        for touch in members:
            s.add(touch)
        sender, rate = self._sender(channel, adapter.name)
        marketing = any(t.kind in MARKETING_KINDS for t in members)
        return "sending", Send(message.id, channel, sender, rate, probe, bundle.id,  # type: ignore[arg-type]
                               address, customer.id, customer.branch_code, outbound, marketing,
                               prepared_at=now)

    async def rebuild(self, s: AsyncSession, message: Message) -> OutboundMessage:
        """Rebuild the payload of a retried message from what was stored (tokens included)."""
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

    def _order(self, customer: Customer) -> list[str]:
        return customer.channels.split("|") if customer.channels else list(CHANNEL_NAMES)

    def _sender(self, channel: str, provider: str) -> tuple[str, float]:
        return sender_for(self.settings, channel, provider)

    async def _finish_log(self, s: AsyncSession, message: Message, adapter: Channel,
                          outbound: OutboundMessage | None) -> None:
        outbound = outbound or OutboundMessage(
            message_id=message.id, channel=message.channel, to=message.address, body=message.body)
        result: SendResult = await adapter.send(outbound)
        message.status, message.provider_id = "logged", result.provider_id
        message.updated_at = self.clock()
