"""The FastAPI application: health, metrics, provider webhooks and unsubscribe links."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from bot.bootstrap import App
from bot.service.callbacks.errors import QueueError
from bot.web import api, docs, health, metrics, telegram_link, unsubscribe, webhooks
from bot.web.deps import WebContext
from channels.registry import Channels


def create_app(app: App, channels: Channels | None = None) -> FastAPI:
    """Build the web app around an already opened App (engine, settings).

    `channels` are the adapters conversation replies go through; by default they
    are built from settings on first use and closed when the server stops.
    """
    ctx = WebContext(app, channels)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        replayer = asyncio.create_task(webhooks.replay_spool_forever(ctx))
        yield
        replayer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await replayer
        await ctx.close()

    web = FastAPI(title="outreach-bot", version="0.1.0", lifespan=lifespan, docs_url=None,
                  redoc_url=None)
    web.state.ctx = ctx
    web.add_exception_handler(QueueError, api.callbacks.queue_refused)
    for module in (health, metrics, webhooks, unsubscribe, telegram_link, api):
        web.include_router(module.router)
    docs.install(web)
    return web
