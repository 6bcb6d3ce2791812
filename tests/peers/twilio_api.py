"""A local Twilio Messages API: create, list, injected failures, signed callbacks.

Answers carry Twilio's real Message fields only (no StatusCallback echo), so
reconciliation code is tested against what Twilio actually returns. Signing is
written here from Twilio's documented algorithm, independently of the SDK the
adapter uses, so the two check each other.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import random
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

from tests.peers.http import LoopbackServer

_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€"
)


def twilio_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """X-Twilio-Signature: base64(HMAC-SHA1(token, url + sorted key+value pairs))."""
    payload = url + "".join(key + params[key] for key in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def sms_segments(body: str) -> int:
    """GSM-7 160/153 per segment, else UCS-2 70/67 (UTF-16 units)."""
    if set(body) <= _GSM7:
        units, single, multi = len(body), 160, 153
    else:
        units, single, multi = len(body.encode("utf-16-le")) // 2, 70, 67
    return 1 if units <= single else -(-units // multi)


def rfc2822(when: datetime) -> str:
    return format_datetime(when.astimezone(UTC))


@dataclass
class Failure:
    status: int
    code: int | None = None
    message: str = "injected failure"
    retry_after: str | None = None
    delay: float = 0.0  # answer late (client timeout tests)


class TwilioPeer(LoopbackServer):
    """Speaks `/2010-04-01/Accounts/{sid}/Messages.json` (POST create, GET list)."""

    def __init__(
        self,
        account_sid: str = "AC" + "1" * 32,
        auth_token: str = "peer-auth-token",
        auto_status: tuple[str, ...] = (),
    ) -> None:
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.auto_status = auto_status  # e.g. ("sent", "delivered"): posted to StatusCallback
        self.messages: list[dict[str, Any]] = []  # stored Message resources, oldest first
        self.callback_urls: dict[str, str] = {}  # sid → StatusCallback (never returned)
        self.requests = 0
        self.opted_out: set[str] = set()
        self.landlines: set[str] = set()
        self.answer_delay = 0.0  # seconds a create is held after it is stored (slow Twilio)
        # Faults for the next creates, or at random with `fault_rate` (bench/faults.py):
        # "close_before" drops the connection before storing, "close_after" after storing,
        # "hang" holds the request `hang_seconds` unanswered (not stored), then drops it.
        self.faults: list[str] = []
        self.fault_rate: dict[str, float] = {}
        self.hang_seconds = 40.0
        self._random = random.Random(7)
        self._failures: list[Failure] = []
        self._tasks: set[asyncio.Task[None]] = set()
        path = "/2010-04-01/Accounts/{sid}/Messages.json"
        self.app.router.add_post(path, self._create)
        self.app.router.add_get(path, self._list)

    def fail_next(self, count: int, status: int, code: int | None = None, **kw: Any) -> None:
        """The next `count` requests answer `status` with Twilio's error JSON."""
        self._failures.extend(Failure(status, code, **kw) for _ in range(count))

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await super().stop()

    # --- API ----------------------------------------------------------------

    async def _create(self, request: web.Request) -> web.Response:
        if (denied := await self._gate(request)) is not None:
            return denied
        form = {k: str(v) for k, v in (await request.post()).items()}
        to, body = form.get("To", ""), form.get("Body", "")
        sender, service = form.get("From"), form.get("MessagingServiceSid")
        fault = self._next_fault()
        if fault == "hang":
            await asyncio.sleep(self.hang_seconds)
        if fault in ("hang", "close_before"):
            return _drop(request)
        if not _E164.fullmatch(to):
            return _error(400, 21211, f"Invalid 'To' Phone Number: {to[:3]}XXXX")
        if not body:
            return _error(400, 21602, "Message body is required.")
        if not sender and not service:
            return _error(400, 21603, "The 'From' phone number is required.")
        if to in self.opted_out:
            return _error(400, 21610, "Attempt to send to unsubscribed recipient")
        if to in self.landlines:
            return _error(400, 21614, f"'To' number {to[:3]}XXXX is not a valid mobile number")
        now = datetime.now(UTC)
        sid = "SM" + secrets.token_hex(16)
        resource = {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": body,
            "date_created": rfc2822(now),
            "date_sent": None,
            "date_updated": rfc2822(now),
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": sender,
            "messaging_service_sid": service,
            "num_media": "0",
            "num_segments": str(sms_segments(body)),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if service and not sender else "queued",
            "subresource_uris": {
                "media": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}/Media.json"
            },
            "to": to,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }
        answer = dict(resource)
        # Twilio hands the message to the carrier right away; the stored copy moves on.
        resource.update(status="sent", date_sent=rfc2822(now))
        self.messages.append(resource)
        if callback := form.get("StatusCallback"):
            self.callback_urls[sid] = callback
            if self.auto_status:
                self._spawn(self._auto_callbacks(sid))
        if fault == "close_after":
            return _drop(request)
        if self.answer_delay:
            await asyncio.sleep(self.answer_delay)
        return web.json_response(answer, status=201)

    def _next_fault(self) -> str | None:
        if self.faults:
            return self.faults.pop(0)
        roll = self._random.random()
        for fault, rate in self.fault_rate.items():
            if roll < rate:
                return fault
            roll -= rate
        return None

    async def _list(self, request: web.Request) -> web.Response:
        if (denied := await self._gate(request)) is not None:
            return denied
        q = request.query
        found = [m for m in reversed(self.messages) if _matches(m, q)]
        size = int(q.get("PageSize", "50"))
        page = int(q.get("Page", "0"))
        chunk = found[page * size : (page + 1) * size]
        base = f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        keep = urlencode([(k, v) for k, v in q.items() if k not in ("Page", "PageSize")])
        more = (page + 1) * size < len(found)
        return web.json_response(
            {
                "messages": chunk,
                "page": page,
                "page_size": size,
                "start": page * size,
                "end": page * size + max(len(chunk) - 1, 0),
                "uri": str(request.rel_url),
                "first_page_uri": f"{base}?{keep}&PageSize={size}&Page=0",
                "previous_page_uri": None,
                "next_page_uri": f"{base}?{keep}&PageSize={size}&Page={page + 1}" if more else None,
            }
        )

    async def _gate(self, request: web.Request) -> web.Response | None:
        """Basic auth, then any injected failure; counts every request."""
        self.requests += 1
        try:
            auth = aiohttp.BasicAuth.decode(request.headers.get("Authorization", ""))
        except ValueError:
            auth = None
        if auth is None or (auth.login, auth.password) != (self.account_sid, self.auth_token):
            return _error(401, 20003, "Authenticate")
        if request.match_info["sid"] != self.account_sid:
            return _error(404, 20404, "The requested resource was not found")
        if self._failures:
            failure = self._failures.pop(0)
            if failure.delay:
                await asyncio.sleep(failure.delay)
            headers = {"Retry-After": failure.retry_after} if failure.retry_after else {}
            return _error(failure.status, failure.code, failure.message, headers)
        return None

    # --- webhooks to the app --------------------------------------------------

    async def post_status_callback(
        self, sid: str, status: str, error_code: int | None = None, url: str | None = None
    ) -> int:
        """POST a signed status callback for a stored message; returns the HTTP status."""
        message = next(m for m in self.messages if m["sid"] == sid)
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "From": message["from"] or "",
            "MessageSid": sid,
            "MessageStatus": status,
            "SmsSid": sid,
            "SmsStatus": status,
            "To": message["to"],
        }
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        message.update(status=status, error_code=error_code)
        status_code, _ = await self.post_signed(url or self.callback_urls[sid], params)
        return status_code

    async def post_inbound_sms(
        self, url: str, from_: str, to: str, body: str, **extra: str
    ) -> tuple[int, str]:
        """POST a signed inbound SMS webhook; returns (status, body) for TwiML checks."""
        sid = "SM" + secrets.token_hex(16)
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "Body": body,
            "From": from_,
            "MessageSid": sid,
            "NumMedia": "0",
            "NumSegments": str(sms_segments(body)),
            "SmsMessageSid": sid,
            "SmsSid": sid,
            "SmsStatus": "received",
            "To": to,
            **extra,
        }
        return await self.post_signed(url, params)

    async def post_signed(
        self, url: str, params: dict[str, str], *, signature: str | None = None
    ) -> tuple[int, str]:
        """POST a form as Twilio does, signed over the exact URL (or with a given bad signature)."""
        headers = {
            "X-Twilio-Signature": signature or twilio_signature(self.auth_token, url, params)
        }
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, data=params, headers=headers) as response,
        ):
            return response.status, await response.text()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _auto_callbacks(self, sid: str) -> None:
        for status in self.auto_status:
            await self.post_status_callback(sid, status)


def _drop(request: web.Request) -> web.Response:
    """Close the connection without an answer (the client sees it cut off)."""
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=500)


def _matches(message: dict[str, Any], query: Mapping[str, str]) -> bool:
    """To/From and DateSent filters; like Twilio, DateSent compares whole days (UTC)."""
    if "To" in query and message["to"] != query["To"]:
        return False
    if "From" in query and message["from"] != query["From"]:
        return False
    for key, keep in (("DateSent>", lambda d, f: d >= f), ("DateSent<", lambda d, f: d <= f)):
        if key in query:
            if not message["date_sent"]:
                return False
            sent = _day(message["date_sent"])
            if not keep(sent, date.fromisoformat(query[key][:10])):
                return False
    return True


def _day(value: str) -> date:
    return parsedate_to_datetime(value).astimezone(UTC).date()


def _error(
    status: int, code: int | None, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}" if code else None,
        "status": status,
    }
    return web.json_response(body, status=status, headers=headers)
