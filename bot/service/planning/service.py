"""Entry points: plan one day (CLI), and catch up every unplanned day (scheduler)."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlmodel import col, select

from bot.app import App
from bot.db.models import PlanRun, Touch, table
from bot.service.calendar import load_calendar
from bot.service.planning.bundling import tidy_loose
from bot.service.planning.capacity import estimate_capacity
from bot.service.planning.context import PlanContext, days_between, load_groups, local_today
from bot.service.planning.planner import Planner, PlanResult
from bot.service.planning.sqlbits import hold_planning_lock

log = logging.getLogger("outreach.plan")


def reply_days(app: App) -> dict[str, int]:
    """Reply windows of the callback-type kinds, from settings."""
    return {"new_account": app.settings.new_account_reply_working_days,
            "dormancy": app.settings.dormancy_reply_working_days}


async def plan_day(
    app: App, day: date | None = None, *, dry_run: bool = False, now: datetime | None = None
) -> PlanResult:
    """Plan one day (default today) in one transaction; a dry run writes nothing."""
    now = now or datetime.now(UTC)
    today = local_today(app.settings.timezone, now)
    day = day or today
    async with app.sessions() as session:
        warnings: list[str] = []
        ctx = PlanContext(day=day, today=today, now=now,
                          calendar=await load_calendar(session, warnings.append),
                          groups=await load_groups(session), warnings=warnings,
                          reply_days=reply_days(app))
        result = await Planner(session, app.settings, ctx).run(dry_run)
        result.capacity, notes = await estimate_capacity(session, ctx, app.settings)
        result.warnings.extend(notes)
        if dry_run:
            await session.rollback()
        else:
            await session.commit()
    return result


async def catch_up(app: App, now: datetime | None = None) -> list[PlanResult]:
    """Plan every day since the last planned one, up to today (first run: today only)."""
    now = now or datetime.now(UTC)
    today = local_today(app.settings.timezone, now)
    async with app.sessions() as session:
        last = (await session.exec(
            select(col(PlanRun.day)).where(col(PlanRun.day) <= today)
            .order_by(col(PlanRun.day).desc()).limit(1))).first()
    results = []
    if last is None or last < today:
        first = today if last is None else date.fromordinal(last.toordinal() + 1)
        for day in days_between(first, today):
            result = await plan_day(app, day, now=now)
            for warning in result.warnings:
                log.warning("%s", warning)
            results.append(result)
            log.info("planned %s%s", day, " (catch-up)" if day < today else "")
    await tidy(app, now)
    if results and results[-1].day == today:  # tidying may have moved touches to today
        results[-1].by_kind = await count_day(app, today)
    return results


async def count_day(app: App, day: date) -> dict[str, dict[str, int]]:
    """Touches of a day by kind and status (the `by_kind` of `plan --json`)."""
    touch = table(Touch)
    counts: dict[str, dict[str, int]] = {}
    async with app.sessions() as session:
        rows = await (await session.connection()).execute(
            sa.select(touch.c.kind, touch.c.status, sa.func.count())
            .where(touch.c.due_on == day).group_by(touch.c.kind, touch.c.status))
        for kind, status, n in rows:
            counts.setdefault(kind, {})[status] = n
    return counts


async def tidy(app: App, now: datetime) -> None:
    """Nothing stays stranded: loose touches of gone days move on or expire; today's
    bundles are completed (cheap, idempotent; runs on every planning tick)."""
    today = local_today(app.settings.timezone, now)
    async with app.sessions() as session:
        ctx = PlanContext(day=today, today=today, now=now,
                          calendar=await load_calendar(session), groups=await load_groups(session),
                          reply_days=reply_days(app))
        dialect = session.bind.dialect.name if session.bind else "sqlite"
        await hold_planning_lock(session)  # one tidier at a time, like planning
        await tidy_loose(session, ctx, dialect)
        await session.commit()
