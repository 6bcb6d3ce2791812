"""The scheduler: plan after local midnight (with catch-up on every tick), sweep every minute.

APScheduler 3 with its in-memory job store: every process registers the same jobs;
our own tables (plan_run, unique keys) and database locks keep the work done once.
"""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app import App
from bot.service.callbacks.queue import expire_claims
from bot.service.dispatch.dispatcher import Dispatcher
from bot.service.dispatch.reconcile import reconcile_unknown
from bot.service.planning.service import catch_up, reply_days
from bot.service.planning.sweep import sweep
from channels.registry import Channels

log = logging.getLogger("outreach.scheduler")
DISPATCH_SECONDS = 3
JOB_DEFAULTS = {"misfire_grace_time": None, "coalesce": True, "max_instances": 1}


async def plan_tick(app: App) -> None:
    """Plan every day not planned yet, up to today."""
    try:
        await catch_up(app)
    except Exception:  # a failed tick is retried by the next one; never kill the scheduler
        log.exception("planning tick failed")


async def sweep_tick(app: App) -> None:
    """Unanswered touches become callbacks; closed windows end unsent greetings."""
    try:
        async with app.sessions() as session:
            result = await sweep(session, reply_days=reply_days(app))
            await session.commit()
        result["claims_returned"] = await expire_claims(app.engine, app.settings)
        if any(result.values()):
            log.info("sweep: %s", result)
    except Exception:
        log.exception("sweep tick failed")


async def dispatch_tick(dispatcher: Dispatcher) -> None:
    """Send what is due now."""
    try:
        stats = await dispatcher.tick()
        if stats.claimed:
            log.info("dispatch: %s", stats.steps)
    except Exception:
        log.exception("dispatch tick failed")


async def reconcile_tick(app: App, channels: Channels) -> None:
    """Ask providers about sends whose outcome was never recorded."""
    try:
        settled = await reconcile_unknown(app, channels)
        if settled:
            log.info("reconciled %d interrupted send(s)", settled)
    except Exception:
        log.exception("reconcile tick failed")


def build_scheduler(app: App, dispatcher: Dispatcher | None = None) -> AsyncIOScheduler:
    """Jobs of DESIGN.md's data flow: plan, sweep, dispatch, reconcile."""
    scheduler = AsyncIOScheduler(timezone=ZoneInfo(app.settings.timezone),
                                 job_defaults=JOB_DEFAULTS)
    scheduler.add_job(plan_tick, "cron", hour=0, minute=5, args=[app], id="plan")
    scheduler.add_job(plan_tick, "interval", minutes=5, args=[app], id="plan-catch-up")
    scheduler.add_job(sweep_tick, "interval", minutes=1, args=[app], id="sweep")
    if dispatcher is not None:
        scheduler.add_job(dispatch_tick, "interval", seconds=DISPATCH_SECONDS, args=[dispatcher],
                          id="dispatch")
        scheduler.add_job(reconcile_tick, "interval", minutes=1,
                          args=[app, dispatcher.channels], id="reconcile")
    return scheduler
