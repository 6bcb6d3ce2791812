"""The net under every route: text the database refuses (a NUL on PostgreSQL, a lone
surrogate anywhere) that a route forgot to check is a 422, while any other database error
stays a 500. A route added here stands for such a forgetful route; the errors are real."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import Body, FastAPI

from bot.bootstrap import App
from bot.db.models import Customer
from bot.web.app import create_app
from tests.conftest import PG_URL


@pytest.fixture
async def client(app: App) -> AsyncIterator[httpx.AsyncClient]:
    web: FastAPI = create_app(app)

    @web.post("/forgetful")
    async def forgetful(payload: Annotated[Any, Body()]) -> dict[str, str]:
        async with app.sessions() as s:
            await s.get(Customer, payload["id"])  # Any: nothing checked the text
        return {"ok": "yes"}

    @web.get("/broken")
    async def broken() -> dict[str, str]:
        async with app.sessions() as s:
            await s.execute(sa.text("SELECT * FROM no_such_table"))
        return {"ok": "no"}

    transport = httpx.ASGITransport(app=web, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_a_lone_surrogate_reaching_the_database_is_422(client: httpx.AsyncClient) -> None:
    headers = {"Content-Type": "application/json"}
    assert (await client.post("/forgetful", content=b'{"id": "C1"}', headers=headers)
            ).status_code == 200
    response = await client.post("/forgetful", content=b'{"id": "C\\ud800"}', headers=headers)
    assert response.status_code == 422
    assert "lone surrogate" in response.json()["detail"]


@pytest.mark.skipif(not PG_URL, reason="a NUL in text fails only on PostgreSQL")
async def test_a_nul_reaching_postgresql_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/forgetful", content=b'{"id": "C\\u0000"}',
                                 headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert "NUL" in response.json()["detail"]


async def test_other_database_errors_stay_500(client: httpx.AsyncClient) -> None:
    assert (await client.get("/broken")).status_code == 500
