"""`GET /healthz`: database reachability and each channel's state (DESIGN.md shape)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import ChannelState, PauseFlag
from bot.service.channel_modes import channel_modes
from bot.settings import Settings
from bot.web.deps import context

router = APIRouter()


async def channel_states(session: AsyncSession, settings: Settings) -> dict[str, str]:
    """`log` (no credentials) > `paused` (a flag for every branch) > `degraded` (circuit) > `ok`.

    A pause for one branch only leaves the channel `ok`: it still sends for the others.
    """
    circuit = {row.channel: row.state for row in (await session.exec(select(ChannelState))).all()}
    flags = [f for f in (await session.exec(select(PauseFlag))).all() if f.branch_code is None]
    states: dict[str, str] = {}
    for name, mode in channel_modes(settings).items():
        if mode == "log":
            states[name] = "log"
        elif any(f.channel in (None, name) for f in flags):
            states[name] = "paused"
        elif circuit.get(name) == "degraded":
            states[name] = "degraded"
        else:
            states[name] = "ok"
    return states


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    """200 with channel states; 503 only when the database does not answer."""
    app = context(request).app
    try:
        async with AsyncSession(app.engine) as session:  # the engine is what must answer
            channels: dict[str, Any] = await channel_states(session, app.settings)
    except Exception:  # any failure to answer means the database is down for us
        channels = {name: "log" if mode == "log" else "ok"
                    for name, mode in channel_modes(app.settings).items()}
        return JSONResponse({"status": "degraded", "db": "down", "channels": channels},
                            status_code=503)
    status = "degraded" if "degraded" in channels.values() else "ok"
    return JSONResponse({"status": status, "db": "ok", "channels": channels})
