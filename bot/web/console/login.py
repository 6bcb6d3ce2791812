"""Signing in and out: password, then the TOTP code (or enrolment when the role requires a
second factor and the user has none), and sign-out. The rules are the service's
(`bot.service.admin.logins`); this module turns them into pages, redirects and the cookie."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.db.models import Staff
from bot.service.admin import logins, mfa
from bot.service.admin.logins import (
    AccountLocked,
    BadCredentials,
    CodeAlreadyUsed,
    ConsoleRefused,
    LoginError,
    LoginThrottled,
)
from bot.web.console.deps import (
    Now,
    console_config,
    current_console_staff,
    ensure_session,
    login_url,
    read_session,
    render,
    safe_next,
    write_session,
)
from bot.web.console.session import ConsoleSession, Stage

router = APIRouter()
TextField = Annotated[str, Form()]
HOME = "/console/"


def client_ip(request: Request) -> str:
    """The address failures are counted for (uvicorn applies X-Forwarded-For from trusted
    proxies, see `--forwarded-allow-ips`)."""
    return request.client.host if request.client else "unknown"


def _after(next_path: str | None) -> str:
    return next_path if next_path and safe_next(next_path) else HOME


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _refused(request: Request, exc: LoginError, page: str, wrong: str,
             **context: object) -> HTMLResponse:
    """The form again with what went wrong: 429 + Retry-After while throttled, 401 for a
    wrong secret, 403 for a locked account or a role without console."""
    status, headers = 401, {}
    message: tuple[str, dict[str, object]] = (wrong, {})
    if isinstance(exc, LoginThrottled):
        status, headers = 429, {"Retry-After": str(exc.retry_after)}
        message = ("login.throttled", {"seconds": exc.retry_after})
    elif isinstance(exc, CodeAlreadyUsed):
        message = ("totp.reused", {})
    elif isinstance(exc, BadCredentials) and exc.retry_after and page == "login.html":
        message = ("login.failed_wait", {"seconds": exc.retry_after})
    elif isinstance(exc, AccountLocked):
        status, message = 403, ("login.locked", {})
    elif isinstance(exc, ConsoleRefused):
        status, message = 403, ("login.refused", {})
    response = render(request, page, status_code=status, error=message, **context)
    response.headers.update(headers)
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str | None = None,
                     reason: str | None = None) -> HTMLResponse:
    ensure_session(request)
    notice = reason if reason in ("login.expired", "login.ended", "login.signed_out") else None
    return render(request, "login.html", next=next or "", notice=notice, username="")


@router.post("/login", response_model=None)
async def login(request: Request, now: Now, username: TextField = "", password: TextField = "",
                next: TextField = "") -> Response:
    config = console_config(request)
    async with config.app.sessions() as db:
        try:
            result = await logins.check_password(db, username.strip(), password,
                                                 ip=client_ip(request), now=now,
                                                 policy=config.policy)
        except LoginError as exc:
            return _refused(request, exc, "login.html", "login.failed", next=next,
                            username=username.strip())
        finally:
            await db.commit()
    staff_id = result.staff.id
    assert staff_id is not None
    if result.second == "none":
        write_session(request, ConsoleSession.started("in", staff_id, now))
        return _see_other(_after(next))
    secret = mfa.new_secret() if result.second == "enrol" else None
    write_session(request, ConsoleSession.started(result.second, staff_id, now, secret))
    page = "/console/login/totp" if result.second == "totp" else "/console/enrol"
    return _see_other(page + (f"?next={next}" if safe_next(next) else ""))


def _pending(request: Request, stage: Stage, now: Now) -> ConsoleSession | None:
    session = read_session(request)
    return session if session is not None and session.pending_for(stage, now) else None


@router.get("/login/totp", response_class=HTMLResponse, response_model=None)
async def totp_page(request: Request, now: Now, next: str = "") -> Response:
    if _pending(request, "totp", now) is None:
        return _see_other(login_url(next))
    return render(request, "totp.html", next=next)


@router.post("/login/totp", response_model=None)
async def totp(request: Request, now: Now, code: TextField = "", next: TextField = "") -> Response:
    pending = _pending(request, "totp", now)
    if pending is None or pending.staff_id is None:
        return _see_other(login_url(next))
    config = console_config(request)
    async with config.app.sessions() as db:
        try:
            await logins.check_totp(db, pending.staff_id, code, ip=client_ip(request), now=now,
                                    policy=config.policy)
        except LoginError as exc:
            if isinstance(exc, AccountLocked):
                write_session(request, ConsoleSession.anonymous())
            return _refused(request, exc, "totp.html", "totp.failed", next=next)
        finally:
            await db.commit()
    write_session(request, ConsoleSession.started("in", pending.staff_id, now))
    return _see_other(_after(next))


async def _enrolling(request: Request, now: Now) -> tuple[ConsoleSession, Staff] | None:
    """Who is enrolling: a right password waiting for a required enrolment, or a signed-in
    user adding a second factor by choice (then the session must hold, as on any page)."""
    session = _pending(request, "enrol", now)
    if session is None:
        await current_console_staff(request, now)  # raises SignInRequired when not signed in
        session = read_session(request)
    assert session is not None and session.staff_id is not None
    async with console_config(request).app.sessions() as db:
        staff = await db.get(Staff, session.staff_id)
    if staff is None:
        return None
    if session.enrol_secret is None:
        session = replace(session, enrol_secret=mfa.new_secret())
        write_session(request, session)
    return session, staff


@router.get("/enrol", response_class=HTMLResponse, response_model=None)
async def enrol_page(request: Request, now: Now, next: str = "") -> Response:
    found = await _enrolling(request, now)
    if found is None:
        return _see_other(login_url())
    session, staff = found
    if staff.totp_secret:
        return render(request, "enrol.html", done="enrol.already", next=next)
    view = mfa.enrolment(staff.username, session.enrol_secret or "")
    return render(request, "enrol.html", enrolment=view, required=session.stage == "enrol",
                  next=next)


@router.post("/enrol", response_model=None)
async def enrol(request: Request, now: Now, code: TextField = "", next: TextField = "") -> Response:
    found = await _enrolling(request, now)
    if found is None:
        return _see_other(login_url())
    session, staff = found
    secret = session.enrol_secret or ""
    async with console_config(request).app.sessions() as db:
        staff = await db.get(Staff, staff.id) or staff
        try:
            await mfa.confirm_enrolment(db, staff, secret, code, now)
            if session.stage == "enrol":
                await logins.succeeded(db, staff, client_ip(request), now)
        except mfa.MfaError as exc:
            wrong = "totp.reused" if isinstance(exc, mfa.CodeReused) else "enrol.failed"
            return render(request, "enrol.html", status_code=400, error=(wrong, {}),
                          enrolment=mfa.enrolment(staff.username, secret),
                          required=session.stage == "enrol", next=next)
        await db.commit()
    if session.stage == "enrol":
        write_session(request, ConsoleSession.started("in", session.staff_id or 0, now))
        return _see_other(_after(next))
    write_session(request, replace(session, enrol_secret=None))
    return render(request, "enrol.html", done="enrol.done", next="")


@router.post("/logout", response_model=None)
async def logout(request: Request) -> Response:
    write_session(request, ConsoleSession.anonymous())
    return _see_other(login_url(reason="login.signed_out"))
