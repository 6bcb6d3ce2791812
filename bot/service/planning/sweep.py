"""Sweep: silence past a reply deadline becomes a callback; a closed window ends a greeting."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import Customer, Touch
from bot.domain.kinds import GREETING_KINDS, MARKETING_KINDS, REPLY_EXPECTED_KINDS
from bot.service import events
from bot.service.calendar import load_calendar
from bot.service.callbacks.opening import open_or_join
from bot.service.planning.bundling import BU, moved_to
from bot.service.planning.context import BranchGroup, PlanContext, load_groups
from bot.service.planning.rules_sql import C, T
from bot.service.planning.sqlbits import execute, hold_planning_lock

WENT_OUT = ("sent", "delivered", "unknown")  # unknown: it may have gone; silence still ends in a callback


async def mark_unanswered(session: AsyncSession, now: datetime) -> int:
    """Touches that expected a reply and got none by the deadline: `unanswered` + P2 callback."""
    rows = (await session.exec(
        select(Touch, Customer).join(Customer, col(Customer.id) == Touch.customer_id).where(
            col(Touch.kind).in_(sorted(REPLY_EXPECTED_KINDS)),
            col(Touch.status).in_(WENT_OUT),
            col(Touch.reply_deadline) < now,
        ))).all()
    for touch, customer in rows:
        touch.status, touch.updated_at = "unanswered", now
        if touch.kind in MARKETING_KINDS and customer.opted_out_at is not None:
            # Opted out since the message went (on any channel): nobody calls (DOMAIN.md).
            touch.reason = "opted_out"
            session.add(touch)
            events.record(session, "touch.unanswered",
                          f"{touch.kind}: no reply by the deadline; opted out, no callback",
                          customer_id=customer.id, branch_code=customer.branch_code,
                          payload={"touch_id": touch.id, "callback_id": None})
            continue
        callback = await open_or_join(session, customer, "P2", f"unanswered_{touch.kind}",
                                      touch.sla_due_at or now)
        touch.callback_id = callback.id
        session.add(touch)
        events.record(session, "touch.unanswered", f"{touch.kind}: no reply by the deadline",
                      customer_id=customer.id, branch_code=customer.branch_code,
                      payload={"touch_id": touch.id, "callback_id": callback.id})
    return len(rows)


async def close_windows(session: AsyncSession, now: datetime,
                        reply_days: dict[str, int] | None = None) -> int:
    """Bundles still unsent when their day's send window closed: greetings expire
    (never late), callback-type touches move to the next working day whose window is still
    to come. Set-based: after
    an outage on a holiday this closes a million bundles in a few statements."""
    calendar = await load_calendar(session)
    groups = await load_groups(session)
    ctx = PlanContext(day=now.date(), today=now.date(), now=now, calendar=calendar,
                      groups=groups)
    if reply_days:
        ctx.reply_days = {**ctx.reply_days, **reply_days}
    closed = 0
    for group in groups:
        in_group = BU.c.customer_id.in_(sa.select(C.c.id).where(C.c.branch_code.in_(group.codes)))
        # The bundles first: a bundle is closed once, and its members are then handled by
        # exactly the set this statement closed (marked by this tick's timestamp).
        last_closed = _last_closed_day(group, now)
        result = await execute(session, sa.update(BU).where(
            BU.c.status == "planned", BU.c.local_date <= last_closed, in_group,
        ).values(status="expired", reason="window_closed", updated_at=now))
        if not max(result.rowcount or 0, 0):
            continue
        closed += result.rowcount
        just_closed = sa.and_(BU.c.status == "expired", BU.c.reason == "window_closed",
                              BU.c.updated_at == now, in_group)
        members = sa.and_(T.c.status == "planned",
                          T.c.bundle_id.in_(sa.select(BU.c.id).where(just_closed)))
        await execute(session, sa.update(T)
                      .where(members, T.c.kind.in_(sorted(GREETING_KINDS)))
                      .values(status="expired", reason="window_closed", updated_at=now))
        days = (await execute(session, sa.select(BU.c.local_date).distinct().where(just_closed))
                ).scalars().all()
        for day in days:
            on_day = sa.and_(T.c.status == "planned", T.c.bundle_id.in_(
                sa.select(BU.c.id).where(just_closed, BU.c.local_date == day)))
            # The next working day whose window is still to come: after an outage the day
            # after the bundle's may itself be over.
            target = calendar.next_working_day(max(day, last_closed))
            await execute(session, sa.update(T)
                          .where(on_day, T.c.kind.not_in(sorted(GREETING_KINDS)))
                          .values(bundle_id=None, **moved_to(ctx, group, target)))
    return closed


def _last_closed_day(group: BranchGroup, now: datetime) -> date:
    """The group's latest local day whose send window has ended."""
    local = now.astimezone(ZoneInfo(group.timezone))
    ended_today = local.time() >= group.send_window.end
    return local.date() if ended_today else local.date() - timedelta(days=1)


async def sweep(session: AsyncSession, now: datetime | None = None,
                reply_days: dict[str, int] | None = None) -> dict[str, int]:
    """One sweep tick; the caller commits. On PostgreSQL it holds the planning lock, so a
    planner or tidy-up never adds a member to a bundle the sweep is closing."""
    now = now or datetime.now(UTC)
    await hold_planning_lock(session)
    result = {"unanswered": await mark_unanswered(session, now),
              "expired_bundles": await close_windows(session, now, reply_days)}
    await session.flush()
    return result

