"""Which channels run live and which in log mode, decided from settings alone."""

from __future__ import annotations

from bot.settings import Settings


def channel_modes(settings: Settings) -> dict[str, str]:
    """`log` for a channel without credentials (DESIGN.md), else `live`."""
    twilio = bool(
        settings.twilio_account_sid
        and settings.twilio_auth_token
        and (settings.twilio_from or settings.twilio_messaging_service_sid)
    )
    return {
        "sms": "live" if twilio else "log",
        "email": "live" if settings.smtp_host else "log",
        "telegram": "live" if settings.telegram_bot_token else "log",
    }
