"""The outbox: answers to customers and staff alerts, stored first, then sent.

Each is a message row with a `purpose` (reply | alert), written in the transaction that
decided it, so a crash or a provider outage loses none. The process that decided it sends it
at once; the dispatcher's every tick sends what is left (a retry, a restart). Whichever
claims the row first sends it: the claim is a conditional update made as the request leaves,
so two processes never send one message twice.

Outside the plan: no send window and no daily limit, but the same rate slots, circuit and
pause flags as every send. A reply on a paused or degraded channel waits; an alert moves on to
the manager's next channel (`alerts`).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from bot.app import App
from bot.db.models import Alert, Customer, Message, table, utcnow
from bot.logs import frames_only
from bot.service import events
from bot.service.admin import pause as pause_flags
from bot.service.dispatch import alerts, circuit, steps
from bot.service.dispatch.direct import send_direct
from bot.service.dispatch.outgoing import ALERT, WAITING
from bot.service.dispatch.prepare import sender_for
from bot.service.dispatch.ratelimit import reserve
from channels.base import (
    ChannelError,
    OutboundMessage,
    PermanentDeliveryError,
    SendResult,
    TransientDeliveryError,
)
from channels.registry import Channels

log = logging.getLogger("outreach.outbox")
MESSAGES = table(Message)
WAIT_FOR_CHANNEL = timedelta(seconds=5)  # a reply on a paused or degraded channel looks again


async def send_outbox(app: App, channels: Channels, now: datetime | None = None,
                      ids: list[str] | None = None, limit: int = 50) -> Counter[str]:
    """Send outbox messages that are due, oldest first: all of them, or only `ids` (and
    the next channel an alert among them moves on to, in the same call)."""
    now = now or utcnow()
    if ids is not None and not ids:
        return Counter()
    query = _due(now) if ids is None else _due(now).where(col(Message.id).in_(ids))
    done: Counter[str] = Counter()
    tried: set[str] = set()
    for _ in range(4):
        async with app.sessions() as s:
            due = [i for i in (await s.exec(query.limit(limit))).all() if i not in tried]
        if not due:
            break
        for message_id in due:
            tried.add(message_id)
            try:
                done[await _send_one(app, channels, message_id, now)] += 1
            except Exception as exc:  # one message's trouble must not stop the others
                log.error("outbox message %s: sending failed; tried again later: %s",
                          message_id, frames_only(exc))
                done["error"] += 1
        if ids is None:
            break
        handled_alerts = select(Message.alert_id).where(col(Message.id).in_(due))
        query = _due(now).where(col(Message.alert_id).in_(handled_alerts))
    return done


def _due(now: datetime) -> SelectOfScalar[str]:
    return select(Message.id).where(
        col(Message.purpose).is_not(None), col(Message.status).in_(WAITING),
        sa.or_(col(Message.next_attempt_at).is_(None), col(Message.next_attempt_at) <= now),
    ).order_by(col(Message.created_at))


async def _send_one(app: App, channels: Channels, message_id: str, now: datetime) -> str:
    async with app.sessions() as s:
        message = await s.get(Message, message_id)
        if message is None or message.status not in WAITING:
            return "taken"
        branch = await _branch_of(s, message)
        blocked = None
        if pause_flags.is_paused(await pause_flags.flags(s), branch, message.channel):
            blocked = "paused"
        elif message.purpose == ALERT:  # an alert moves on rather than wait for a probe
            degraded = await circuit.is_degraded(await s.connection(), message.channel)
            blocked = "degraded" if degraded else None
        else:
            allowed, _ = await circuit.may_send(await s.connection(), message.channel, now,
                                                app.settings.circuit_probe_seconds)
            blocked = None if allowed else "degraded"
        await s.commit()
        outbound = OutboundMessage(message_id=message.id, channel=message.channel,
                                   to=message.address, body=message.body,
                                   subject=message.subject)
        purpose = message.purpose
    adapter = channels.adapter(outbound.channel, outbound.to)
    if adapter is None or blocked is not None:
        if purpose == ALERT or adapter is None:
            return await _settle_failed(app, message_id, blocked or "no_route", now)
        return await _wait(app, message_id, now + WAIT_FOR_CHANNEL)
    sender, rate = sender_for(app.settings, outbound.channel, adapter.name)
    delay = (await reserve(app.engine, sender, rate) - utcnow()).total_seconds()
    if delay > 0:
        await asyncio.sleep(delay)
    if not await _claim(app, message_id, now):
        return "taken"  # another process got to it first
    try:
        result = await send_direct(channels, outbound)
    except TransientDeliveryError as exc:
        return await _transient(app, message_id, exc, now)
    except (PermanentDeliveryError, ChannelError) as exc:
        return await _settle_failed(app, message_id, str(exc.code or type(exc).__name__), now)
    except Exception as exc:  # an adapter bug: we cannot know whether it left
        log.error("outbox message %s: adapter raised %s", message_id, type(exc).__name__)
        return await _unknown(app, message_id, now)
    return await _sent(app, message_id, result, now)


async def _branch_of(s: AsyncSession, message: Message) -> str | None:
    if message.alert_id is not None:
        alert = await s.get(Alert, message.alert_id)
        return alert.branch_code if alert else None
    customer = await s.get(Customer, message.customer_id) if message.customer_id else None
    return customer.branch_code if customer else None


async def _claim(app: App, message_id: str, now: datetime) -> bool:
    async with app.engine.begin() as conn:
        done = await conn.execute(sa.update(MESSAGES).where(
            MESSAGES.c.id == message_id, MESSAGES.c.status.in_(WAITING),
        ).values(status="sending", updated_at=now))
    return done.rowcount == 1


async def _wait(app: App, message_id: str, at: datetime) -> str:
    async with app.engine.begin() as conn:
        await conn.execute(sa.update(MESSAGES).where(
            MESSAGES.c.id == message_id, MESSAGES.c.status.in_(WAITING),
        ).values(status="retry", next_attempt_at=at))
    return "waiting"


async def _sent(app: App, message_id: str, result: SendResult, now: datetime) -> str:
    async with app.sessions() as s:
        message = await s.get(Message, message_id)
        assert message is not None
        message.status, message.provider_id = result.status, result.provider_id
        message.attempts += 1
        message.updated_at = now
        s.add(message)
        await circuit.record(await s.connection(), message.channel, True, now,
                             app.settings.circuit_failures, app.settings.circuit_probe_seconds)
        _record(s, message, f"{message.channel} {message.purpose} sent")
        if message.alert_id is not None:
            await alerts.reached(s, message, now)
        await s.commit()
    return "sent"


async def _transient(app: App, message_id: str, exc: TransientDeliveryError,
                     now: datetime) -> str:
    if exc.outcome_unknown:
        return await _unknown(app, message_id, now)
    async with app.sessions() as s:
        message = await s.get(Message, message_id)
        assert message is not None
        await circuit.record(await s.connection(), message.channel, False, now,
                             app.settings.circuit_failures, app.settings.circuit_probe_seconds)
        message.attempts += 1
        message.error_code = str(exc.code) if exc.code else "transient"
        give_up = message.attempts >= app.settings.send_max_attempts
        if not give_up:
            message.status = "retry"
            message.next_attempt_at = now + steps.backoff(message.attempts, exc.retry_after)
            message.updated_at = now
            s.add(message)
        await s.commit()
    if give_up:
        return await _settle_failed(app, message_id, "too_many_attempts", now)
    return "retry"


async def _unknown(app: App, message_id: str, now: datetime) -> str:
    """The request may have reached the provider: reconciled (`reconcile`), not repeated."""
    async with app.engine.begin() as conn:
        await conn.execute(sa.update(MESSAGES).where(MESSAGES.c.id == message_id)
                           .values(status="unknown", updated_at=now))
    return "unknown"


async def _settle_failed(app: App, message_id: str, why: str, now: datetime) -> str:
    """Nothing left: a reply ends `failed`; an alert goes on to the manager's next channel."""
    async with app.sessions() as s:
        message = await s.get(Message, message_id)
        assert message is not None
        message.status, message.error_code, message.updated_at = "failed", why, now
        s.add(message)
        _record(s, message, f"{message.channel} {message.purpose} failed ({why})")
        if message.alert_id is not None:
            await alerts.missed(s, message, app.settings, now)
        await s.commit()
    return "failed"


def _record(s: AsyncSession, message: Message, summary: str) -> None:
    events.record(s, f"{message.purpose}.sent", summary,
                  customer_id=message.customer_id, channel=message.channel,
                  payload={"message_id": message.id, "in_reply_to": message.in_reply_to,
                           "alert_id": message.alert_id, "status": message.status})
