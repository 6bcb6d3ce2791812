"""The FastAPI application: health and metrics always; provider webhooks and customer links
(`webhooks`), the JSON API and its docs (`api`) and the staff console (`console`) as
OUTREACH_SERVE says, so an internet-facing process answers 404 for the rest."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from bot.bootstrap import App
from bot.service.callbacks.errors import QueueError
from bot.service.inbound.inbox import Drainer
from bot.web import api, console, docs, guard, health, metrics, telegram_link, unsubscribe, webhooks
from bot.web.deps import WebContext
from channels.registry import Channels


def create_app(app: App, channels: Channels | None = None) -> FastAPI:
    """Build the web app around an already opened App (engine, settings).

    `channels` are the adapters conversation replies go through; by default they
    are built from settings on first use and closed when the server stops.
    """
    ctx = WebContext(app, channels)
    ctx.drainer = Drainer(app.engine, webhooks.act_on_stored(ctx),
                          busy=lambda: ctx.answering > 0)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        loops = [asyncio.create_task(webhooks.replay_spool_forever(ctx))]
        if "webhooks" in app.settings.served:  # stored requests left by a crash or a peer
            loops.append(asyncio.create_task(webhooks.drain_forever(ctx)))
        yield
        for loop in loops:
            loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loop
        await ctx.close()

    web = FastAPI(title="outreach-bot", version="0.1.0", lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url=None)  # bot.web.docs serves them
    web.state.ctx = ctx
    web.add_exception_handler(QueueError, api.callbacks.queue_refused)
    guard.install(web)
    served = app.settings.served
    parts = {"webhooks": (webhooks, unsubscribe, telegram_link), "api": (api,)}
    for module in (health, metrics, *(m for part in parts if part in served for m in parts[part])):
        web.include_router(module.router)
    if "api" in served:
        docs.install(web)
    if "console" in served:
        console.install(web, app)
    web.add_middleware(console.CookieWriter)
    return web
