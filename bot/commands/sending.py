"""`outreach dispatch`, `pause`, `resume` and `send-test`."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

import typer

from bot.bootstrap import App, build_channels, build_dispatcher, configure_logging
from bot.commands.common import err, fail, out, with_app
from bot.domain.masking import mask_address
from bot.run.runner import AlreadyRunning, sqlite_run_lock
from bot.run.shutdown import stop_on_signals
from bot.service import events
from bot.service.admin import pause as flags
from bot.service.dispatch.direct import send_direct
from bot.service.dispatch.reconcile import reconcile_unknown, recover_at_start
from bot.service.tokens import new_id
from channels.base import ChannelError, OutboundMessage
from channels.registry import CHANNEL_NAMES, Channels

BranchOpt = Annotated[str | None, typer.Option("--branch", help="only this branch")]
log = logging.getLogger("outreach.dispatch")
ChannelOpt = Annotated[str | None, typer.Option("--channel", help="only this channel: sms|email|telegram")]


def _check_channel(channel: str | None) -> None:
    if channel is not None and channel not in CHANNEL_NAMES:
        fail(f"--channel {channel!r}: choose one of {', '.join(CHANNEL_NAMES)}")


def dispatch(once: Annotated[bool, typer.Option("--once", help="one pass, then exit")] = False) -> None:
    """Send what is due now (`outreach run` does this every few seconds).

    SIGTERM or Ctrl-C: no new claims; sends already out finish within SHUTDOWN_GRACE_SECONDS
    and the rest go back to the queue unsent. Interrupted sends are reconciled alongside."""

    async def work(a: App) -> None:
        configure_logging(a.settings)
        # SQLite: one dispatching process per file (the `run` lock), because this one takes
        # every `sending` message for interrupted at its start, another's sends in flight too.
        with sqlite_run_lock(a.settings.database_url):
            await send_due(a)

    async def send_due(a: App) -> None:
        with stop_on_signals() as stop:
            await send_until(a, stop)

    async def send_until(a: App, stop: asyncio.Event) -> None:
        channels = build_channels(a.settings)
        reconciling = asyncio.create_task(_reconcile_every(a, channels, stop))
        try:
            if a.settings.is_sqlite:
                await recover_at_start(a)
            dispatcher = build_dispatcher(a, channels)
            while not stop.is_set():
                tick = asyncio.create_task(dispatcher.tick())
                await _until(stop, tick)
                if stop.is_set():
                    if not await dispatcher.drain(a.settings.shutdown_grace_seconds):
                        tick.cancel()
                    break
                stats = tick.result()
                if once:
                    summary = ", ".join(f"{k} {v}" for k, v in sorted(stats.steps.items()))
                    out.print(f"dispatched {stats.claimed} bundle(s)" + (f": {summary}" if summary else ""))
                    return
                await _until(stop, asyncio.create_task(asyncio.sleep(3)))
        finally:
            reconciling.cancel()
            await channels.close()

    with_app(work, user_errors=(AlreadyRunning,))


async def _until(stop: asyncio.Event, task: asyncio.Task[object]) -> None:
    """Wait for the task, or for a stop signal (the task then goes on, to be drained)."""
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()


async def _reconcile_every(a: App, channels: Channels, stop: asyncio.Event) -> None:
    """Beside sending, never before it: a provider that is slow to answer holds up nothing."""
    while not stop.is_set():
        try:
            await reconcile_unknown(a, channels)
        except Exception:
            log.exception("reconcile pass failed; tried again in a minute")
        await _until(stop, asyncio.create_task(asyncio.sleep(60)))


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
