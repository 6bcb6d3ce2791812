"""The staff console at /console/: server-rendered pages (Jinja2, zh-CN first, English by
`?lang=en`), signed-cookie sessions, CSRF on every POST, assets from /console/static/.

Building blocks for page authors (see `deps` for an example page):
- `router`: add pages with `@router.get("/path")`; it is mounted under /console and checks
  the CSRF token of every POST, PUT, PATCH and DELETE before the page runs.
- `CurrentConsoleStaff` (deps): the signed-in `Staff`; not signed in → login page.
- `render(request, "page.html", **context)` (deps): a template extending `base.html`, with
  `t()`, `lang`, `staff` and `csrf_field()`; strings go in `i18n.STRINGS`.
- `Now` (deps): the console clock, injectable through `app.state.console.clock`.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from bot.bootstrap import App, StartupError
from bot.service.admin.logins import LoginPolicy
from bot.web.console import login, pages, work
from bot.web.console.deps import (
    ConsoleConfig,
    CurrentConsoleStaff,
    Now,
    SignInRequired,
    csrf_protect,
    login_url,
    render,
    write_session,
)
from bot.web.console.session import ConsoleSession, CookieWriter, SessionCodec

__all__ = ["CookieWriter", "CurrentConsoleStaff", "Now", "install", "render", "router"]

router = APIRouter(prefix="/console", dependencies=[Depends(csrf_protect)],
                   include_in_schema=False)
router.include_router(login.router)
router.include_router(pages.router)
router.include_router(work.router)


async def signed_out(request: Request, exc: Exception) -> RedirectResponse:
    """SignInRequired → the login page (coming back here afterwards, for GET pages); a stale
    session is replaced so its cookie is not tried again."""
    reason = exc.reason if isinstance(exc, SignInRequired) else None
    if reason:
        write_session(request, ConsoleSession.anonymous())
    back = request.url.path if request.method == "GET" else None
    return RedirectResponse(login_url(back, reason), status_code=303)


def install(web: FastAPI, app: App) -> None:
    """Serve the console from `web`; refuses to start without OUTREACH_SECRET_KEY, which signs
    its sessions (the same key in every process keeps sessions valid across them)."""
    settings = app.settings
    if not settings.secret_key:
        raise StartupError("OUTREACH_SECRET_KEY is required to serve the console (sessions are "
                           "signed with it); set it, or leave console out of OUTREACH_SERVE")
    codec = SessionCodec(settings.secret_key, secure=settings.console_base.startswith("https://"))
    web.state.console = ConsoleConfig(app, codec, LoginPolicy.from_settings(settings),
                                      settings.session_idle_minutes)
    web.include_router(router)
    web.mount("/console/static", StaticFiles(directory=Path(__file__).parent / "static"),
              name="console-static")
    web.add_exception_handler(SignInRequired, signed_out)
