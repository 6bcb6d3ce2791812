"""Link tokens: short random ids stored in the database (not signed payloads), so links stay short."""

from __future__ import annotations

import secrets
import string
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import LinkToken, utcnow

ALPHABET = string.ascii_letters + string.digits + "-_"  # Telegram deep-link safe
LENGTH = 12  # 64 symbols ** 12 = 72 bits
_SYMBOLS = frozenset(ALPHABET)


def new_id() -> str:
    """A random 12-character id (72 bits)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


async def issue(
    session: AsyncSession,
    purpose: str,
    customer_id: str,
    *,
    message_id: str | None = None,
    ttl: timedelta | None = None,
    now: datetime | None = None,
) -> str:
    """Store a token for a customer (and message); returns its id."""
    now = now or utcnow()
    token = LinkToken(id=new_id(), purpose=purpose, customer_id=customer_id,
                      message_id=message_id, created_at=now,
                      expires_at=now + ttl if ttl else None)
    session.add(token)
    return token.id


async def resolve(
    session: AsyncSession, token_id: str, purpose: str, *, now: datetime | None = None
) -> LinkToken | None:
    """The live token of that purpose, or None (unknown, expired or used single-use token)."""
    if not token_id or len(token_id) > 32 or not set(token_id) <= _SYMBOLS:
        return None  # not one of ours (a NUL would even fail the query on PostgreSQL)
    token = await session.get(LinkToken, token_id)
    if token is None or token.purpose != purpose:
        return None
    now = now or utcnow()
    if token.expires_at is not None and token.expires_at < now:
        return None
    return token
