"""Capacity: planned messages per channel against what the rate limit sends in the window."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.service.planning.bundling import BU
from bot.service.planning.context import PlanContext
from bot.service.planning.rules_sql import C
from bot.service.planning.sqlbits import execute
from bot.settings import Settings

_ORDER = ("sms", "email", "telegram")


def _first_channel(channels: str | None, has: dict[str, bool]) -> str | None:
    for name in (channels.split("|") if channels else _ORDER):
        if has.get(name):
            return name
    return None


async def estimate_capacity(
    session: AsyncSession, ctx: PlanContext, settings: Settings
) -> tuple[dict[str, Any], list[str]]:
    """Per channel: planned, capacity, and per branch the greetings expected to expire."""
    rows = await execute(session,
        sa.select(C.c.branch_code, C.c.channels, C.c.phone.is_not(None), C.c.email.is_not(None),
                  C.c.telegram_chat_id.is_not(None), sa.func.count())
        .select_from(BU.join(C, C.c.id == BU.c.customer_id))
        .where(BU.c.local_date == ctx.day, BU.c.status == "planned")
        .group_by(C.c.branch_code, C.c.channels, C.c.phone.is_not(None), C.c.email.is_not(None),
                  C.c.telegram_chat_id.is_not(None)))
    planned: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for branch, channels, sms, email, tg, n in rows:
        channel = _first_channel(channels, {"sms": bool(sms), "email": bool(email),
                                            "telegram": bool(tg)})
        if channel:
            planned[channel][branch] += n
    rates = {"sms": settings.twilio_rate_per_second, "email": settings.email_rate_per_second,
             "telegram": settings.telegram_rate_per_second}
    seconds = max((_window_seconds(g.window_utc(ctx.day)) for g in ctx.groups), default=0)
    report: dict[str, Any] = {}
    notes = []
    for channel in _ORDER:
        by_branch = planned.get(channel, {})
        total = sum(by_branch.values())
        capacity = int(rates[channel] * seconds)
        overflow = max(total - capacity, 0)
        expired = {b: round(overflow * n / total) for b, n in by_branch.items()} if overflow else {}
        report[channel] = {"planned": total, "capacity": capacity,
                           "expected_expired": {b: n for b, n in expired.items() if n}}
        if capacity and total > 0.8 * capacity:
            notes.append(f"{channel}: {total} messages planned for {ctx.day} use "
                         f"{100 * total // capacity}% of what it can send in the window")
    return report, notes


def _window_seconds(bounds: tuple[datetime, datetime]) -> float:
    return (bounds[1] - bounds[0]).total_seconds()
