"""`GET /healthz`: database reachability and each channel's state (DESIGN.md shape)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.service.dispatch.channel_state import adapter_states, channel_states
from bot.web.deps import context

router = APIRouter()


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    """200 with channel states; 503 only when the database does not answer."""
    ctx = context(request)
    adapters = ctx.channels()
    try:
        async with AsyncSession(ctx.app.engine) as session:  # the engine is what must answer
            channels: dict[str, Any] = await channel_states(session, adapters)
    except Exception:  # any failure to answer means the database is down for us
        channels = dict(adapter_states(adapters))
        return JSONResponse({"status": "degraded", "db": "down", "channels": channels},
                            status_code=503)
    status = "degraded" if "degraded" in channels.values() else "ok"
    return JSONResponse({"status": status, "db": "ok", "channels": channels})
