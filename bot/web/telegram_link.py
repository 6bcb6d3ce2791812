"""`/t/{token}`: the short Telegram link in messages; it opens the bot with `/start <token>`,
which binds the chat to the customer (single use, expiring; checked when /start arrives)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from bot.service import tokens
from bot.web.deps import context
from bot.web.unsubscribe import page

router = APIRouter()


@router.get("/t/{token}", response_model=None)
async def telegram_link(token: str, request: Request) -> Response:
    """Redirect to t.me/<bot>?start=<token>; an unknown or expired link gets a polite page."""
    ctx = context(request)
    settings = ctx.app.settings
    async with ctx.app.sessions() as s:
        found = await tokens.resolve(s, token, "telegram")
    if found is None or found.used_at is not None or not settings.telegram_bot_username:
        return page("链接已失效 / Link expired",
                     "<p>此链接已失效或已使用，请联系您的营业部获取新的链接。</p>"
                     '<p class="en">This link has expired or was already used; please ask your '
                     "branch for a new one.</p>", 404)
    bot = settings.telegram_bot_username.lstrip("@")
    return RedirectResponse(f"https://t.me/{bot}?start={token}", status_code=302,
                            headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
