"""The composition root: settings, engine, channel adapters, dispatcher and inbound processor
are built here, once, never at import.

Entry points (`bot.run`, `bot.web`, `bot.commands`, `scheduler`) ask this module for what
they run; nothing else constructs an adapter. Whether a channel is live is therefore decided
once, here, and `/healthz`, `outreach check` and sending read the same adapters.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

import httpx
from sqlalchemy.exc import OperationalError

from bot.app import App
from bot.db.engine import make_engine, make_sessionmaker
from bot.db.migrate import upgrade
from bot.db.models import utcnow
from bot.domain.masking import mask_address
from bot.logs import configure_logging
from bot.service.dispatch.dispatcher import Dispatcher
from bot.service.inbound.processor import InboundProcessor
from bot.settings import Settings, load_settings
from channels.base import Channel
from channels.email_smtp import SmtpConfig, SmtpEmailChannel
from channels.log import LogChannel
from channels.registry import Channels
from channels.routing import parse_sms_routes
from channels.sms_twilio import TwilioConfig, TwilioSmsChannel

__all__ = ["App", "StartupError", "build_channels", "build_dispatcher", "build_inbound",
           "configure_logging", "open_app", "safe_url"]


class StartupError(RuntimeError):
    """The product cannot start (database unreachable…); the message is one line."""


def safe_url(url: str) -> str:
    """The database URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@asynccontextmanager
async def open_app(settings: Settings | None = None, *, migrate: bool = True) -> AsyncIterator[App]:
    """Build the app, bring the schema to head, and dispose of the engine afterwards."""
    settings = settings or load_settings()
    engine = make_engine(settings.database_url)
    try:
        if migrate:
            try:
                await upgrade(engine)
            except (OperationalError, OSError) as exc:
                raise StartupError(
                    f"database {safe_url(settings.database_url)}: cannot open it ({exc.__class__.__name__})"
                ) from exc
        yield App(settings=settings, engine=engine, sessions=make_sessionmaker(engine))
    finally:
        await engine.dispose()


def build_channels(settings: Settings, http: httpx.AsyncClient | None = None) -> Channels:
    """Live adapters where credentials are set, log mode elsewhere (DESIGN.md). A channel
    whose settings are only partly given logs, and `notes` says what is missing."""
    notes: dict[str, str] = {}
    sms: dict[str, Channel] = {"log": _log("sms")}
    if settings.twilio_account_sid and settings.twilio_auth_token and (
        settings.twilio_from or settings.twilio_messaging_service_sid
    ):
        http = http or httpx.AsyncClient(
            timeout=httpx.Timeout(30.0, connect=10.0),
            limits=httpx.Limits(max_connections=10, max_keepalive_connections=10),
        )
        sms["twilio"] = TwilioSmsChannel(TwilioConfig(
            account_sid=settings.twilio_account_sid, auth_token=settings.twilio_auth_token,
            public_url=settings.public_url, from_number=settings.twilio_from,
            messaging_service_sid=settings.twilio_messaging_service_sid,
            api_base=settings.twilio_api_base), http)
    else:
        sms["twilio"] = _log("sms")  # the route exists; without credentials it only logs
        if settings.twilio_account_sid or settings.twilio_auth_token:
            notes["sms"] = ("Twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM "
                            "or TWILIO_MESSAGING_SERVICE_SID; some are missing")
    routes = parse_sms_routes(settings.sms_routes, known_providers=sms.keys())
    if settings.smtp_host and settings.email_from:
        email: Channel = SmtpEmailChannel(SmtpConfig(
            host=settings.smtp_host, port=settings.smtp_port, email_from=settings.email_from,
            reply_domain=settings.reply_domain, username=settings.smtp_username,
            password=settings.smtp_password, starttls=settings.smtp_starttls))
    else:
        email = _log("email")
        if settings.smtp_host:
            notes["email"] = "SMTP_HOST is set but EMAIL_FROM is not"
    if settings.telegram_bot_token:
        from channels.telegram import TelegramChannel  # aiogram loads only where it is used

        telegram: Channel = TelegramChannel(settings.telegram_bot_token, settings.telegram_api_base)
    else:
        telegram = _log("telegram")
    return Channels(sms=sms, email=email, telegram=telegram, routes=routes, http=http,
                    notes=notes)


def _log(channel: str) -> LogChannel:
    return LogChannel(channel, mask=mask_address)


def build_dispatcher(app: App, channels: Channels, clock: Callable[[], datetime] = utcnow,
                     batch: int | None = None) -> Dispatcher:
    """The dispatcher of this process (one per process)."""
    return Dispatcher(app, channels, clock=clock, batch=batch)


def build_inbound(app: App, channels: Channels | Callable[[], Channels]) -> InboundProcessor:
    """The inbound processor the webhooks, the SMTP receiver and Telegram polling share;
    `channels` may be a function, so a web app builds its adapters only when it answers."""
    return InboundProcessor(app.sessions, app.settings,
                            channels if callable(channels) else (lambda: channels))
