"""`outreach check`: is each live channel's provider reachable from here?"""

from __future__ import annotations

import asyncio

import httpx

from bot.settings import Settings


async def _http(url: str) -> str:
    try:
        async with httpx.AsyncClient(timeout=5.0, trust_env=False) as client:
            response = await client.get(url)
        return f"reachable (HTTP {response.status_code})"
    except httpx.HTTPError as exc:
        return f"NOT reachable ({exc.__class__.__name__})"


async def _smtp(host: str, port: int) -> str:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout=5.0)
        writer.close()
        await writer.wait_closed()
        return "reachable"
    except (OSError, TimeoutError) as exc:
        return f"NOT reachable ({exc.__class__.__name__})"


async def reachability(settings: Settings, modes: dict[str, str]) -> dict[str, str]:
    """One line per live channel; log-mode channels are not contacted."""
    result: dict[str, str] = {}
    if modes.get("sms") == "live":
        result["sms"] = await _http(f"{settings.twilio_api_base.rstrip('/')}/2010-04-01")
    if modes.get("email") == "live" and settings.smtp_host:
        result["email"] = await _smtp(settings.smtp_host, settings.smtp_port)
    if modes.get("telegram") == "live" and settings.telegram_bot_token:
        result["telegram"] = await _http(
            f"{settings.telegram_api_base.rstrip('/')}/bot{settings.telegram_bot_token}/getMe")
    return result
