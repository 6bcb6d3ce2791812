"""`outreach dispatch`, `pause`, `resume` and `send-test`."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from bot.bootstrap import App, build_channels, build_dispatcher, configure_logging
from bot.commands.common import err, fail, out, with_app
from bot.db.models import utcnow
from bot.domain.masking import mask_address
from bot.run.runner import AlreadyRunning, sqlite_run_lock
from bot.service import events
from bot.service.admin import pause as flags
from bot.service.dispatch.direct import send_direct
from bot.service.dispatch.reconcile import mark_interrupted, reconcile_unknown
from bot.service.tokens import new_id
from channels.base import ChannelError, OutboundMessage
from channels.registry import CHANNEL_NAMES

BranchOpt = Annotated[str | None, typer.Option("--branch", help="only this branch")]
ChannelOpt = Annotated[str | None, typer.Option("--channel", help="only this channel: sms|email|telegram")]


def _check_channel(channel: str | None) -> None:
    if channel is not None and channel not in CHANNEL_NAMES:
        fail(f"--channel {channel!r}: choose one of {', '.join(CHANNEL_NAMES)}")


def dispatch(once: Annotated[bool, typer.Option("--once", help="one pass, then exit")] = False) -> None:
    """Send what is due now (`outreach run` does this every few seconds)."""

    async def work(a: App) -> None:
        configure_logging(a.settings)
        # SQLite: one dispatching process per file (the `run` lock), because this one marks
        # every `sending` message interrupted at its start, another's sends in flight too.
        with sqlite_run_lock(a.settings.database_url):
            await send_due(a)

    async def send_due(a: App) -> None:
        channels = build_channels(a.settings)
        try:
            if a.settings.is_sqlite:
                await mark_interrupted(a, utcnow())
            await reconcile_unknown(a, channels)
            dispatcher = build_dispatcher(a, channels)
            while True:
                stats = await dispatcher.tick()
                if once:
                    summary = ", ".join(f"{k} {v}" for k, v in sorted(stats.steps.items()))
                    out.print(f"dispatched {stats.claimed} bundle(s)" + (f": {summary}" if summary else ""))
                    return
                await asyncio.sleep(3)
        finally:
            await channels.close()

    with_app(work, user_errors=(AlreadyRunning,))


def pause(branch: BranchOpt = None, channel: ChannelOpt = None) -> None:
    """Stop sending (everything, a branch, a channel, or both); every process obeys within a tick."""
    _check_channel(channel)

    async def work(a: App) -> bool:
        async with a.sessions() as s:
            done = await flags.pause(s, branch, channel, "cli")
            await s.commit()
            return done

    scope = flags.scope_of(branch, channel)
    out.print(f"paused: {scope}" if with_app(work) else f"already paused: {scope}")


def resume(branch: BranchOpt = None, channel: ChannelOpt = None) -> None:
    """Undo a pause with the same --branch/--channel."""
    _check_channel(channel)

    async def work(a: App) -> tuple[bool, list[str]]:
        async with a.sessions() as s:
            done = await flags.resume(s, branch, channel, "cli")
            await s.commit()
            return done, [f.scope for f in await flags.flags(s)]

    done, left = with_app(work)
    scope = flags.scope_of(branch, channel)
    out.print(f"resumed: {scope}" if done else f"not paused: {scope}")
    if left:
        err.print(f"still paused: {', '.join(left)}")


def send_test(
    channel: Annotated[str, typer.Option("--channel", help="sms|email|telegram")],
    to: Annotated[str, typer.Option("--to", help="E.164 phone, email address or Telegram chat id")],
) -> None:
    """Send one test message to prove the credentials (recorded as an event only)."""
    _check_channel(channel)

    async def work(a: App) -> str:
        channels = build_channels(a.settings)
        try:
            message = OutboundMessage(
                message_id=new_id(), channel=channel, to=to,
                body="【outreach-bot】测试消息:渠道配置正常。This is a test message.",
                subject="outreach-bot 测试邮件 / test message")
            result = await send_direct(channels, message)
            async with a.sessions() as s:
                events.record(s, "channel.test", f"test {channel} message to {mask_address(channel, to)}: "
                              f"{result.status}", channel=channel, actor="cli")
                await s.commit()
            via = channels.adapter(channel, to)
            return (f"{channel} via {via.name if via else '?'}: {result.status} "
                    f"(provider id {result.provider_id})")
        finally:
            await channels.close()

    out.print(with_app(work, user_errors=(ChannelError,)))
