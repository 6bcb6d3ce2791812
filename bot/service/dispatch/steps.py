"""What happens to a bundle after a send: sent, retry later, next channel, or a person."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import Bundle, Customer, Message, Touch
from bot.domain.kinds import CALLBACK_TYPE_KINDS, GREETING_KINDS
from bot.domain.masking import mask_address
from bot.service import events
from bot.service.callbacks.opening import open_or_join

MAX_BACKOFF = timedelta(minutes=15)


def backoff(attempt: int, retry_after: float | None) -> timedelta:
    """Exponential backoff with jitter; a provider's Retry-After wins when it asks for longer."""
    base = min(2.0 ** attempt, MAX_BACKOFF.total_seconds())
    delay = base * random.uniform(0.5, 1.5)  # jitter, not security
    if retry_after is not None:
        delay = max(delay, retry_after)
    return timedelta(seconds=min(delay, MAX_BACKOFF.total_seconds()))


def set_members(members: list[Touch], status: str, now: datetime, reason: str | None = None) -> None:
    for touch in members:
        touch.status, touch.updated_at = status, now
        if reason:
            touch.reason = reason


def record_sent(session: AsyncSession, customer_id: str, branch_code: str, message: Message) -> None:
    events.record(session, "message.sent",
                  f"{message.channel} message {message.id} to {mask_address(message.channel, message.address)}",
                  customer_id=customer_id, branch_code=branch_code,
                  channel=message.channel, payload={"message_id": message.id,
                                                    "provider_id": message.provider_id})


async def exhausted(session: AsyncSession, bundle: Bundle, customer: Customer,
                    members: list[Touch], all_log: bool, now: datetime) -> str:
    """No channel left. In the demo (everything in log mode) the bundle ends `logged`;
    otherwise callback-type touches go to a person and greetings end `failed`."""
    messages = (await session.exec(select(Message).where(Message.bundle_id == bundle.id))).all()
    if all_log and messages and all(m.status == "logged" for m in messages):
        set_members(members, "logged", now)
        bundle.status = "logged"
    else:
        for touch in members:
            if touch.kind in CALLBACK_TYPE_KINDS:
                callback = await open_or_join(session, customer, "P2", f"{touch.kind}_undeliverable",
                                              touch.sla_due_at or now)
                touch.callback_id = callback.id
                set_members([touch], "escalated", now, "no_channel_left")
            else:
                set_members([touch], "failed", now, "no_channel_left")
        bundle.status = "failed"
        events.record(session, "bundle.undeliverable", "no usable channel left",
                      customer_id=customer.id, branch_code=customer.branch_code,
                      payload={"bundle_id": bundle.id})
    bundle.updated_at = now
    for touch in members:
        session.add(touch)
    session.add(bundle)
    return bundle.status


def is_greeting_only(members: list[Touch]) -> bool:
    return all(t.kind in GREETING_KINDS for t in members)


async def wait_for_channel(session: AsyncSession, channel: str) -> None:
    """A degraded channel: bundles retrying on it drop their own backoff and wait for the
    probe, so they drain in due order once it succeeds."""
    retrying = select(Message.bundle_id).where(Message.status == "retry", Message.channel == channel)
    for bundle in (await session.exec(select(Bundle).where(
            Bundle.status == "planned", col(Bundle.id).in_(retrying)))).all():
        bundle.next_attempt_at = None
        session.add(bundle)
