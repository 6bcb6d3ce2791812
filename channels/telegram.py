"""Telegram through aiogram 3, pointed at TELEGRAM_API_BASE.

Provider ids are "<chat id>:<message id>" because Telegram numbers messages
per chat; a reply's `reply_to_message` and a button press carry the same pair,
so threading is a plain string match.
"""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

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

from channels.base import (
    ChannelError,
    ConfigurationError,
    InboundMessage,
    Mode,
    OutboundMessage,
    PermanentDeliveryError,
    SendResult,
    TransientDeliveryError,
    utcnow,
)

_CHAT_ID = re.compile(r"-?[0-9]+")
_START = re.compile(r"^/start(?:@\w+)?(?:\s+(\S+))?\s*$")
_DEEP_LINK = re.compile(r"[A-Za-z0-9_-]{1,64}")
_UNUSABLE_BAD_REQUESTS = (
    "chat not found",
    "user not found",
    "peer_id_invalid",
    "user is deactivated",
)


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
            raise ConfigurationError(
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

    async def answer_callback(self, callback_query_id: str, text: str | None = None) -> None:
        """Stop the button's spinner in the user's client (best effort is the caller's call)."""
        try:
            await self.bot.answer_callback_query(callback_query_id, text=text)
        except (TelegramAPIError, ClientDecodeError) as exc:
            raise map_telegram_error(exc) from exc

    async def set_webhook(self, url: str, secret: str) -> None:
        """Register our webhook with its secret header (webhook mode at start)."""
        try:
            await self.bot.set_webhook(
                url, secret_token=secret, allowed_updates=["message", "callback_query"]
            )
        except (TelegramAPIError, ClientDecodeError) as exc:
            raise map_telegram_error(exc) from exc

    async def get_updates(
        self, offset: int | None = None, timeout: int = 25
    ) -> list[dict[str, Any]]:
        """Long-poll for updates (polling mode) as plain Update dicts for `parse_telegram_update`."""
        try:
            updates = await self.bot.get_updates(
                offset=offset, timeout=timeout, allowed_updates=["message", "callback_query"]
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
            raise PermanentDeliveryError(f"button {label!r}: callback_data must be 1-64 bytes")
    items = [InlineKeyboardButton(text=label, callback_data=data) for label, data in buttons]
    rows = [items] if len(items) <= 3 else [[item] for item in items]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def map_telegram_error(exc: Exception) -> ChannelError:
    """aiogram's exceptions → our tree (blocked bot → address unusable)."""
    text = str(getattr(exc, "message", exc))
    if isinstance(exc, TelegramRetryAfter):
        return TransientDeliveryError(text, retry_after=float(exc.retry_after), code=429)
    if isinstance(exc, TelegramForbiddenError):
        return PermanentDeliveryError(text, code=403, address_unusable=True)
    if isinstance(exc, TelegramMigrateToChat):
        return PermanentDeliveryError(text, code="migrated", address_unusable=True)
    if isinstance(exc, TelegramBadRequest):
        unusable = any(marker in text.lower() for marker in _UNUSABLE_BAD_REQUESTS)
        return PermanentDeliveryError(text, code=400, address_unusable=unusable)
    if isinstance(exc, TelegramUnauthorizedError | TelegramNotFound | TelegramConflictError):
        return ConfigurationError(text, code=type(exc).__name__)
    if isinstance(exc, TelegramServerError):
        return TransientDeliveryError(text, code=500)
    if isinstance(exc, TelegramNetworkError):
        return TransientDeliveryError(text, outcome_unknown="timeout" in text.lower())
    if isinstance(exc, ClientDecodeError):
        return TransientDeliveryError(
            f"undecodable Bot API answer: {exc.message}", outcome_unknown=True
        )
    return PermanentDeliveryError(text)


# --- webhooks ---------------------------------------------------------------


def verify_telegram_secret(header: str | None, secret: str) -> bool:
    """True when X-Telegram-Bot-Api-Secret-Token equals our secret (constant time)."""
    if not header or not secret:
        return False
    return secrets.compare_digest(header.encode("utf-8"), secret.encode("utf-8"))


def parse_telegram_update(update: Mapping[str, Any]) -> InboundMessage | None:
    """A text message or a button press → InboundMessage; anything else → None."""
    if isinstance(update.get("message"), Mapping):
        return _from_message(update["message"], update)
    if isinstance(update.get("callback_query"), Mapping):
        return _from_callback(update["callback_query"], update)
    return None


def _from_message(message: Mapping[str, Any], update: Mapping[str, Any]) -> InboundMessage | None:
    chat = message.get("chat") or {}
    if "id" not in chat or "message_id" not in message:
        return None
    chat_id = str(chat["id"])
    text = str(message.get("text") or message.get("caption") or "")
    start = _START.match(text)
    payload = start.group(1) if start and start.group(1) else None
    replied = message.get("reply_to_message") or {}
    return InboundMessage(
        channel="telegram",
        provider_id=f"{chat_id}:{message['message_id']}",
        from_address=chat_id,
        to_address="",
        text=text,
        received_at=_from_unix(message.get("date")),
        reply_to_provider_id=f"{chat_id}:{replied['message_id']}"
        if "message_id" in replied
        else None,
        start_payload=payload if payload and _DEEP_LINK.fullmatch(payload) else None,
        raw=dict(update),
    )


def _from_callback(query: Mapping[str, Any], update: Mapping[str, Any]) -> InboundMessage | None:
    message = query.get("message") or {}
    chat = message.get("chat") or query.get("from") or {}
    if "id" not in chat or "id" not in query:
        return None
    chat_id = str(chat["id"])
    return InboundMessage(
        channel="telegram",
        provider_id=f"callback:{query['id']}",
        from_address=chat_id,
        to_address="",
        text=_button_label(message, query.get("data")) or str(query.get("data") or ""),
        received_at=utcnow(),  # a callback query carries no date of its own
        reply_to_provider_id=f"{chat_id}:{message['message_id']}"
        if "message_id" in message
        else None,
        callback_data=str(query["data"]) if query.get("data") is not None else None,
        callback_query_id=str(query["id"]),
        raw=dict(update),
    )


def _button_label(message: Mapping[str, Any], data: object) -> str | None:
    """The pressed button's label, from the keyboard echoed back with the query."""
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    for row in rows:
        for button in row:
            if button.get("callback_data") == data:
                return str(button.get("text") or "") or None
    return None


def _from_unix(value: object) -> datetime:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz=UTC)
    return utcnow()
