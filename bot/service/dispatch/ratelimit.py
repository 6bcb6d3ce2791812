"""A rate limit shared by every process: each send reserves the sender's next free slot."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.models import RateSlot, table, utcnow

SLOTS = table(RateSlot)


async def reserve(engine: AsyncEngine, sender: str, per_second: float,
                  now: datetime | None = None) -> datetime:
    """Reserve the next slot for `sender` and return when it is; compare-and-set, no locks held."""
    return (await reserve_many(engine, sender, per_second, 1, now))[0]


async def reserve_many(engine: AsyncEngine, sender: str, per_second: float, count: int,
                       now: datetime | None = None) -> list[datetime]:
    """Reserve `count` consecutive slots in one compare-and-set (a batch of sends)."""
    interval = timedelta(seconds=1 / per_second)
    slots = max(count, 1)
    for _ in range(100):
        now = now or utcnow()
        async with engine.begin() as conn:
            current = (await conn.execute(
                sa.select(SLOTS.c.next_at).where(SLOTS.c.sender == sender))).scalar()
            if current is None:
                try:
                    await conn.execute(sa.insert(SLOTS).values(
                        sender=sender, next_at=now + interval * slots))
                    return [now + interval * i for i in range(slots)]
                except sa.exc.IntegrityError:
                    continue
            first = max(current, now)
            done = await conn.execute(
                sa.update(SLOTS).where(SLOTS.c.sender == sender, SLOTS.c.next_at == current)
                .values(next_at=first + interval * slots))
            if done.rowcount == 1:
                return [first + interval * i for i in range(slots)]
        now = None
    raise RuntimeError(f"rate limit {sender}: too much contention")
