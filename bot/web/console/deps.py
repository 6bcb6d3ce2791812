"""What every console page stands on: the clock, the session, `CurrentConsoleStaff`, the
CSRF check and `render`.

A page author writes::

    @router.get("/queue", response_class=HTMLResponse)
    async def queue(request: Request, staff: CurrentConsoleStaff) -> HTMLResponse:
        return render(request, "queue.html", rows=...)

and in the template ``{% extends "base.html" %}``, ``{% block content %}``, ``{{ t("key") }}``
and, in every POST form, ``{{ csrf_field() }}``. Every POST to the console router is checked
(`csrf_protect` is a dependency of the router itself), so a page cannot forget it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from bot.bootstrap import App
from bot.db.models import Staff, utcnow
from bot.service.admin.logins import LoginPolicy, session_refusal
from bot.web.console.i18n import DEFAULT_LANG, LANG_COOKIE, pick_lang, translator
from bot.web.console.session import COOKIE, ConsoleSession, SessionCodec, queue_cookie

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
_HEADERS = {"Cache-Control": "no-store", "X-Frame-Options": "DENY",
            "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}


@dataclass
class ConsoleConfig:
    """One per web app (on `app.state.console`); tests replace `clock` to move time."""

    app: App
    codec: SessionCodec
    policy: LoginPolicy
    idle_minutes: int
    clock: Callable[[], datetime] = utcnow


class SignInRequired(Exception):
    """Raised by `CurrentConsoleStaff`; answered with a redirect to the login page."""

    def __init__(self, reason: str | None = None) -> None:
        super().__init__(reason or "sign in")
        self.reason = reason


def console_config(request: Request) -> ConsoleConfig:
    config: ConsoleConfig = request.app.state.console
    return config


def console_now(request: Request) -> datetime:
    """The console's clock (injectable, so idle expiry and delays are testable)."""
    return console_config(request).clock()


Now = Annotated[datetime, Depends(console_now)]


def read_session(request: Request) -> ConsoleSession | None:
    """The request's console session (after a change in this request: the new one)."""
    changed: ConsoleSession | None = getattr(request.state, "console_session", None)
    if changed is not None:
        return changed
    return console_config(request).codec.loads(request.cookies.get(COOKIE))


def write_session(request: Request, session: ConsoleSession) -> None:
    """Keep `session` for the rest of this request and send it with the response."""
    request.state.console_session = session
    config = console_config(request)
    queue_cookie(request, COOKIE, config.codec.dumps(session), secure=config.codec.secure)


async def current_console_staff(request: Request, now: Now) -> Staff:
    """The signed-in staff member, checked against the database on every request, with the
    session's last activity moved to now; otherwise SignInRequired (→ login page)."""
    config = console_config(request)
    session = read_session(request)
    if session is None or session.stage != "in" or session.staff_id is None:
        raise SignInRequired()
    if (now - session.seen_at).total_seconds() > config.idle_minutes * 60:
        raise SignInRequired("login.expired")
    async with config.app.sessions() as db:
        staff = await db.get(Staff, session.staff_id)
    if staff is None or session_refusal(staff, session.issued_at):
        raise SignInRequired("login.ended")
    write_session(request, session.used(now))
    request.state.console_staff = staff
    return staff


CurrentConsoleStaff = Annotated[Staff, Depends(current_console_staff)]


async def csrf_protect(request: Request) -> None:
    """Every state-changing request needs the session's token in the `csrf_token` form
    field; 403 otherwise (before the page runs, so nothing changes)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    session = read_session(request)
    form = await request.form()
    token = form.get("csrf_token")
    if session is None or not isinstance(token, str) or not secrets.compare_digest(
            token.encode(), session.csrf.encode()):
        raise HTTPException(403, "CSRF token missing or wrong: reload the page and try again")


def console_lang(request: Request) -> str:
    """`?lang=en|zh` (remembered in a cookie for a year), else the cookie, else Chinese."""
    asked = pick_lang(request.query_params.get("lang"))
    if asked:
        queue_cookie(request, LANG_COOKIE, asked, max_age=365 * 24 * 3600,
                     secure=console_config(request).codec.secure)
        return asked
    return pick_lang(request.cookies.get(LANG_COOKIE)) or DEFAULT_LANG


def ensure_session(request: Request) -> ConsoleSession:
    """The session, or a new anonymous one (so forms before sign-in carry a CSRF token)."""
    session = read_session(request)
    if session is None:
        session = ConsoleSession.anonymous()
        write_session(request, session)
    return session


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A console page from `templates/` with `t`, `lang`, `csrf_field()` and `staff` (the
    signed-in person, when the page asked for `CurrentConsoleStaff`)."""
    lang = console_lang(request)
    token = ensure_session(request).csrf
    values = {"t": translator(lang), "lang": lang, "staff": getattr(request.state,
              "console_staff", None),
              "csrf_field": lambda: Markup(
                  f'<input type="hidden" name="csrf_token" value="{escape(token)}">'),
              **context}
    return templates.TemplateResponse(request, name, values, status_code=status_code,
                                      headers=_HEADERS)


def login_url(next_path: str | None = None, reason: str | None = None) -> str:
    """/console/login, with where to go after and why the user is there."""
    query = [f"next={quote(next_path)}"] if next_path and safe_next(next_path) else []
    if reason:
        query.append(f"reason={quote(reason)}")
    return "/console/login" + ("?" + "&".join(query) if query else "")


def safe_next(path: str | None) -> bool:
    """Only our own paths are followed after sign-in (no open redirect)."""
    return (path is not None and path.startswith("/") and not path.startswith("//")
            and "\\" not in path)
