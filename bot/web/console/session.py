"""The console's session: a signed cookie (itsdangerous, key OUTREACH_SECRET_KEY) holding the
staff id, when the session was issued and when it was last used, and its CSRF token.

Nothing is kept in server memory, so a session holds in every process and across restarts;
what can end it early is in the database (`Staff.active`, `sessions_valid_after`, the lock)
and is checked on every request by `bot.web.console.deps`. Times are integer microseconds
since the epoch so that a session issued at the instant of a password change compares exactly.

Cookies a request wants to set (the session after each use, the language) are queued on the
request with `queue_cookie` and written by `CookieWriter`, whatever response the page returns.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Literal

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeSerializer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "outreach_console"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_QUEUE = "console_cookies"

#: anon: no one signed in (the login form's CSRF token lives here); totp / enrol: the password
#: was right, the second factor is next; in: signed in.
Stage = Literal["anon", "totp", "enrol", "in"]
#: How long a right password waits for its second factor.
PENDING_LIMIT = timedelta(minutes=5)


def micros(moment: datetime) -> int:
    """Exact integer microseconds since the epoch (no float rounding)."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


def from_micros(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


@dataclass(frozen=True)
class ConsoleSession:
    """What the cookie carries; `issued`/`seen` are microseconds (see `micros`)."""

    csrf: str
    stage: Stage = "anon"
    staff_id: int | None = None
    issued: int = 0
    seen: int = 0
    enrol_secret: str | None = None  # a TOTP secret shown for enrolment, not yet confirmed

    @classmethod
    def anonymous(cls) -> ConsoleSession:
        """A fresh session with a new CSRF token (also after sign-in: no fixation)."""
        return cls(csrf=secrets.token_urlsafe(32))

    @classmethod
    def started(cls, stage: Stage, staff_id: int, now: datetime,
                enrol_secret: str | None = None) -> ConsoleSession:
        at = micros(now)
        return cls(secrets.token_urlsafe(32), stage, staff_id, at, at, enrol_secret)

    @property
    def issued_at(self) -> datetime:
        return from_micros(self.issued)

    @property
    def seen_at(self) -> datetime:
        return from_micros(self.seen)

    def pending_for(self, stage: Stage, now: datetime) -> bool:
        """A password step in this stage, not older than PENDING_LIMIT."""
        return (self.stage == stage and self.staff_id is not None
                and now - self.issued_at <= PENDING_LIMIT)

    def used(self, now: datetime) -> ConsoleSession:
        return replace(self, seen=micros(now))


class SessionCodec:
    """Signs and reads the cookie; a tampered or foreign cookie reads as no session."""

    def __init__(self, secret_key: str, secure: bool) -> None:
        self._serializer = URLSafeSerializer(secret_key, salt="outreach.console.session")
        self.secure = secure

    def dumps(self, session: ConsoleSession) -> str:
        return str(self._serializer.dumps(asdict(session)))

    def loads(self, value: str | None) -> ConsoleSession | None:
        if not value:
            return None
        try:
            data = self._serializer.loads(value)
            return ConsoleSession(**data)
        except (BadSignature, TypeError, ValueError):
            return None


def queue_cookie(request: Request, name: str, value: str, *, secure: bool,
                 max_age: int | None = None) -> None:
    """Set a cookie on whatever response this request ends with (HttpOnly, SameSite=Lax,
    path /)."""
    carrier = Response()
    carrier.set_cookie(name, value, max_age=max_age, path="/", secure=secure, httponly=True,
                       samesite="lax")
    queued: dict[str, tuple[bytes, bytes]] = request.scope.setdefault("state", {}).setdefault(
        _QUEUE, {})
    queued[name] = next(h for h in carrier.raw_headers if h[0] == b"set-cookie")


class CookieWriter:
    """ASGI middleware: adds the queued Set-Cookie headers to the response's start."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                queued = state.get(_QUEUE)
                if queued:
                    message["headers"] = [*message.get("headers", []), *queued.values()]
            await send(message)

        await self.app(scope, receive, sending)
