"""Outbox rows: an answer or alert written now, in the deciding transaction, sent later."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import Message, utcnow
from bot.service.tokens import new_id

REPLY, ALERT = "reply", "alert"  # Message.purpose
WAITING = ("prepared", "retry")  # outbox statuses still to be sent


def enqueue(session: AsyncSession, *, purpose: str, channel: str, to: str, body: str,
            subject: str | None = None, customer_id: str | None = None,
            in_reply_to: str | None = None, alert_id: int | None = None,
            now: datetime | None = None) -> Message:
    """Add an outbox message to the caller's transaction; it is sent once that commits."""
    now = now or utcnow()
    message = Message(id=new_id(), direction="out", purpose=purpose, channel=channel,
                      address=to, body=body, subject=subject, customer_id=customer_id,
                      in_reply_to=in_reply_to, alert_id=alert_id, status="prepared",
                      created_at=now, updated_at=now)
    session.add(message)
    return message
