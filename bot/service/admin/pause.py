"""Pause flags: `outreach pause|resume [--branch B] [--channel C]`, obeyed by every process."""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import PauseFlag
from bot.service import events


def scope_of(branch: str | None, channel: str | None) -> str:
    """One key per (branch, channel) combination; `all` pauses everything."""
    if branch and channel:
        return f"branch:{branch}|channel:{channel}"
    if branch:
        return f"branch:{branch}"
    if channel:
        return f"channel:{channel}"
    return "all"


async def pause(session: AsyncSession, branch: str | None, channel: str | None, actor: str) -> bool:
    """Set a pause flag; False if it was already set."""
    scope = scope_of(branch, channel)
    if await session.get(PauseFlag, scope) is not None:
        return False
    session.add(PauseFlag(scope=scope, branch_code=branch, channel=channel, actor=actor))
    events.record(session, "dispatch.paused", f"sending paused ({scope})", branch_code=branch,
                  channel=channel, actor=actor)
    return True


async def resume(session: AsyncSession, branch: str | None, channel: str | None, actor: str) -> bool:
    """Clear a pause flag; False if there was none."""
    scope = scope_of(branch, channel)
    flag = await session.get(PauseFlag, scope)
    if flag is None:
        return False
    await session.delete(flag)
    events.record(session, "dispatch.resumed", f"sending resumed ({scope})", branch_code=branch,
                  channel=channel, actor=actor)
    return True


async def flags(session: AsyncSession) -> list[PauseFlag]:
    """Every pause flag in force."""
    return list((await session.exec(select(PauseFlag))).all())


def is_paused(active: list[PauseFlag], branch: str | None, channel: str | None) -> bool:
    """Whether sending for this branch on this channel is paused by any flag."""
    for flag in active:
        if flag.branch_code not in (None, branch):
            continue
        if flag.channel not in (None, channel):
            continue
        return True
    return False
