"""A console served over ASGI with staff of every kind and a clock the tests move."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from bot.bootstrap import App, open_app
from bot.db.models import Branch
from bot.service.admin.staff import add_staff
from bot.settings import Settings
from bot.web.app import create_app

PASSWORD = "correct-horse-1"
START = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
STAFF = {"wang": ("agent", "SH01"), "li": ("compliance", None), "boss": ("admin", None),
         "xs": ("sales", "SH01"), "bot": ("system", None)}


class Clock:
    """The console's clock: `advance(minutes=31)` instead of sleeping."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Console:
    app: App
    web: FastAPI
    clock: Clock
    client: httpx.AsyncClient
    stack: AsyncExitStack = field(repr=False)

    async def browser(self) -> httpx.AsyncClient:
        """Another browser (its own cookies) on the same server."""
        return await self.stack.enter_async_context(httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.web), base_url="http://test"))


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found[1]


async def sign_in(client: httpx.AsyncClient, username: str, password: str = PASSWORD,
                  **extra: str) -> httpx.Response:
    """The login form as a browser fills it in (GET for the token, then POST)."""
    token = csrf((await client.get("/console/login")).text)
    return await client.post("/console/login", data={
        "csrf_token": token, "username": username, "password": password, **extra})


async def signed_in_as(client: httpx.AsyncClient) -> str | None:
    """Whom the home page greets, or None when it sends us to the login page."""
    home = await client.get("/console/")
    if home.status_code == 303:
        assert home.headers["location"].startswith("/console/login")
        return None
    assert home.status_code == 200
    found = re.search(r'class="signed-in">[^：:]*[：:]\s*(\S+?)[（(]', home.text)
    assert found, home.text
    return found[1]


OpenConsole = Callable[..., Awaitable[Console]]


@pytest.fixture
async def open_console(settings: Settings, app: App) -> AsyncIterator[OpenConsole]:
    """`await open_console(**settings_overrides)`: staff created once, a server per call."""
    async with app.sessions() as s:
        s.add(Branch(code="SH01", name="上海浦东南路营业部"))
        await s.flush()
        for username, (role, branch) in STAFF.items():
            await add_staff(s, username, role, branch, role == "sales",
                            None if role == "system" else PASSWORD, actor="test")
        await s.commit()
    async with AsyncExitStack() as stack:

        async def opener(**overrides: object) -> Console:
            opened = app if not overrides else await stack.enter_async_context(
                open_app(settings.model_copy(update=overrides)))
            web = create_app(opened)
            clock = Clock()
            if hasattr(web.state, "console"):
                web.state.console.clock = clock
            client = await stack.enter_async_context(httpx.AsyncClient(
                transport=httpx.ASGITransport(app=web), base_url="http://test"))
            return Console(opened, web, clock, client, stack)

        yield opener


@pytest.fixture
async def console(open_console: OpenConsole) -> Console:
    return await open_console()
