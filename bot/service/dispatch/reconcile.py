"""Sends cut off before their outcome was recorded: found, marked `unknown`, reconciled.

Greetings and callback touches are at most once: an unknown one is never resent (silence
still ends in a callback through the sweep). Service messages are at least once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import col, select

from bot.app import App
from bot.db.models import Bundle, Customer, EarlyStatus, Message, Touch, utcnow
from bot.domain.kinds import SERVICE_KINDS
from bot.service import events
from bot.service.dispatch.reports import apply_early_statuses, apply_update, settle_as_sent
from channels.base import ListsSent
from channels.registry import Channels

log = logging.getLogger("outreach.reconcile")


async def mark_interrupted(app: App, older_than: datetime) -> int:
    """Messages still `sending` from before `older_than` were cut off: mark them `unknown`.
    A send that waited for its rate slot stamps `updated_at` as its call starts (`lastlook`),
    so the cut-off counts from the call. Rows a dispatcher is recording right now are
    skipped (PostgreSQL: locked; it moves them on, or they are found next time)."""
    async with app.sessions() as s:
        stuck = (await s.exec(select(Message).where(
            Message.status == "sending", col(Message.updated_at) < older_than,
        ).with_for_update(skip_locked=True))).all()
        for message in stuck:
            message.status, message.updated_at = "unknown", utcnow()
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


async def reconcile_unknown(app: App, channels: Channels) -> int:
    """Ask providers that can list what they received (`ListsSent`) about `unknown` sends:
    a match by recipient, body and creation time settles it as sent; otherwise it stays
    unknown (never resent)."""
    settled = 0
    async with app.sessions() as s:
        unknown = (await s.exec(select(Message).where(
            Message.status == "unknown", Message.direction == "out",
            col(Message.provider_id).is_(None)))).all()
        for message in unknown:
            adapter = channels.adapter(message.channel, message.address)
            if not isinstance(adapter, ListsSent):
                continue  # SMTP and Telegram cannot tell: the message stays unknown
            try:
                found = await adapter.list_sent(message.address,
                                                message.created_at - timedelta(days=1))
            except Exception:  # provider still down: try again on the next pass
                log.warning("reconcile %s: provider not reachable", message.id)
                continue
            match = next((m for m in found if m.body == message.body
                          and m.created_at >= message.created_at - timedelta(minutes=1)), None)
            if match is None:
                continue
            customer = await s.get(Customer, message.customer_id) if message.customer_id else None
            await settle_as_sent(s, message, match.provider_id, "the provider's own list",
                                 branch_code=customer.branch_code if customer else None)
            # Its status at the provider, then any status kept early for it, applied the way
            # a status report is (a permanent failure: address unusable, next channel).
            if match.update is not None:
                code = str(match.update.error_code) if match.update.error_code is not None else None
                await apply_update(s, message, match.update, error_code=code)
            await apply_early_statuses(s, message)
            settled += 1
        await s.commit()
    return settled


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
