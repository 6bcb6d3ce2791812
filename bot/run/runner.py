"""`outreach run`: the scheduler, the web server and the SMTP receiver in one process.

An entry point, beside `bot.web` and `bot.commands`: it asks `bot.bootstrap` for the
adapters and the dispatcher and starts what `--only` names.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from sqlalchemy.engine import make_url

from bot.bootstrap import App, build_channels, build_dispatcher
from bot.run.shutdown import stop_on_signals
from bot.service.dispatch.reconcile import recover_at_start
from bot.web.app import create_app
from bot.web.metrics import observe_send_latency
from channels.registry import CHANNEL_NAMES, Channels

log = logging.getLogger("outreach.run")


class AlreadyRunning(RuntimeError):
    """A second `outreach run` on the same SQLite file."""


@contextmanager
def sqlite_run_lock(database_url: str) -> Iterator[None]:
    """One `outreach run` per SQLite file: a lock file beside it refuses a second."""
    url = make_url(database_url)
    if not url.drivername.startswith("sqlite") or not url.database:
        yield
        return
    lock_path = Path(f"{url.database}.lock")
    handle = lock_path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise AlreadyRunning(
            f"another `outreach run` uses {url.database} (lock {lock_path}); "
            "use PostgreSQL for several processes"
        ) from None
    try:
        handle.truncate(0)
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


async def serve(app: App, only: str | None) -> None:
    """Run the parts asked for until SIGTERM or SIGINT; then let the sends in flight finish
    (within SHUTDOWN_GRACE_SECONDS) and hand the rest back unsent."""
    with stop_on_signals() as stop:
        await _serve_until(app, only, stop)


async def _serve_until(app: App, only: str | None, stop: asyncio.Event) -> None:
    scheduler = dispatcher = None
    channels = build_channels(app.settings)
    if only in (None, "scheduler"):
        from scheduler.jobs import build_scheduler, plan_tick

        if app.settings.is_sqlite:  # one process per SQLite file: nothing else is in flight
            await recover_at_start(app)
        await plan_tick(app)  # catch up missed days before anything else
        dispatcher = build_dispatcher(app, channels)
        dispatcher.on_latency = observe_send_latency
        scheduler = build_scheduler(app, dispatcher)
        scheduler.start()
        log.info("scheduler started: plan 00:05 (+ catch-up every 5 min), sweep every minute, "
                 "dispatch every few seconds; channels: %s",
                 ", ".join(f"{c} {channels.mode(c)}" for c in CHANNEL_NAMES))
    receivers = await _start_receivers(app, only, channels)
    try:
        await _serve_parts(app, only, channels, stop)
    finally:
        if scheduler is not None:
            scheduler.pause()  # no new tick; the one running is drained below
        if dispatcher is not None:
            await dispatcher.drain(app.settings.shutdown_grace_seconds)
        if receivers is not None:
            await receivers.stop()
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        await channels.close()


async def _start_receivers(app: App, only: str | None, channels: Channels) -> Any:
    """SMTP receiver and Telegram polling/setWebhook (default run and `--only smtp`)."""
    if only not in (None, "smtp"):
        return None
    from bot.run.receivers import start_receivers

    return await start_receivers(app, channels=channels)


async def _serve_parts(app: App, only: str | None, channels: Channels,
                       stop: asyncio.Event) -> None:
    """The web server (it stops on the same signals) or, without it, wait for a signal."""
    if only in (None, "web"):
        # No log config or level of uvicorn's own: its loggers (access lines with /u/ and /t/
        # tokens included) go through the root handler and its redacting filter (bot.logs).
        config = uvicorn.Config(
            create_app(app, channels), host=app.settings.http_host, port=app.settings.http_port,
            log_config=None, log_level=None, lifespan="on",
        )
        log.info("web server on http://%s:%s", app.settings.http_host, app.settings.http_port)
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve())
        stopped = asyncio.create_task(stop.wait())
        await asyncio.wait({serving, stopped}, return_when=asyncio.FIRST_COMPLETED)
        server.should_exit = True
        await serving
        stopped.cancel()
    else:
        await stop.wait()
