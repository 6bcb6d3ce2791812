"""Sends cut off before their outcome was recorded: found, marked `unknown`, reconciled.

A message is `sending` only while its request is out (`lastlook`). One still `sending` after
the call's time-out was cut off: `unknown`. Then, as DESIGN.md's data flow says: a provider
that lists what it received settles it as sent, or as absent (sent again: it never left);
a channel that cannot tell counts greetings and callback touches as sent, never repeated
(at most once), while service messages were planned again at once (at least once). Nothing
stays `unknown` past RECONCILE_GRACE_MINUTES while its provider answers.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.app import App
from bot.db.models import Bundle, Customer, EarlyStatus, Message, Touch, utcnow
from bot.domain.kinds import SERVICE_KINDS
from bot.service import events
from bot.service.dispatch.claim import release_stale
from bot.service.dispatch.reports import (
    apply_early_statuses,
    apply_update,
    count_as_sent,
    settle_as_sent,
)
from channels.base import ListsSent, SentRecord
from channels.registry import Channels

log = logging.getLogger("outreach.reconcile")


async def mark_interrupted(app: App, older_than: datetime, now: datetime | None = None) -> int:
    """Messages still `sending` from before `older_than` were cut off: mark them `unknown`.
    A send that waited for its rate slot stamps `updated_at` as its call starts (`lastlook`),
    so the cut-off counts from the call. Rows a dispatcher is recording right now are
    skipped (PostgreSQL: locked; it moves them on, or they are found next time)."""
    now = now or utcnow()
    async with app.sessions() as s:
        stuck = (await s.exec(select(Message).where(
            Message.status == "sending", col(Message.updated_at) < older_than,
        ).with_for_update(skip_locked=True))).all()
        for message in stuck:
            message.status, message.updated_at = "unknown", now  # the grace runs from here
            s.add(message)
            if message.bundle_id is None:
                continue
            bundle = await s.get(Bundle, message.bundle_id)
            members = (await s.exec(select(Touch).where(Touch.bundle_id == message.bundle_id))).all()
            if members and all(t.kind in SERVICE_KINDS for t in members) and bundle:
                bundle.status, bundle.next_attempt_at = "planned", None  # at least once
                for touch in members:
                    touch.status = "planned"
                    s.add(touch)
            elif bundle is not None:
                bundle.status = "unknown"
                for touch in members:
                    if touch.status == "sending":
                        touch.status = "unknown"
                        s.add(touch)
            if bundle is not None:
                s.add(bundle)
            events.record(s, "message.interrupted", f"send of message {message.id} was cut off",
                          customer_id=message.customer_id, channel=message.channel,
                          payload={"message_id": message.id})
        await s.commit()
    await apply_stranded_early(app)
    return len(stuck)


async def recover_at_start(app: App) -> None:
    """SQLite has one dispatching process per file, so at its start nothing is in flight:
    every `sending` message was cut off, and every claim is left over from a stopped run."""
    now = utcnow()
    await mark_interrupted(app, now, now)
    await release_stale(app.engine, now, timedelta(0))


async def reconcile_unknown(app: App, channels: Channels, now: datetime | None = None,
                            limit: int = 200) -> int:
    """Settle `unknown` sends, oldest first, each in its own transaction (so a slow or down
    provider never holds up the rest, nor sending). Returns how many were settled."""
    now = now or utcnow()
    async with app.sessions() as s:
        ids = list((await s.exec(select(Message.id).where(
            Message.status == "unknown", Message.direction == "out",
            col(Message.provider_id).is_(None)).order_by(col(Message.updated_at))
            .limit(limit))).all())
    settled = 0
    for message_id in ids:
        try:
            settled += await _settle(app, channels, message_id, now)
        except Exception:  # one message's trouble must not stop the others
            log.exception("reconcile %s failed; tried again on the next pass", message_id)
    return settled


async def _settle(app: App, channels: Channels, message_id: str, now: datetime) -> bool:
    """DESIGN.md, data flow step 2. A provider that lists what it received settles the send
    as sent, or (absent past RECONCILE_GRACE_MINUTES) sends it again, since it never left.
    A channel that cannot tell settles it at most once: counted as sent, not repeated."""
    async with app.sessions() as s:
        message = await s.get(Message, message_id)
        if message is None or message.status != "unknown":
            return False
        channel, address, body, created = (message.channel, message.address, message.body,
                                           message.created_at)
        waited = now - message.updated_at
    grace = timedelta(minutes=app.settings.reconcile_grace_minutes)
    adapter = channels.adapter(channel, address)
    match: SentRecord | None = None
    if isinstance(adapter, ListsSent):
        try:
            found = await adapter.list_sent(address, created - timedelta(days=1))
        except Exception:  # the provider is still down: ask again on the next pass
            log.warning("reconcile %s: provider not reachable", message_id)
            return False
        match = next((m for m in found if m.body == body
                      and m.created_at >= created - timedelta(minutes=1)), None)
    if match is None and waited < grace:
        return False  # a status report may still come; the provider's list may lag
    async with app.sessions() as s:
        message = await s.get(Message, message_id, with_for_update=True)
        if message is None or message.status != "unknown" or message.provider_id is not None:
            return False  # a status report settled it meanwhile
        customer = await s.get(Customer, message.customer_id) if message.customer_id else None
        branch_code = customer.branch_code if customer else None
        if match is not None:
            await settle_as_sent(s, message, match.provider_id, "the provider's own list",
                                 branch_code=branch_code)
            # Its status at the provider, then any status kept early for it, applied the way
            # a status report is (a permanent failure: address unusable, next channel).
            if match.update is not None:
                code = str(match.update.error_code) if match.update.error_code is not None else None
                await apply_update(s, message, match.update, error_code=code)
            await apply_early_statuses(s, message)
        elif message.purpose is not None:
            _again(s, message, branch_code, now, absent=isinstance(adapter, ListsSent))
        elif isinstance(adapter, ListsSent):
            await _absent(s, message, branch_code, now)
        else:
            await _cannot_tell(s, message, branch_code, now)
        await s.commit()
    return True


def _again(s: AsyncSession, message: Message, branch_code: str | None, now: datetime,
           absent: bool) -> None:
    """An answer or alert (the outbox): at least once, so it goes again, whether the
    provider's list says it never arrived or the channel cannot tell."""
    message.status, message.next_attempt_at, message.updated_at = "retry", None, now
    s.add(message)
    why = "was not at the provider" if absent else "may not have arrived"
    events.record(s, "message.reconciled", f"{message.purpose} {message.id} {why}: sent again",
                  customer_id=message.customer_id, branch_code=branch_code,
                  channel=message.channel, payload={"message_id": message.id, "settled": "again"})


async def _absent(s: AsyncSession, message: Message, branch_code: str | None,
                  now: datetime) -> None:
    """Not at the provider: it never left, so it goes again (the same message). A bundle
    already planned again (a service message, at least once) needs nothing more."""
    bundle = await s.get(Bundle, message.bundle_id) if message.bundle_id else None
    if bundle is not None and bundle.status == "unknown":
        message.status = "retry"
        bundle.status, bundle.next_attempt_at, bundle.claimed_at = "planned", None, None
        bundle.updated_at = now
        for touch in (await s.exec(select(Touch).where(
                Touch.bundle_id == bundle.id, Touch.status == "unknown"))).all():
            touch.status, touch.updated_at = "planned", now
            s.add(touch)
        s.add(bundle)
        summary = f"message {message.id} was not at the provider: it goes again"
    else:
        message.status, message.error_code = "cancelled", "not_at_provider"
        summary = f"message {message.id} was not at the provider; already sent again"
    message.updated_at = now
    s.add(message)
    events.record(s, "message.reconciled", summary, customer_id=message.customer_id,
                  branch_code=branch_code, channel=message.channel,
                  payload={"message_id": message.id, "settled": "absent"})


async def _cannot_tell(s: AsyncSession, message: Message, branch_code: str | None,
                       now: datetime) -> None:
    """SMTP and Telegram keep no list. Greetings and callback-type touches are at most once:
    counted as sent and never repeated, so the touch's usual rule applies (no reply by its
    deadline: a callback). Service messages were planned again at once (at least once)."""
    message.status, message.updated_at = "unconfirmed", now
    s.add(message)
    await count_as_sent(s, message.bundle_id, now)
    events.record(s, "message.reconciled",
                  f"message {message.id}: {message.channel} cannot tell whether it arrived; "
                  "counted as sent, not repeated", customer_id=message.customer_id,
                  branch_code=branch_code, channel=message.channel,
                  payload={"message_id": message.id, "settled": "unconfirmed"})


async def apply_stranded_early(app: App) -> int:
    """Statuses kept early whose message has since recorded its provider id (a callback that
    lost the race with the dispatcher's commit): applied now. Returns how many messages."""
    async with app.sessions() as s:
        stranded = (await s.exec(select(Message).join(EarlyStatus, sa.and_(
            EarlyStatus.channel == Message.channel,  # type: ignore[arg-type]
            EarlyStatus.provider_id == Message.provider_id,  # type: ignore[arg-type]
        )).where(Message.direction == "out").limit(500))).all()
        for message in stranded:
            await apply_early_statuses(s, message)
        await s.commit()
    if stranded:
        log.info("applied early statuses kept for %d recorded messages", len(stranded))
    return len(stranded)
