"""One proactive message a day: a customer's touches due the same local day form one bundle."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.sqltypes import UTCDateTime

from bot.db.models import Bundle, table
from bot.domain.kinds import (
    CALLBACK_TYPE_KINDS,
    GREETING_KINDS,
    MARKETING_KINDS,
    REPLY_EXPECTED_KINDS,
)
from bot.service.planning.context import PlanContext
from bot.service.planning.rules_sql import C, T
from bot.service.planning.sqlbits import case_map, execute, insert_ignoring

BU = table(Bundle)
DEFAULT_REPLY_WORKING_DAYS = 2


def moved_to(ctx: PlanContext, group: Any, day: date) -> dict[str, Any]:
    """Column values for a callback-type touch moved to `day`: due at the window start,
    reply window counted again from the new day (else the sweep calls it unanswered)."""
    def deadline(n: int) -> Any:
        return group.end_of_day(ctx.calendar, ctx.calendar.add_working_days(day, n))

    deadlines = {kind: deadline(n) for kind, n in ctx.reply_days.items()}
    return {"due_on": day, "due_at": group.window_utc(day)[0],
            # A kind without a setting of its own gets DOMAIN's usual two working days.
            "reply_deadline": case_map(T.c.kind, deadlines, UTCDateTime(),
                                       default=deadline(DEFAULT_REPLY_WORKING_DAYS)),
            "updated_at": ctx.now}


def _flag(kinds: frozenset[str]) -> Any:
    return sa.func.max(sa.case((T.c.kind.in_(sorted(kinds)), 1), else_=0)) == 1


async def bundle_day(session: AsyncSession, ctx: PlanContext, dialect: str) -> None:
    """Group the day's planned touches per customer; late arrivals join or move on."""
    day, now = ctx.day, ctx.now
    loose = sa.and_(T.c.due_on == day, T.c.status == "planned", T.c.bundle_id.is_(None))
    gone = sa.exists().where(BU.c.customer_id == T.c.customer_id, BU.c.local_date == day,
                             BU.c.status != "planned")
    # The day's message already went: a greeting expires, a callback-type touch moves on.
    await execute(session,
        sa.update(T).where(loose, gone, T.c.kind.in_(sorted(GREETING_KINDS)))
        .values(status="expired", reason="daily_limit", updated_at=now))
    nxt = ctx.calendar.next_working_day(day)
    for group in ctx.groups:  # the due time moves with the day, in each branch's window
        in_group = sa.exists().where(C.c.id == T.c.customer_id, C.c.branch_code.in_(group.codes))
        await execute(session,
            sa.update(T).where(loose, gone, in_group, T.c.kind.in_(sorted(CALLBACK_TYPE_KINDS)))
            .values(**moved_to(ctx, group, nxt)))
    waiting = (await execute(session, sa.select(sa.func.count()).select_from(T).where(loose))
               ).scalar_one()
    if not waiting:
        return  # the usual scheduler tick: nothing new, nothing rewritten
    if dialect == "postgresql" and waiting > 1000:
        # Rows inserted by this transaction are not in the statistics yet: without a fresh
        # ANALYZE the planner believes the tables are empty and scans them once per touch.
        await execute(session, sa.text("ANALYZE touch"))
        await execute(session, sa.text("ANALYZE bundle"))
    # Bundles waiting to be sent that receive new members (usually none), found before the
    # new bundles are made, so their flags are recomputed below.
    joined = (await execute(session, sa.select(BU.c.id).distinct().select_from(
        T.join(BU, sa.and_(BU.c.customer_id == T.c.customer_id, BU.c.local_date == day)))
        .where(loose, BU.c.status == "planned"))).scalars().all()
    for group in ctx.groups:
        start = group.window_utc(day)[0]
        members = (
            sa.select(
                T.c.customer_id, sa.literal(day, sa.Date()), sa.literal("planned"),
                sa.literal(start, UTCDateTime()), _flag(REPLY_EXPECTED_KINDS),
                sa.func.min(T.c.reply_deadline), _flag(MARKETING_KINDS), sa.literal(0),
                sa.literal(now, UTCDateTime()), sa.literal(now, UTCDateTime()),
            )
            .select_from(T.join(C, C.c.id == T.c.customer_id))
            .where(loose, C.c.branch_code.in_(group.codes))
            .group_by(T.c.customer_id)
        )
        await execute(session, insert_ignoring(
            dialect, BU,
            ["customer_id", "local_date", "status", "due_at", "expects_reply", "reply_deadline",
             "marketing", "attempts", "created_at", "updated_at"],
            members, ["customer_id", "local_date"]))
    # Attach through the unique (customer_id, local_date) index: one lookup per touch, so
    # the plan stays linear whatever the table statistics say.
    target = (sa.select(BU.c.id)
              .where(BU.c.customer_id == T.c.customer_id, BU.c.local_date == day,
                     BU.c.status == "planned")
              .scalar_subquery())
    await execute(session, sa.update(T).where(loose).values(bundle_id=target))
    if not joined:
        return
    member = T.alias("member")

    def summary(expr: Any) -> Any:
        return sa.select(expr).where(member.c.bundle_id == BU.c.id).scalar_subquery()

    for chunk in (joined[i:i + 500] for i in range(0, len(joined), 500)):
        await execute(session, sa.update(BU).where(BU.c.id.in_(chunk)).values(
            expects_reply=summary(sa.func.max(sa.case(
                (member.c.kind.in_(sorted(REPLY_EXPECTED_KINDS)), 1), else_=0)) == 1),
            marketing=summary(sa.func.max(sa.case(
                (member.c.kind.in_(sorted(MARKETING_KINDS)), 1), else_=0)) == 1),
            reply_deadline=summary(sa.func.min(member.c.reply_deadline)),
            updated_at=now,
        ))


async def tidy_loose(session: AsyncSession, ctx: PlanContext, dialect: str) -> None:
    """Touches left without a bundle on a day already gone (a catch-up moved them to a day
    that was itself missed, or the sweep closed a window after today was planned): greetings
    expire, callback-type touches become due today; then today's bundles are (re)built.
    Runs on every planning tick, so it also catches anything stranded."""
    today, now = ctx.today, ctx.now
    # A planned touch inside a bundle that expired (a race the locks should prevent) would
    # otherwise never be sent nor called about: it is loose again, and handled below.
    recently_expired = sa.select(BU.c.id).where(  # the (local_date, status) index: a week
        BU.c.local_date >= today - timedelta(days=7), BU.c.status == "expired")
    await execute(session, sa.update(T).where(
        T.c.bundle_id.in_(recently_expired), T.c.status == "planned",
    ).values(bundle_id=None, updated_at=now))
    stale = sa.and_(T.c.status == "planned", T.c.bundle_id.is_(None), T.c.due_on < today)
    await execute(session, sa.update(T).where(stale, T.c.kind.in_(sorted(GREETING_KINDS)))
                  .values(status="expired", reason="missed_day", updated_at=now))
    due = today if ctx.calendar.is_working_day(today) else ctx.calendar.next_working_day(today)
    for group in ctx.groups:
        in_group = sa.exists().where(C.c.id == T.c.customer_id, C.c.branch_code.in_(group.codes))
        await execute(session, sa.update(T).where(stale, in_group, T.c.kind.in_(sorted(CALLBACK_TYPE_KINDS)))
                      .values(**moved_to(ctx, group, due)))
    await bundle_day(session, ctx, dialect)
