"""Inbound listeners started by `outreach run`: the SMTP receiver and Telegram updates.

The SMTP receiver (aiosmtpd on INBOUND_SMTP) takes replies and bounces for the
reply domain. Telegram either gets its webhook registered at start (webhook mode,
only where Telegram can reach us: https on 443, 80, 88 or 8443) or is long-polled
(polling mode). Both feed the same InboundProcessor as the web hooks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from bot.bootstrap import App, StartupError, build_channels, build_inbound
from bot.domain.text import clean_text
from bot.service.dispatch.reports import apply_bounce
from bot.service.inbound.acting import Handled
from bot.service.inbound.processor import InboundProcessor
from channels.base import ChannelError, InboundMessage, ReceivesUpdates
from channels.email_parse import Bounce
from channels.email_smtp import InboundSmtpHandler, start_inbound_smtp
from channels.registry import Channels
from channels.telegram_parse import parse_bot_blocked, parse_telegram_update

log = logging.getLogger("outreach.receiver")
TELEGRAM_PORTS = (443, 80, 88, 8443)
WEBHOOK_PATH = "/webhooks/telegram"


@dataclass
class Receivers:
    """What `start_receivers` started; `stop` ends it all (and closes adapters it built)."""

    processor: InboundProcessor
    channels: Channels
    owns_channels: bool
    smtp: asyncio.Server | None = None
    smtp_port: int | None = None
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def stop(self) -> None:
        if self.smtp is not None:
            self.smtp.close()
            await self.smtp.wait_closed()
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.owns_channels:
            await self.channels.close()


def parse_host_port(value: str) -> tuple[str, int]:
    """`127.0.0.1:2525` (or `[::1]:2525`) → (host, port)."""
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise StartupError(f"OUTREACH_INBOUND_SMTP: expected HOST:PORT, got {value!r}")
    return host.strip("[]"), int(port)


def webhook_reachable(public_url: str) -> bool:
    """Telegram only calls https on ports 443, 80, 88 or 8443."""
    parts = urlsplit(public_url)
    return parts.scheme == "https" and (parts.port or 443) in TELEGRAM_PORTS


async def start_receivers(app: App, *, channels: Channels | None = None, smtp: bool = True,
                          telegram: bool = True, poll_timeout: int = 25) -> Receivers:
    """Start what this process listens with; raise StartupError on a port we cannot take."""
    settings = app.settings
    own = channels is None
    chans = channels or build_channels(settings)
    receivers = Receivers(build_inbound(app, chans), chans, own)
    try:
        if smtp:
            await _start_smtp(app, receivers)
        adapter = chans.telegram
        if telegram and isinstance(adapter, ReceivesUpdates):
            if settings.telegram_mode == "polling":
                receivers.spawn(poll_telegram(adapter, receivers.processor, poll_timeout))
                log.info("telegram: polling for updates")
            else:
                await register_webhook(adapter, settings.public_url,
                                       settings.telegram_webhook_secret or "")
    except BaseException:
        await receivers.stop()
        raise
    return receivers


async def _start_smtp(app: App, receivers: Receivers) -> None:
    settings = app.settings
    host, port = parse_host_port(settings.inbound_smtp)

    async def on_mail(item: InboundMessage | Bounce) -> None:
        if isinstance(item, Bounce):
            item = item._replace(**{k: clean_text(v) for k, v in item._asdict().items()})
            async with app.sessions() as session:
                await apply_bounce(session, item)
                await session.commit()
            return
        handled = await receivers.processor.handle(item)  # raises → 451, the sender retries
        _deliver_later(receivers, handled)

    handler = InboundSmtpHandler(settings.reply_domain, on_mail)
    try:
        receivers.smtp = await start_inbound_smtp(handler, host, port)
    except OSError as exc:
        raise StartupError(
            f"OUTREACH_INBOUND_SMTP {host}:{port}: cannot listen ({exc.strerror or exc})"
        ) from exc
    receivers.smtp_port = receivers.smtp.sockets[0].getsockname()[1]
    log.info("SMTP receiver on %s:%s for @%s", host, receivers.smtp_port, settings.reply_domain)


def _deliver_later(receivers: Receivers, handled: Handled) -> None:
    if handled.outbox or handled.button_query_id:
        receivers.spawn(receivers.processor.deliver(handled))


async def register_webhook(adapter: ReceivesUpdates, public_url: str, secret: str) -> bool:
    """setWebhook at start when Telegram can reach PUBLIC_URL; otherwise one clear log line."""
    if not webhook_reachable(public_url):
        log.warning("telegram webhook not registered: PUBLIC_URL %s is not https on port 443, "
                    "80, 88 or 8443; set OUTREACH_PUBLIC_URL or use OUTREACH_TELEGRAM_MODE=polling",
                    public_url)
        return False
    try:
        await adapter.set_webhook(f"{public_url}{WEBHOOK_PATH}", secret)
    except ChannelError as exc:
        log.warning("telegram webhook not registered: setWebhook failed: %s", exc)
        return False
    log.info("telegram webhook registered at %s%s", public_url, WEBHOOK_PATH)
    return True


async def poll_telegram(adapter: ReceivesUpdates, processor: InboundProcessor,
                        timeout: int = 25) -> None:
    """getUpdates loop: an update is confirmed (offset moves past it) only once stored."""
    with contextlib.suppress(ChannelError):  # polling fails while a webhook is set
        await adapter.drop_webhook()
    offset: int | None = None
    while True:
        try:
            updates = await adapter.get_updates(offset, timeout=timeout)
        except ChannelError as exc:
            log.warning("telegram getUpdates failed: %s; retrying in 5 s", exc)
            await asyncio.sleep(5)
            continue
        for update in updates:
            inbound = parse_telegram_update(update)
            blocked = parse_bot_blocked(update)
            try:
                if blocked is not None:
                    await processor.bot_blocked(*blocked)
                handled = await processor.handle(inbound) if inbound is not None else None
            except Exception:  # database trouble: fetch the same update again later
                log.exception("telegram update could not be stored; retrying in 5 s")
                await asyncio.sleep(5)
                break
            if handled is not None:
                await processor.deliver(handled)
            offset = int(update["update_id"]) + 1
