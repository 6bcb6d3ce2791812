"""A local Telegram Bot API: sendMessage, answerCallbackQuery, setWebhook, getUpdates.

Answers use the Bot API's envelope (`{"ok": true, "result": …}` or
`{"ok": false, "error_code", "description", "parameters"}`), so aiogram's own
error classification runs for real. Also builds and posts real Update JSON.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from tests.peers.http import LoopbackServer

BOT_ID = 7000001
BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "Outreach", "username": "outreach_test_bot"}


@dataclass
class Failure:
    status: int
    description: str
    retry_after: int | None = None


BLOCKED = Failure(403, "Forbidden: bot was blocked by the user")
CHAT_NOT_FOUND = Failure(400, "Bad Request: chat not found")
SERVER_ERROR = Failure(500, "Internal Server Error")


def flood(retry_after: int) -> Failure:
    return Failure(429, f"Too Many Requests: retry after {retry_after}", retry_after)


class TelegramPeer(LoopbackServer):
    """Serves `/bot<token>/<method>`; records what the bot sent."""

    def __init__(self, token: str = f"{BOT_ID}:AAH-peer-token_for-tests") -> None:
        super().__init__()
        self.token = token
        self.sent: list[dict[str, Any]] = []  # sendMessage params, reply_markup parsed
        self.answered: list[dict[str, Any]] = []  # answerCallbackQuery params
        self.webhook: dict[str, Any] | None = None
        self.blocked_chats: set[int] = set()
        self.updates: list[dict[str, Any]] = []  # queued for getUpdates
        self.requests = 0
        self.drops = 0  # the next N sendMessage calls are taken, then the connection drops
        self._failures: list[Failure] = []
        self._message_ids: defaultdict[int, itertools.count[int]] = defaultdict(
            lambda: itertools.count(1)
        )
        self._update_ids = itertools.count(1)
        self._new_update = asyncio.Event()
        self.app.router.add_route("*", "/bot{token}/{method}", self._dispatch)

    def fail_next(self, count: int, failure: Failure) -> None:
        self._failures.extend([failure] * count)

    async def _dispatch(self, request: web.Request) -> web.Response:
        self.requests += 1
        if request.match_info["token"] != self.token:
            return _fail(Failure(401, "Unauthorized"))
        params = await _params(request)
        if self._failures:
            return _fail(self._failures.pop(0))
        handler = {
            "sendmessage": self._send_message,
            "answercallbackquery": self._answer_callback,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getupdates": self._get_updates,
            "getme": self._get_me,
        }.get(request.match_info["method"].lower())
        if handler is None:
            return _fail(Failure(404, "Not Found"))
        response = await handler(params)
        if self.drops and handler == self._send_message:
            # Telegram has the message; the connection is lost before the answer.
            self.drops -= 1
            assert request.transport is not None
            request.transport.abort()
        return response

    async def _send_message(self, params: dict[str, Any]) -> web.Response:
        text = str(params.get("text") or "")
        if "chat_id" not in params:
            return _fail(Failure(400, "Bad Request: chat_id is empty"))
        if not text:
            return _fail(Failure(400, "Bad Request: message text is empty"))
        try:
            chat_id = int(params["chat_id"])
        except ValueError:
            return _fail(CHAT_NOT_FOUND)
        if chat_id in self.blocked_chats:
            return _fail(BLOCKED)
        markup = params.get("reply_markup")
        markup = json.loads(markup) if isinstance(markup, str) else markup
        self.sent.append({**params, "chat_id": chat_id, "reply_markup": markup})
        result: dict[str, Any] = {
            "message_id": next(self._message_ids[chat_id]),
            "from": BOT_USER,
            "chat": {"id": chat_id, "type": "private"},
            "date": int(time.time()),
            "text": re.sub(r"<[^>]+>", "", text) if params.get("parse_mode") == "HTML" else text,
        }
        if markup:
            result["reply_markup"] = markup
        return web.json_response({"ok": True, "result": result})

    async def _answer_callback(self, params: dict[str, Any]) -> web.Response:
        self.answered.append(params)
        return web.json_response({"ok": True, "result": True})

    async def _set_webhook(self, params: dict[str, Any]) -> web.Response:
        self.webhook = params
        return web.json_response({"ok": True, "result": True, "description": "Webhook was set"})

    async def _delete_webhook(self, params: dict[str, Any]) -> web.Response:
        self.webhook = None
        return web.json_response({"ok": True, "result": True, "description": "Webhook was deleted"})

    async def _get_updates(self, params: dict[str, Any]) -> web.Response:
        offset = int(params.get("offset") or 0)
        pending = [u for u in self.updates if u["update_id"] >= offset]
        if not pending and float(params.get("timeout") or 0) > 0:
            self._new_update.clear()
            try:
                async with asyncio.timeout(float(params["timeout"])):
                    await self._new_update.wait()
            except TimeoutError:
                pass
            pending = [u for u in self.updates if u["update_id"] >= offset]
        self.updates = pending  # confirmed ones are forgotten, as Telegram does
        return web.json_response({"ok": True, "result": pending})

    async def _get_me(self, params: dict[str, Any]) -> web.Response:
        return web.json_response({"ok": True, "result": BOT_USER})

    # --- updates to the app ---------------------------------------------------

    def message_update(
        self, chat_id: int, text: str, *, reply_to_message_id: int | None = None
    ) -> dict[str, Any]:
        """A real Update with a private text message from the customer."""
        user = {"id": chat_id, "is_bot": False, "first_name": "客户", "language_code": "zh-hans"}
        message: dict[str, Any] = {
            "message_id": 1000 + next(self._update_ids),
            "from": user,
            "chat": {"id": chat_id, "first_name": "客户", "type": "private"},
            "date": int(time.time()),
            "text": text,
        }
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"offset": 0, "length": len(command), "type": "bot_command"}]
        if reply_to_message_id is not None:
            message["reply_to_message"] = {
                "message_id": reply_to_message_id,
                "from": BOT_USER,
                "chat": message["chat"],
                "date": int(time.time()) - 60,
                "text": "…",
            }
        return {"update_id": next(self._update_ids), "message": message}

    def callback_update(self, chat_id: int, message_id: int, data: str) -> dict[str, Any]:
        """A real Update for a press on one of the bot's inline buttons."""
        sent = next(
            (s for s in reversed(self.sent) if s["chat_id"] == chat_id), {"reply_markup": None}
        )
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": BOT_USER,
            "chat": {"id": chat_id, "first_name": "客户", "type": "private"},
            "date": int(time.time()) - 30,
            "text": "…",
        }
        if sent["reply_markup"]:
            message["reply_markup"] = sent["reply_markup"]
        return {
            "update_id": next(self._update_ids),
            "callback_query": {
                "id": str(4_000_000_000 + next(self._update_ids)),
                "from": {"id": chat_id, "is_bot": False, "first_name": "客户"},
                "message": message,
                "chat_instance": "-1234567890",
                "data": data,
            },
        }

    def chat_member_update(self, chat_id: int, old: str, new: str,
                           chat_type: str = "private") -> dict[str, Any]:
        """A real `my_chat_member` Update: the bot's membership in a chat changed
        (`kicked` when a customer blocks the bot, `member` when they unblock it)."""
        user = {"id": chat_id, "is_bot": False, "first_name": "客户"}
        return {"update_id": next(self._update_ids), "my_chat_member": {
            "chat": {"id": chat_id, "first_name": "客户", "type": chat_type},
            "from": user, "date": int(time.time()),
            "old_chat_member": {"user": BOT_USER, "status": old},
            "new_chat_member": {"user": BOT_USER, "status": new,
                                **({"until_date": 0} if new == "kicked" else {})},
        }}

    def queue_update(self, update: dict[str, Any]) -> None:
        """Make an update available to getUpdates (polling mode)."""
        self.updates.append(update)
        self._new_update.set()

    async def post_update(self, url: str, update: dict[str, Any], secret: str | None) -> int:
        """POST an Update to a webhook the way Telegram does; returns the HTTP status."""
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, json=update, headers=headers) as response,
        ):
            return response.status


async def _params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.method == "POST":
        if request.content_type == "application/json":
            params.update(await request.json())
        else:
            params.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
    return params


def _fail(failure: Failure) -> web.Response:
    body: dict[str, Any] = {
        "ok": False,
        "error_code": failure.status,
        "description": failure.description,
    }
    if failure.retry_after is not None:
        body["parameters"] = {"retry_after": failure.retry_after}
    return web.json_response(body, status=failure.status)
