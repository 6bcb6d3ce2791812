"""What a web process serves (OUTREACH_SERVE), the docs behind the console, the secret key."""

from __future__ import annotations

import pytest

from bot.bootstrap import StartupError
from bot.settings import Settings
from bot.web.app import create_app
from tests.integration.console.conftest import OpenConsole, sign_in

TELEGRAM = {"telegram_bot_token": "123:abc", "telegram_webhook_secret": "s3cret"}


async def test_an_internet_facing_process_serves_webhooks_only(open_console: OpenConsole) -> None:
    console = await open_console(serve="webhooks", **TELEGRAM)
    client = console.client
    for path in ("/console/", "/console/login", "/console/static/console.css",
                 "/api/v1/callbacks", "/docs", "/openapi.json"):
        assert (await client.get(path)).status_code == 404, path
    assert (await client.post("/webhooks/telegram", json={})).status_code == 403  # served
    assert (await client.get("/healthz")).status_code == 200


async def test_an_intranet_process_serves_no_webhooks(open_console: OpenConsole) -> None:
    console = await open_console(serve="api,console", **TELEGRAM)
    client = console.client
    assert (await client.post("/webhooks/telegram", json={})).status_code == 404
    assert (await client.get("/u/abcdefabcdef")).status_code == 404
    assert (await client.get("/console/login")).status_code == 200
    assert (await client.get("/api/v1/callbacks")).status_code == 401  # bearer tokens, as ever


async def test_api_without_console_keeps_its_tokens(open_console: OpenConsole) -> None:
    console = await open_console(serve="webhooks,api")
    assert (await console.client.get("/console/login")).status_code == 404
    assert (await console.client.get("/api/v1/callbacks")).status_code == 401
    assert (await console.client.get("/docs")).status_code == 401


async def test_docs_need_a_console_session(open_console: OpenConsole) -> None:
    console = await open_console()
    docs = await console.client.get("/docs")
    assert docs.status_code == 303
    assert docs.headers["location"] == "/console/login?next=/docs"
    assert (await console.client.get("/openapi.json")).status_code == 303
    login = await sign_in(console.client, "wang", next="/docs")
    assert login.headers["location"] == "/docs"
    assert (await console.client.get("/docs")).status_code == 200
    schema = (await console.client.get("/openapi.json")).json()
    assert "/api/v1/callbacks" in schema["paths"]
    assert not any(p.startswith("/console") for p in schema["paths"])


async def test_docs_public_when_configured(open_console: OpenConsole) -> None:
    console = await open_console(docs_public=True)
    assert (await console.client.get("/docs")).status_code == 200
    assert "/api/v1/callbacks" in (await console.client.get("/openapi.json")).json()["paths"]


async def test_no_redirect_away_from_us_after_sign_in(open_console: OpenConsole) -> None:
    console = await open_console()
    answer = await sign_in(console.client, "wang", next="//evil.example/")
    assert answer.headers["location"] == "/console/"


async def test_the_console_does_not_start_without_a_secret_key(settings: Settings,
                                                                open_console: OpenConsole) -> None:
    console = await open_console()
    keyless = settings.model_copy(update={"secret_key": None})
    with pytest.raises(StartupError, match="OUTREACH_SECRET_KEY"):
        create_app(type(console.app)(keyless, console.app.engine, console.app.sessions))
    webhooks_only = settings.model_copy(update={"secret_key": None, "serve": "webhooks"})
    create_app(type(console.app)(webhooks_only, console.app.engine, console.app.sessions))
