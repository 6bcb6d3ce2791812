"""Build the channel adapters once from settings; pick the adapter for an address."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from bot.settings import Settings
from channels.base import Channel
from channels.email_smtp import SmtpConfig, SmtpEmailChannel
from channels.log import LogChannel
from channels.routing import SmsRoutes, parse_sms_routes
from channels.sms_twilio import TwilioConfig, TwilioSmsChannel

CHANNEL_NAMES = ("sms", "email", "telegram")


@dataclass
class Channels:
    """Every adapter this process sends through, plus the SMS routing table."""

    sms: dict[str, Channel]
    email: Channel
    telegram: Channel
    routes: SmsRoutes
    http: httpx.AsyncClient | None = None
    extra: list[Channel] = field(default_factory=list)

    def adapter(self, channel: str, address: str) -> Channel | None:
        """The adapter for this address, or None when an SMS number has no route."""
        if channel == "sms":
            provider = self.routes.provider_for(address)
            return self.sms.get(provider) if provider else None
        return self.email if channel == "email" else self.telegram

    def all_log(self) -> bool:
        """True when nothing can really be sent (the demo): bundles end `logged`."""
        adapters = [*self.sms.values(), self.email, self.telegram]
        return all(a.mode == "log" for a in adapters)

    def mode(self, channel: str) -> str:
        """`log` when the channel has no live adapter at all."""
        if channel == "sms":
            return "live" if any(a.mode == "live" for a in self.sms.values()) else "log"
        return (self.email if channel == "email" else self.telegram).mode

    async def close(self) -> None:
        for adapter in {id(a): a for a in [*self.sms.values(), self.email, self.telegram]}.values():
            await adapter.close()
        if self.http is not None:
            await self.http.aclose()


def build_channels(settings: Settings, http: httpx.AsyncClient | None = None) -> Channels:
    """Live adapters where credentials are set, log mode elsewhere (DESIGN.md)."""
    sms: dict[str, Channel] = {"log": LogChannel("sms")}
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
        sms["twilio"] = LogChannel("sms")  # the route exists; without credentials it only logs
    routes = parse_sms_routes(settings.sms_routes, known_providers=sms.keys())
    if settings.smtp_host and settings.email_from:
        email: Channel = SmtpEmailChannel(SmtpConfig(
            host=settings.smtp_host, port=settings.smtp_port, email_from=settings.email_from,
            reply_domain=settings.reply_domain, username=settings.smtp_username,
            password=settings.smtp_password, starttls=settings.smtp_starttls))
    else:
        email = LogChannel("email")
    if settings.telegram_bot_token:
        from channels.telegram import TelegramChannel

        telegram: Channel = TelegramChannel(settings.telegram_bot_token, settings.telegram_api_base)
    else:
        telegram = LogChannel("telegram")
    return Channels(sms=sms, email=email, telegram=telegram, routes=routes, http=http)
