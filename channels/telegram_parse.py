"""Telegram updates → our inbound shape, without aiogram (the web app stays quick to import)."""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from channels.base import InboundMessage, utcnow

_START = re.compile(r"^/start(?:@\w+)?(?:\s+(\S+))?\s*$")
_DEEP_LINK = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: How far in the future a message's date may be (clocks differ) before it counts as wrong.
_CLOCK_SKEW = timedelta(minutes=5)
logger = logging.getLogger(__name__)

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
        return _from_button(update["callback_query"], update)
    return None


def parse_bot_blocked(update: Mapping[str, Any]) -> tuple[str, bool] | None:
    """(chat id, blocked) when a customer blocked the bot (`kicked`) or unblocked it
    (`member` again), from a private chat's `my_chat_member` update; else None."""
    change = update.get("my_chat_member")
    if not isinstance(change, Mapping):
        return None
    chat = change.get("chat") or {}
    new = (change.get("new_chat_member") or {}).get("status")
    old = (change.get("old_chat_member") or {}).get("status")
    if chat.get("type") != "private" or not isinstance(chat.get("id"), int):
        return None  # chat ids are numbers: anything else is no update from Telegram
    if new == "kicked":
        return str(chat["id"]), True
    if new == "member" and old == "kicked":
        return str(chat["id"]), False
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


def _from_button(query: Mapping[str, Any], update: Mapping[str, Any]) -> InboundMessage | None:
    message = query.get("message") or {}
    chat = message.get("chat") or query.get("from") or {}
    if "id" not in chat or "id" not in query:
        return None
    chat_id = str(chat["id"])
    return InboundMessage(
        channel="telegram",
        provider_id=f"callback:{query['id']}",  # Telegram's callback query id
        from_address=chat_id,
        to_address="",
        text=_button_label(message, query.get("data")) or str(query.get("data") or ""),
        received_at=utcnow(),  # a callback query carries no date of its own
        reply_to_provider_id=f"{chat_id}:{message['message_id']}"
        if "message_id" in message
        else None,
        button_data=str(query["data"]) if query.get("data") is not None else None,
        button_query_id=str(query["id"]),
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
    """The message's `date`; the time received when it is missing or no real time (a date
    past year 9999 or in the future would otherwise fail or move deadlines out of reach)."""
    now = utcnow()
    if not isinstance(value, int | float) or isinstance(value, bool):
        return now
    try:
        when = datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        when = None
    if when is None or when > now + _CLOCK_SKEW:
        logger.warning("telegram message date %r is no real time: using the time received", value)
        return now
    return when
