"""Append events: the customer timeline and the compliance record."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import Event


def record(
    session: AsyncSession,
    type_: str,
    summary: str,
    *,
    customer_id: str | None = None,
    branch_code: str | None = None,
    actor: str = "system",
    channel: str | None = None,
    payload: dict[str, Any] | None = None,
) -> Event:
    """Add one event to the session; the caller's transaction decides when it lands."""
    event = Event(type=type_, summary=summary, customer_id=customer_id, branch_code=branch_code,
                  actor=actor, channel=channel,
                  payload=json.dumps(payload, ensure_ascii=False, default=str) if payload else None)
    session.add(event)
    return event
