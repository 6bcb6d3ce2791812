"""Record sends that a provider accepted, in the caller's transaction.

A round's accepted sends are recorded together: message, touches and bundle become `sent`,
statuses that raced ahead of us are applied, and the channel's circuit is told it works again.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import EarlyStatus, Message, Touch
from bot.service.dispatch import circuit, steps
from bot.service.dispatch.preload import Preload, preload
from bot.service.dispatch.prepare import Send
from bot.service.dispatch.reports import apply_early_statuses
from bot.settings import Settings
from channels.base import SendResult


async def record_accepted(s: AsyncSession, accepted: list[tuple[Send, SendResult]],
                          now: datetime, settings: Settings) -> None:
    """Accepted sends in one go (a few queries for all of them); the caller commits."""
    pre = await preload(s, [x.bundle_id for x, _ in accepted])
    for send, result in accepted:
        await record_sent(s, send, result, now, pre)
    await s.flush()
    ids = {x.message_id for x, _ in accepted}
    await apply_early_batch(s, [m for ms in pre.messages.values() for m in ms if m.id in ids])
    conn = await s.connection()
    for channel in sorted({x.channel for x, _ in accepted}):
        await circuit.record(conn, channel, True, now, settings.circuit_failures,
                             settings.circuit_probe_seconds)


async def record_sent(s: AsyncSession, send: Send, result: SendResult, now: datetime,
                      pre: Preload) -> None:
    """Record an accepted send in the caller's transaction. A send marked `unknown` while its
    call was out (taken for interrupted) is settled: it went. One that a status report has
    settled since is left alone (its status only moves forward)."""
    message = next(m for m in pre.messages[send.bundle_id] if m.id == send.message_id)
    if message.status not in ("sending", "unknown"):
        return
    members = [t for t in pre.members.get(send.bundle_id, []) if t.status == "sending"]
    if message.status == "unknown":
        members += (await s.exec(select(Touch).where(
            Touch.bundle_id == send.bundle_id, Touch.status == "unknown"))).all()
    bundle = pre.bundles[send.bundle_id]
    message.status, message.provider_id = result.status, result.provider_id
    message.attempts += 1
    message.segments = result.segments or message.segments
    message.updated_at = now
    s.add(message)
    steps.set_members(members, "sent", now)
    for touch in members:
        s.add(touch)
    if bundle.status in ("claimed", "unknown"):  # not one planned again to go at least once
        bundle.status, bundle.updated_at = "sent", now
        bundle.attempts += 1
        s.add(bundle)
    steps.record_sent(s, send.customer_id, send.branch_code, message)


async def apply_early_batch(session: AsyncSession, messages: list[Message]) -> None:
    """Apply provider statuses that arrived before these sends were recorded (one query)."""
    if not messages:
        return
    pids = [m.provider_id for m in messages if m.provider_id]
    early = (await session.exec(select(EarlyStatus).where(sa.or_(
        col(EarlyStatus.provider_id).in_(pids),
        col(EarlyStatus.message_id).in_([m.id for m in messages]))))).all()
    waiting = {e.provider_id for e in early} | {e.message_id for e in early}
    for message in messages:
        if message.provider_id in waiting or message.id in waiting:
            await apply_early_statuses(session, message)
