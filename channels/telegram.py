"""Telegram through aiogram 3, pointed at TELEGRAM_API_BASE.

Provider ids are "<chat id>:<message id>" because Telegram numbers messages
per chat; a reply's `reply_to_message` and a button press carry the same pair,
so threading is a plain string match.
"""

from __future__ import annotations

import html
import re
from typing import Any

import aiohttp
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.token import TokenValidationError

from channels import base
from channels.base import ChannelError, Mode, OutboundMessage, SendResult, utcnow

_CHAT_ID = re.compile(r"-?[0-9]+")
_UNUSABLE_BAD_REQUESTS = (
    "chat not found",
    "user not found",
    "peer_id_invalid",
    "user is deactivated",
)


#: Replies, button presses and the customer blocking or unblocking the bot.
ALLOWED_UPDATES = ("message", "callback_query", "my_chat_member")

class TelegramChannel:
    """Bot API sender; the aiohttp session is the adapter's own (close it)."""

    channel = "telegram"
    name = "telegram"
    mode: Mode = "live"

    def __init__(
        self,
        token: str,
        api_base: str = "https://api.telegram.org",
        *,
        timeout: float = 30.0,
        connection_limit: int = 10,
    ) -> None:
        session = _Session(api_base, limit=connection_limit, timeout=timeout)
        try:
            self.bot = Bot(token, session=session, default=DefaultBotProperties(parse_mode="HTML"))
        except TokenValidationError as exc:
            raise base.ConfigurationError(
                "TELEGRAM_BOT_TOKEN is malformed (expected 123456:abc…)"
            ) from exc

    async def send(self, msg: OutboundMessage) -> SendResult:
        """Send text with an inline keyboard; `msg.html` is sent as is, else `body` is escaped."""
        markup = _keyboard(msg.buttons)
        text = msg.html if msg.html is not None else html.escape(msg.body, quote=False)
        try:
            sent = await self.bot.send_message(
                chat_id=_chat_id(msg.to), text=text, reply_markup=markup
            )
        except (TelegramAPIError, ClientDecodeError) as exc:
            raise map_telegram_error(exc) from exc
        return SendResult(
            provider_id=f"{sent.chat.id}:{sent.message_id}", status="sent", sent_at=utcnow()
        )

    async def answer_button(self, query_id: str, text: str | None = None) -> None:
        """Stop the button's spinner in the user's client (Telegram's answerCallbackQuery)."""
        try:
            await self.bot.answer_callback_query(query_id, text=text)
        except (TelegramAPIError, ClientDecodeError) as exc:
            raise map_telegram_error(exc) from exc

    async def set_webhook(self, url: str, secret: str) -> None:
        """Register our webhook with its secret header (webhook mode at start)."""
        try:
            await self.bot.set_webhook(
                url, secret_token=secret, allowed_updates=list(ALLOWED_UPDATES)
            )
        except (TelegramAPIError, ClientDecodeError) as exc:
            raise map_telegram_error(exc) from exc

    async def drop_webhook(self) -> None:
        """Polling mode: Telegram refuses getUpdates while a webhook is set."""
        try:
            await self.bot.delete_webhook(drop_pending_updates=False)
        except (TelegramAPIError, ClientDecodeError) as exc:
            raise map_telegram_error(exc) from exc

    async def reachable(self) -> str:
        """Whether the Bot API answers from here, and takes our token (getMe)."""
        try:
            await self.bot.get_me(request_timeout=5)
        except TelegramUnauthorizedError:
            return "reachable, but the bot token is refused (401)"
        except (TelegramAPIError, ClientDecodeError) as exc:
            return f"NOT reachable ({exc.__class__.__name__})"
        return "reachable"

    async def get_updates(
        self, offset: int | None = None, timeout: int = 25
    ) -> list[dict[str, Any]]:
        """Long-poll for updates (polling mode) as plain Update dicts for `parse_telegram_update`."""
        try:
            updates = await self.bot.get_updates(
                offset=offset, timeout=timeout, allowed_updates=list(ALLOWED_UPDATES)
            )
        except (TelegramAPIError, ClientDecodeError) as exc:
            raise map_telegram_error(exc) from exc
        return [u.model_dump(mode="json", by_alias=True, exclude_none=True) for u in updates]

    async def close(self) -> None:
        """Close the aiohttp session."""
        await self.bot.session.close()


class _Session(AiohttpSession):
    """aiogram's session; closing skips its 250 ms TLS drain when there is no TLS."""

    def __init__(self, api_base: str, **kwargs: Any) -> None:
        super().__init__(api=TelegramAPIServer.from_base(api_base), **kwargs)
        self._plain_http = api_base.startswith("http://")

    async def close(self) -> None:
        if self._plain_http and self._session is not None and not self._session.closed:
            await self._session.close()
            return
        await super().close()


def _chat_id(to: str) -> int | str:
    return int(to) if _CHAT_ID.fullmatch(to) else to


def _keyboard(buttons: tuple[tuple[str, str], ...]) -> InlineKeyboardMarkup | None:
    """Up to three buttons share a row; more get a row each (long Chinese labels)."""
    if not buttons:
        return None
    for label, data in buttons:
        if not label or not 1 <= len(data.encode("utf-8")) <= 64:
            raise base.PermanentDeliveryError(f"button {label!r}: its data must be 1-64 bytes")
    items = [InlineKeyboardButton(text=label, callback_data=data) for label, data in buttons]
    rows = [items] if len(items) <= 3 else [[item] for item in items]
    return InlineKeyboardMarkup(inline_keyboard=rows)


# No connection was made, so the request cannot have reached Telegram (aiohttp 3.10 and
# later tell a connect timeout apart from a read timeout; before, a timeout stays unknown).
_NEVER_CONNECTED: tuple[type[Exception], ...] = (
    aiohttp.ClientConnectorError,
    getattr(aiohttp, "ConnectionTimeoutError", aiohttp.ClientConnectorError),
)


def _never_connected(exc: TelegramNetworkError) -> bool:
    """True when the request never left; any other network error (a dropped or reset
    connection, a read timeout) may come after Telegram took the message."""
    return isinstance(exc.__cause__, _NEVER_CONNECTED)


def map_telegram_error(exc: Exception) -> ChannelError:
    """aiogram's exceptions → our tree (blocked bot → address unusable)."""
    text = str(getattr(exc, "message", exc))
    if isinstance(exc, TelegramRetryAfter):
        return base.TransientDeliveryError(text, retry_after=float(exc.retry_after), code=429)
    if isinstance(exc, TelegramForbiddenError):
        return base.PermanentDeliveryError(text, code=403, address_unusable=True)
    if isinstance(exc, TelegramMigrateToChat):
        return base.PermanentDeliveryError(text, code="migrated", address_unusable=True)
    if isinstance(exc, TelegramBadRequest):
        unusable = any(marker in text.lower() for marker in _UNUSABLE_BAD_REQUESTS)
        return base.PermanentDeliveryError(text, code=400, address_unusable=unusable)
    if isinstance(exc, TelegramUnauthorizedError | TelegramNotFound | TelegramConflictError):
        return base.ConfigurationError(text, code=type(exc).__name__)
    if isinstance(exc, TelegramServerError):
        return base.TransientDeliveryError(text, code=500)
    if isinstance(exc, TelegramNetworkError):
        return base.TransientDeliveryError(text, outcome_unknown=not _never_connected(exc))
    if isinstance(exc, ClientDecodeError):
        return base.TransientDeliveryError(
            f"undecodable Bot API answer: {exc.message}", outcome_unknown=True
        )
    return base.PermanentDeliveryError(text)


# --- webhooks ---------------------------------------------------------------


from channels.telegram_parse import parse_telegram_update, verify_telegram_secret  # noqa: E402

__all__ = ["TelegramChannel", "map_telegram_error", "parse_telegram_update", "verify_telegram_secret"]
