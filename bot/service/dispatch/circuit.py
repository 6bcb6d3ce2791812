"""Circuit breaker per channel: after N transient failures in a row the channel is degraded,
dispatch waits for it (no failover) and one probe every CIRCUIT_PROBE_SECONDS tests it."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db.models import ChannelState, table

STATES = table(ChannelState)


async def _row(conn: AsyncConnection, channel: str, now: datetime) -> sa.Row[object]:
    row = (await conn.execute(sa.select(STATES).where(STATES.c.channel == channel))).first()
    if row is None:
        try:
            async with conn.begin_nested():
                await conn.execute(sa.insert(STATES).values(
                    channel=channel, state="ok", failures=0, updated_at=now))
        except sa.exc.IntegrityError:
            pass
        row = (await conn.execute(sa.select(STATES).where(STATES.c.channel == channel))).one()
    return row


async def may_send(conn: AsyncConnection, channel: str, now: datetime,
                   probe_seconds: float) -> tuple[bool, datetime | None]:
    """(go ahead, retry at): a degraded channel lets exactly one probe through per interval."""
    row = await _row(conn, channel, now)
    if row.state != "degraded":
        return True, None
    if row.next_probe_at is not None and row.next_probe_at > now:
        return False, row.next_probe_at
    later = now + timedelta(seconds=probe_seconds)
    won = await conn.execute(sa.update(STATES).where(
        STATES.c.channel == channel, STATES.c.next_probe_at == row.next_probe_at,
    ).values(next_probe_at=later, updated_at=now))
    return (won.rowcount == 1), (None if won.rowcount == 1 else later)


async def is_degraded(conn: AsyncConnection, channel: str) -> bool:
    """Whether the channel is degraded now (an alert does not wait for its probe)."""
    state = (await conn.execute(sa.select(STATES.c.state).where(
        STATES.c.channel == channel))).scalar()
    return state == "degraded"


async def record(conn: AsyncConnection, channel: str, ok: bool, now: datetime,
                 threshold: int, probe_seconds: float) -> str:
    """Count a transient failure or a success; returns the channel state afterwards."""
    row = await _row(conn, channel, now)
    if ok:
        if row.state != "ok" or row.failures:
            await conn.execute(sa.update(STATES).where(STATES.c.channel == channel).values(
                state="ok", failures=0, next_probe_at=None, updated_at=now))
        return "ok"
    failures = row.failures + 1
    state = "degraded" if failures >= threshold else row.state
    values: dict[str, object] = {"failures": failures, "state": state, "updated_at": now}
    if state == "degraded" and row.state != "degraded":
        values["next_probe_at"] = now + timedelta(seconds=probe_seconds)
    await conn.execute(sa.update(STATES).where(STATES.c.channel == channel).values(**values))
    return state
