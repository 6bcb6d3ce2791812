"""An app wired to real peers: Twilio, SMTP and Telegram servers on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pytest

from bot.bootstrap import App, build_channels, open_app
from bot.service.dispatch.dispatcher import Dispatcher
from bot.settings import load_settings
from channels.registry import Channels
from tests.integration.planning.helpers import at, plan, seed
from tests.peers.smtp_server import SmtpPeer
from tests.peers.telegram_api import TelegramPeer
from tests.peers.twilio_api import TwilioPeer

DAY = date(2026, 3, 3)  # a Tuesday


class Clock:
    """A clock the test moves; the dispatcher reads it instead of the wall clock."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        from datetime import timedelta

        self.now += timedelta(seconds=seconds)


@dataclass
class Rig:
    app: App
    channels: Channels
    clock: Clock
    twilio: TwilioPeer
    smtp: SmtpPeer
    telegram: TelegramPeer
    make: Callable[..., Dispatcher]

    async def tick(self) -> Any:
        return await self.make().tick()


@pytest.fixture
async def rig(database_url: str, twilio_peer: TwilioPeer, smtp_peer: SmtpPeer,
              telegram_peer: TelegramPeer, request: pytest.FixtureRequest) -> AsyncIterator[Rig]:
    overrides: dict[str, Any] = getattr(request, "param", {})
    host, port = smtp_peer.host, smtp_peer.port
    values: dict[str, Any] = {
        "twilio_account_sid": twilio_peer.account_sid, "twilio_auth_token": twilio_peer.auth_token,
        "twilio_from": "+15005550006", "twilio_api_base": twilio_peer.base_url,
        "sms_routes": "*:twilio", "smtp_host": host, "smtp_port": port, "smtp_starttls": False,
        "email_from": "证券 <noreply@firm.example>", "telegram_bot_token": telegram_peer.token,
        "telegram_webhook_secret": "s3cret", "telegram_api_base": telegram_peer.base_url,
        "twilio_rate_per_second": 1000, "email_rate_per_second": 1000,
        "telegram_rate_per_second": 1000,
    }
    values.update(overrides)
    settings = load_settings(_env_file=None, database_url=database_url, **values)
    async with open_app(settings) as app:
        channels = build_channels(settings)
        clock = Clock(at(DAY, 9, 30))
        yield Rig(app, channels, clock, twilio_peer, smtp_peer, telegram_peer,
                  lambda: Dispatcher(app, channels, clock=clock))
        await channels.close()


async def planned(rig: Rig, *customers: dict[str, Any], day: date = DAY) -> None:
    """Seed customers with a new account opened the day before and plan the day."""
    rows = [{"opened_on": date(2026, 3, 2), **c} for c in customers]
    await seed(rig.app, *rows, sms_signature="华东证券", service_phone="95555")
    await plan(rig.app, day)
