"""Named transaction locks: PostgreSQL advisory locks, released at commit or rollback.

SQLite needs none (one process per file, and its writers are serialised), so there the
call does nothing. Names are hashed to the lock key by the server (`hashtext`).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection


async def hold_xact_lock(target: Any, name: str) -> None:
    """Wait for, then hold until the transaction ends, the lock called `name`.

    `target` is an AsyncConnection or an (SQLModel) AsyncSession."""
    conn: AsyncConnection = target if isinstance(target, AsyncConnection) else (
        await target.connection())
    if conn.dialect.name != "postgresql":
        return
    await conn.execute(sa.select(sa.func.pg_advisory_xact_lock(
        sa.func.hashtext(sa.literal(name)))))
