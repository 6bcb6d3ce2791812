"""The FastAPI application: health now; webhooks, API and console join it later."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from bot.bootstrap import App
from bot.service.channel_modes import channel_modes


def create_app(app: App) -> FastAPI:
    """Build the web app around an already opened App (engine, settings)."""
    web = FastAPI(title="outreach-bot", version="0.1.0")

    @web.get("/healthz")
    async def healthz() -> JSONResponse:
        """200 with channel states; 503 only when the database does not answer."""
        channels: dict[str, Any] = {
            name: "log" if mode == "log" else "ok"
            for name, mode in channel_modes(app.settings).items()
        }
        try:
            async with app.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:  # any failure to answer means the database is down for us
            body = {"status": "degraded", "db": "down", "channels": channels}
            return JSONResponse(body, status_code=503)
        status = "degraded" if "degraded" in channels.values() else "ok"
        return JSONResponse({"status": status, "db": "ok", "channels": channels})

    return web
