"""Delivery reports: provider status reports and email bounces move our messages forward.

Statuses only move forward (queued → sent → delivered; undelivered and failed are
final), each move an event. A report for a provider id we have not recorded yet
is kept in EarlyStatus and applied by `apply_early_statuses`, which the
dispatcher calls right after it records a provider id. A permanent failure marks
the address unusable where the code says so and hands the bundle back to the
dispatcher for the customer's next channel.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import Bundle, EarlyStatus, LinkToken, Message, Touch, table, utcnow
from bot.service import events
from bot.service.customers.addresses import mark_unusable
from channels.base import DeliveryUpdate
from channels.email_parse import Bounce

log = logging.getLogger("outreach.delivery")

# Our statuses in the order they may be reached; the last row is final.
RANK = {"sending": 0, "retry": 0, "unknown": 0, "queued": 1, "sent": 2,
        "delivered": 3, "undelivered": 3, "failed": 3, "logged": 3}
# Bundle states that mean "a message is out there": only these go back to `planned`.
REQUEUE_FROM = ("sending", "queued", "sent", "delivered", "unknown")
TOUCH_REQUEUE_FROM = ("sending", "sent", "delivered", "unknown")
# Another message of the bundle in one of these is in flight or out there: no requeue.
STILL_OUT = ("sending", "retry", "queued", "sent", "delivered")

#: How long a status report waits for a dispatcher that is recording the same message.
SENDER_WAIT_MS = 5_000

MESSAGE = table(Message)
BUNDLE = table(Bundle)
EARLY = table(EarlyStatus)
TOUCH = table(Touch)


@dataclass(frozen=True, slots=True)
class Applied:
    """What one report did: the message it touched (if any) and the move it made."""

    result: str  # moved | unchanged | early | unmatched
    message_id: str | None = None
    status: str | None = None
    requeued_bundle: int | None = None


def _kept_update(row: Any) -> DeliveryUpdate:
    """The DeliveryUpdate a kept EarlyStatus row stands for (the adapter's reading kept)."""
    return DeliveryUpdate(status=row.status, final=RANK.get(row.status) == 3,
                          permanent_failure=bool(row.permanent_failure),
                          address_unusable=bool(row.address_unusable), opted_out=False,
                          error_code=None)


async def record_provider_status(
    session: AsyncSession, channel: str, provider_id: str, update: DeliveryUpdate,
    *, our_id: str | None = None, now: datetime | None = None,
) -> Applied:
    """A provider status for `provider_id` (our id from `?m=` if given): apply it or keep it."""
    now = now or utcnow()
    message = (await session.exec(select(Message).where(
        Message.channel == channel, Message.provider_id == provider_id,
        Message.direction == "out"))).first()
    if message is None and our_id:
        message = await _settle_unknown(session, channel, provider_id, our_id, now)
    if message is None:
        await _keep_early(session, channel, provider_id, update, our_id, now)
        return Applied("early", our_id, update.status)
    code = str(update.error_code) if update.error_code is not None else None
    return await apply_update(session, message, update, error_code=code, now=now)


async def handle_status(
    sessions: Callable[[], AsyncSession], channel: str, provider_id: str,
    update: DeliveryUpdate, *, our_id: str | None = None,
) -> Applied:
    """Webhook entry: record the status; if it was kept early, settle the race with the sender.

    The dispatcher may record the provider id between our lookup and our commit;
    looking again after the commit applies the kept status exactly once.
    """
    async with sessions() as session:
        applied = await record_provider_status(session, channel, provider_id, update,
                                               our_id=our_id)
        await session.commit()
    if applied.result != "early":
        return applied
    async with sessions() as session:
        if our_id and not await _wait_for_sender(session, our_id):
            return applied  # a sweep applies it later (reconcile.apply_stranded_early)
        message = (await session.exec(select(Message).where(
            Message.channel == channel, Message.provider_id == provider_id,
            Message.direction == "out"))).first()
        if message is None:
            return applied
        settled = await apply_early_statuses(session, message)
        await session.commit()
    return settled[-1] if settled else applied


async def _wait_for_sender(session: AsyncSession, our_id: str) -> bool:
    """PostgreSQL: wait (briefly) for a dispatcher that holds our message row, i.e. has
    recorded the provider id but not yet committed, so the look that follows sees it.
    False when the wait timed out."""
    if session.bind.dialect.name != "postgresql":  # type: ignore[union-attr]
        return True  # SQLite: one writer at a time, the race cannot happen
    conn = await session.connection()
    try:
        await conn.execute(sa.text(f"SET LOCAL lock_timeout = '{SENDER_WAIT_MS}ms'"))
        await conn.execute(sa.select(MESSAGE.c.id).where(MESSAGE.c.id == our_id).with_for_update())
    except sa.exc.DBAPIError:
        await session.rollback()
        log.warning("early status for message %s: its sender still holds it", our_id)
        return False
    return True


async def _settle_unknown(session: AsyncSession, channel: str, provider_id: str, our_id: str,
                          now: datetime) -> Message | None:
    """A status report at `?m=<our id>` for a send whose outcome was never recorded
    (`unknown`): it went out after all, so it gets its provider id and counts as sent."""
    message = await session.get(Message, our_id)
    if (message is None or message.channel != channel or message.direction != "out"
            or message.status != "unknown" or message.provider_id is not None):
        return None
    await settle_as_sent(session, message, provider_id, "a provider status report", now)
    return message


async def count_as_sent(session: AsyncSession, bundle_id: int | None, now: datetime) -> None:
    """The bundle of a settled `unknown` send, and its `unknown` touches, count as sent."""
    if bundle_id is None:
        return
    bundle = await session.get(Bundle, bundle_id)
    if bundle is not None and bundle.status == "unknown":
        bundle.status, bundle.updated_at = "sent", now
        session.add(bundle)
    for touch in (await session.exec(select(Touch).where(
            Touch.bundle_id == bundle_id, Touch.status == "unknown"))).all():
        touch.status, touch.updated_at = "sent", now
        session.add(touch)


async def settle_as_sent(session: AsyncSession, message: Message, provider_id: str, how: str,
                         now: datetime | None = None, branch_code: str | None = None) -> None:
    """An `unknown` send the provider turns out to have: it went. The message gets its
    provider id (then moves as reports say), its bundle and touches count as sent."""
    now = now or utcnow()
    message.provider_id, message.status, message.updated_at = provider_id, "queued", now
    session.add(message)
    await count_as_sent(session, message.bundle_id, now)
    events.record(session, "message.reconciled", f"message {message.id} settled by {how}",
                  customer_id=message.customer_id, branch_code=branch_code,
                  channel=message.channel,
                  payload={"message_id": message.id, "provider_id": provider_id})
    await session.flush()


async def _keep_early(session: AsyncSession, channel: str, provider_id: str,
                      update: DeliveryUpdate, our_id: str | None, now: datetime) -> None:
    """Upsert the EarlyStatus row, keeping the furthest status (never going back)."""
    code = str(update.error_code) if update.error_code is not None else None
    module = postgresql if session.bind.dialect.name == "postgresql" else sqlite  # type: ignore[union-attr]
    meaning = {"permanent_failure": update.permanent_failure,
               "address_unusable": update.address_unusable}
    stmt = module.insert(EARLY).values(channel=channel, provider_id=provider_id,
                                       status=update.status, error_code=code,
                                       message_id=our_id, received_at=now, **meaning)
    lower = [s for s, r in RANK.items() if r < RANK.get(update.status, 0)]
    stmt = stmt.on_conflict_do_update(
        index_elements=["channel", "provider_id"],
        set_={"status": update.status, "error_code": code, "received_at": now, **meaning,
              "message_id": sa.func.coalesce(EARLY.c.message_id, our_id)},
        where=EARLY.c.status.in_(lower),
    )
    await (await session.connection()).execute(stmt)
    log.info("early %s status %s kept for provider id %s", channel, update.status, provider_id)


async def apply_early_statuses(session: AsyncSession, message: Message) -> list[Applied]:
    """Apply statuses that arrived before `message.provider_id` was recorded (dispatcher hook).

    Call it in the transaction that records the provider id (or right after). The
    kept row is deleted first, so a concurrent caller cannot apply it twice.
    """
    if not message.provider_id:
        return []
    conn = await session.connection()
    rows = (await conn.execute(sa.select(EARLY).where(
        EARLY.c.channel == message.channel, EARLY.c.provider_id == message.provider_id))).all()
    applied = []
    for row in rows:
        gone = await conn.execute(sa.delete(EARLY).where(
            EARLY.c.channel == row.channel, EARLY.c.provider_id == row.provider_id))
        if gone.rowcount != 1:
            continue
        update = _kept_update(row)
        applied.append(await apply_update(session, message, update, error_code=row.error_code))
    return applied


async def apply_update(
    session: AsyncSession, message: Message, update: DeliveryUpdate,
    *, error_code: str | None = None, now: datetime | None = None,
) -> Applied:
    """Move one outbound message forward (atomically); a permanent failure goes further."""
    now = now or utcnow()
    target = "failed" if update.permanent_failure else update.status
    lower = [s for s, r in RANK.items() if r < RANK.get(target, 0)]
    values: dict[str, object] = {"status": target, "updated_at": now}
    if error_code is not None:
        values["error_code"] = error_code
    conn = await session.connection()
    moved = await conn.execute(sa.update(MESSAGE).where(
        MESSAGE.c.id == message.id, MESSAGE.c.status.in_(lower)).values(**values))
    if moved.rowcount != 1:
        return Applied("unchanged", message.id, message.status)
    before, message.status = message.status, target
    if error_code is not None:
        message.error_code = error_code
    suffix = f" ({error_code})" if error_code else ""
    events.record(session, "message.status", f"{message.channel} message {message.id}: "
                  f"{before} → {target}{suffix}", customer_id=message.customer_id,
                  channel=message.channel,
                  payload={"message_id": message.id, "from": before, "to": target,
                           "error_code": error_code})
    requeued = None
    if update.permanent_failure:
        if update.address_unusable:
            await mark_unusable(session, message.channel, message.address,
                                f"{message.channel} {error_code or target}",
                                customer_id=message.customer_id, message_id=message.id, now=now)
        requeued = await requeue_bundle(session, message, now)
    return Applied("moved", message.id, target, requeued)


async def requeue_bundle(session: AsyncSession, message: Message, now: datetime) -> int | None:
    """Hand the bundle back for its next channel, unless another of its messages is in flight
    or out there (then that one speaks for the bundle). Not "the latest by time": a logged
    SMS and the email after it are written in the same instant."""
    if message.bundle_id is None:
        return None
    other = (await session.exec(select(Message.id).where(
        Message.bundle_id == message.bundle_id, Message.direction == "out",
        Message.id != message.id, col(Message.status).in_(STILL_OUT)).limit(1))).first()
    if other is not None:
        return None
    conn = await session.connection()
    done = await conn.execute(sa.update(BUNDLE).where(
        BUNDLE.c.id == message.bundle_id, BUNDLE.c.status.in_(REQUEUE_FROM),
    ).values(status="planned", next_attempt_at=None, claimed_at=None, updated_at=now))
    if done.rowcount != 1:
        return None
    # The dispatcher sends a bundle's planned touches: they go back with it.
    await conn.execute(sa.update(TOUCH).where(
        TOUCH.c.bundle_id == message.bundle_id, TOUCH.c.status.in_(TOUCH_REQUEUE_FROM),
    ).values(status="planned", updated_at=now))
    events.record(session, "bundle.requeued",
                  f"bundle {message.bundle_id}: {message.channel} failed, next channel",
                  customer_id=message.customer_id, channel=message.channel,
                  payload={"bundle_id": message.bundle_id, "message_id": message.id})
    return message.bundle_id


async def apply_bounce(session: AsyncSession, bounce: Bounce,
                       now: datetime | None = None) -> Applied:
    """An RFC 3464 report at bounce+<token>: a 5.x.x failure fails the message it names."""
    token = await session.get(LinkToken, bounce.token) if len(bounce.token) <= 16 else None
    message = None
    if token is not None and token.purpose == "bounce" and token.message_id:
        message = await session.get(Message, token.message_id)
    payload = {"status": bounce.status, "action": bounce.action, "token_known": message is not None}
    if message is None:
        events.record(session, "bounce.unmatched", f"bounce {bounce.status or '?'} for an "
                      "unknown token", channel="email", payload=payload)
        log.info("bounce %s for an unknown token: stored as an event only", bounce.status)
        return Applied("unmatched")
    if not bounce.permanent:
        events.record(session, "message.delayed", f"email message {message.id}: "
                      f"{bounce.action or 'report'} {bounce.status or ''}".rstrip(),
                      customer_id=message.customer_id, channel="email",
                      payload={**payload, "message_id": message.id})
        return Applied("unchanged", message.id, message.status)
    update = DeliveryUpdate(status="failed", final=True, permanent_failure=True,
                            address_unusable=bounce.address_unusable, opted_out=False,
                            error_code=None)
    return await apply_update(session, message, update, error_code=bounce.status or "5.0.0",
                              now=now)
