"""Each channel's state as DESIGN.md names it: `ok`, `degraded`, `log` or `paused`.

One function for `/healthz`, `/metrics` and `outreach check`: the adapters say `ok` or
`log` (the same adapters sending uses), the circuit says `degraded`, the pause flags say
`paused`. A pause for one branch leaves the channel `ok`: it still sends for the others.
"""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import ChannelState, PauseFlag
from channels.registry import CHANNEL_NAMES, Channels


def adapter_states(channels: Channels) -> dict[str, str]:
    """What the adapters alone say: `log` without credentials, else `ok`."""
    return {name: "log" if channels.mode(name) == "log" else "ok" for name in CHANNEL_NAMES}


async def channel_states(session: AsyncSession, channels: Channels) -> dict[str, str]:
    """`log` > `paused` (a flag for every branch) > `degraded` (circuit) > `ok`."""
    circuit = {row.channel: row.state for row in (await session.exec(select(ChannelState))).all()}
    flags = [f for f in (await session.exec(select(PauseFlag))).all() if f.branch_code is None]
    states: dict[str, str] = {}
    for name, state in adapter_states(channels).items():
        if state == "log":
            states[name] = "log"
        elif any(f.channel in (None, name) for f in flags):
            states[name] = "paused"
        elif circuit.get(name) == "degraded":
            states[name] = "degraded"
        else:
            states[name] = "ok"
    return states
