"""Claim due bundles so that no two workers ever take the same one."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.models import Bundle, Customer, Message, PauseFlag, table

BU = table(Bundle)
C = table(Customer)
P = table(PauseFlag)
M = table(Message)


def _due(now: datetime) -> sa.Select[int]:
    """Planned bundles due now, oldest first, skipping paused branches (and a global pause)."""
    branch_paused = sa.exists().where(
        P.c.channel.is_(None), sa.or_(P.c.branch_code.is_(None), P.c.branch_code == C.c.branch_code))
    return (
        sa.select(BU.c.id)
        .select_from(BU.join(C, C.c.id == BU.c.customer_id))
        .where(BU.c.status == "planned", BU.c.due_at <= now,
               sa.or_(BU.c.next_attempt_at.is_(None), BU.c.next_attempt_at <= now),
               sa.not_(branch_paused))
        .order_by(BU.c.due_at, BU.c.id)
    )


async def claim(engine: AsyncEngine, now: datetime, limit: int) -> list[int]:
    """Mark up to `limit` due bundles `claimed` and return their ids, in due order.

    PostgreSQL: FOR UPDATE SKIP LOCKED, so workers take disjoint rows without waiting.
    SQLite: one UPDATE … RETURNING (writes are serialised, so it is atomic).
    """
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            ids = (await conn.execute(
                _due(now).limit(limit).with_for_update(skip_locked=True, of=BU))).scalars().all()
            if not ids:
                return []
            await conn.execute(sa.update(BU).where(BU.c.id.in_(ids))
                               .values(status="claimed", claimed_at=now, updated_at=now))
            return list(ids)
        subquery = _due(now).limit(limit).scalar_subquery()
        rows = await conn.execute(
            sa.update(BU).where(BU.c.id.in_(subquery))
            .values(status="claimed", claimed_at=now, updated_at=now).returning(BU.c.id, BU.c.due_at))
        return [r.id for r in sorted(rows, key=lambda r: (r.due_at, r.id))]


async def release_stale(engine: AsyncEngine, now: datetime, timeout: timedelta) -> int:
    """Claims older than the timeout (a worker died) go back to planned; sends in flight
    were recorded `sending` and are reconciled separately."""
    sending = sa.exists().where(M.c.bundle_id == BU.c.id, M.c.status == "sending")
    async with engine.begin() as conn:
        result = await conn.execute(
            sa.update(BU).where(BU.c.status == "claimed", BU.c.claimed_at < now - timeout,
                                sa.not_(sending))
            .values(status="planned", claimed_at=None, updated_at=now))
        return result.rowcount or 0
