"""/api/v1 with bearer tokens: who may see and work which callbacks."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from bot.bootstrap import App
from bot.service.admin.staff import issue_token, revoke_token
from bot.web.app import create_app
from tests.integration.queue.test_queue import setup


@pytest.fixture
async def api(app: App) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    await setup(app, ("A", "SH01", "P2", 1), ("B", "GZ01", "P1", 1))
    tokens = {}
    async with app.sessions() as s:
        for user in ("agent_sh", "hq", "sales"):
            tokens[user] = (await issue_token(s, user, actor="test"))[1]
        await s.commit()
    transport = httpx.ASGITransport(app=create_app(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client, tokens


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_tokens_are_required_and_checked(api: tuple[httpx.AsyncClient, dict[str, str]],
                                               app: App) -> None:
    client, tokens = api
    assert (await client.get("/api/v1/callbacks")).status_code == 401
    assert (await client.get("/api/v1/callbacks", headers=bearer("ob_nope"))).status_code == 401
    async with app.sessions() as s:
        token_id = tokens["hq"].split("_")[1]
        await revoke_token(s, "hq", token_id, actor="test")
        await s.commit()
    assert (await client.get("/api/v1/callbacks", headers=bearer(tokens["hq"]))).status_code == 401


async def test_agent_sees_and_works_own_branch(api: tuple[httpx.AsyncClient, dict[str, str]]) -> None:
    client, tokens = api
    agent = bearer(tokens["agent_sh"])
    listed = (await client.get("/api/v1/callbacks", headers=agent)).json()
    assert [c["customer_id"] for c in listed] == ["A"]
    assert "–" in listed[0]["call_window"]  # the call script's next good time to call
    assert (await client.get("/api/v1/callbacks?branch=GZ01", headers=agent)).status_code == 403
    claimed = await client.post("/api/v1/callbacks/claim-next", headers=agent)
    callback_id = claimed.json()["callback_id"]
    assert (await client.post("/api/v1/callbacks/claim-next", headers=agent)).status_code == 204
    bad = await client.post(f"/api/v1/callbacks/{callback_id}/outcome", headers=agent,
                            json={"outcome": "resolved"})
    assert bad.status_code == 422 and "recording" in bad.json()["detail"]
    done = await client.post(f"/api/v1/callbacks/{callback_id}/outcome", headers=agent,
                             json={"outcome": "resolved", "recording_ref": "REC-9",
                                   "identity": "customer", "dialled": "13812345678"})
    assert done.json() == {"callback_id": callback_id, "status": "done"}
    timeline = (await client.get("/api/v1/customers/A", headers=agent)).json()["timeline"]
    assert "callback.outcome" in [t["type"] for t in timeline]
    assert (await client.get("/api/v1/customers/B", headers=agent)).status_code == 403


async def test_sales_staff_are_refused(api: tuple[httpx.AsyncClient, dict[str, str]]) -> None:
    client, tokens = api
    sales = bearer(tokens["sales"])
    assert (await client.get("/api/v1/callbacks", headers=sales)).status_code == 403
    assert (await client.post("/api/v1/callbacks/claim-next", headers=sales)).status_code == 403


async def test_release_by_someone_else_is_refused(api: tuple[httpx.AsyncClient, dict[str, str]]) -> None:
    client, tokens = api
    callback_id = (await client.post("/api/v1/callbacks/claim-next",
                                     headers=bearer(tokens["hq"]))).json()["callback_id"]
    other = await client.post(f"/api/v1/callbacks/{callback_id}/release",
                              headers=bearer(tokens["agent_sh"]))
    assert other.status_code == 409
    mine = await client.post(f"/api/v1/callbacks/{callback_id}/release", headers=bearer(tokens["hq"]))
    assert mine.status_code == 204
