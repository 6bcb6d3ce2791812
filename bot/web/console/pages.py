"""Pages for the signed-in: the home page (a placeholder until the queue replaces it),
changing one's password (which ends the user's other sessions) and signing out everywhere
(a lost phone, a shared computer left signed in)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from bot.db.models import Staff
from bot.service.admin import logins
from bot.web.console.deps import (
    CurrentConsoleStaff,
    Now,
    console_config,
    login_url,
    read_session,
    render,
    write_session,
)
from bot.web.console.session import ConsoleSession

router = APIRouter()
TextField = Annotated[str, Form()]


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, staff: CurrentConsoleStaff) -> HTMLResponse:
    return render(request, "home.html")


@router.get("/password", response_class=HTMLResponse)
async def password_page(request: Request, staff: CurrentConsoleStaff) -> HTMLResponse:
    return render(request, "password.html")


_CHANGE_ERRORS: dict[type[logins.PasswordChangeError], str] = {
    logins.WrongCurrentPassword: "password.wrong", logins.PasswordUnchanged: "password.same",
    logins.WeakPassword: "password.short"}


@router.post("/password", response_class=HTMLResponse)
async def change_password(request: Request, staff: CurrentConsoleStaff, now: Now,
                          current: TextField = "", new: TextField = "",
                          confirm: TextField = "") -> HTMLResponse:
    if new != confirm:
        return render(request, "password.html", status_code=400, error=("password.mismatch", {}))
    async with console_config(request).app.sessions() as db:
        fresh = await db.get(Staff, staff.id)
        assert fresh is not None
        try:
            await logins.change_password(db, fresh, current, new, now)
        except logins.PasswordChangeError as exc:
            key = _CHANGE_ERRORS.get(type(exc), "password.short")
            return render(request, "password.html", status_code=400, error=(key, {}))
        await db.commit()
    session = read_session(request)
    assert session is not None and session.staff_id is not None
    # This browser stays signed in: its session is reissued at the cut-off instant.
    write_session(request, ConsoleSession.started("in", session.staff_id, now))
    return render(request, "password.html", done=True)


@router.post("/sign-out-everywhere")
async def sign_out_everywhere(request: Request, staff: CurrentConsoleStaff,
                              now: Now) -> RedirectResponse:
    async with console_config(request).app.sessions() as db:
        fresh = await db.get(Staff, staff.id)
        assert fresh is not None
        await logins.sign_out_everywhere(db, fresh, now, actor=staff.username)
        await db.commit()
    write_session(request, ConsoleSession.anonymous())
    return RedirectResponse(login_url(reason="login.signed_out"), status_code=303)
