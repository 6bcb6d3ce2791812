"""Hostile HTTP input gets a 4xx (or is cleaned and logged), never a 5xx: NUL in URLs (PostgreSQL
refuses it in a query), lone surrogates in JSON (UTF-8 cannot encode them), absurd Telegram
dates, JSON nested 30,000 deep, Twilio ids that are no ids. Run on PostgreSQL too."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from bot.db.models import Callback, EarlyStatus, Message, Staff
from bot.service.admin.staff import issue_token
from tests.integration.inbound.conftest import SECRET, ZHANG, Rig
from tests.integration.inbound.test_status_callbacks import status_form

CHAT = int(ZHANG["telegram_chat_id"])
DEEP = b"[" * 30_000 + b"]" * 30_000  # 60,000 bytes: under MAX_BODY_BYTES in production


@pytest.fixture(autouse=True)
def _spool_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # SPOOL_DIR is ./spool: anything spooled stays in the test's dir


async def bearer(rig: Rig) -> dict[str, str]:
    async with rig.app.sessions() as s:
        s.add(Staff(username="hq", role="hq_agent"))
        await s.flush()
        token = (await issue_token(s, "hq", actor="test"))[1]
        await s.commit()
    return {"Authorization": f"Bearer {token}"}


async def raw_update(rig: Rig, body: bytes) -> Any:
    return await rig.client.post("/webhooks/telegram", content=body, headers={
        "X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"})


@pytest.mark.parametrize("path", ["/u/abc%00def", "/t/abc%00def"])
async def test_a_nul_in_a_customer_link_is_the_link_not_valid_page(rig: Rig, path: str) -> None:
    for method in ("GET", "POST") if path.startswith("/u/") else ("GET",):
        response = await rig.client.request(method, path)
        assert response.status_code == 404
        assert "链接" in response.text and "<html" in response.text


@pytest.mark.parametrize("rig", [{"max_body_bytes": 65536}], indirect=True)
async def test_the_api_answers_4xx_to_hostile_urls_and_bodies(rig: Rig) -> None:
    auth = await bearer(rig)
    client = rig.client
    assert (await client.get("/api/v1/customers/abc%00def", headers=auth)).status_code == 404
    listed = await client.get("/api/v1/callbacks?branch=HK01%00", headers=auth)
    assert listed.status_code == 422 and "branch" in listed.text
    assert (await client.get("/api/v1/callbacks?branch=SH01", headers=auth)).status_code == 200
    json_headers = {**auth, "Content-Type": "application/json"}
    # The 422 echoes the input: with a lone surrogate in it, it could not be written at all.
    bad = await client.post("/api/v1/callbacks/1/outcome", headers=json_headers,
                            content=b'{"notes": "\\ud800"}')
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "outcome"]
    stored = await client.post("/api/v1/callbacks/1/outcome", headers=json_headers,
                               content=b'{"outcome": "resolved", "notes": "ok \\udfff"}')
    assert stored.status_code == 422 and stored.json()["detail"][0]["loc"] == ["body", "notes"]
    nul = await client.post("/api/v1/callbacks/1/outcome", headers=json_headers,
                            content=b'{"outcome": "resolved", "notes": "ok \\u0000"}')
    assert nul.status_code == 422 and "NUL" in nul.text
    deep = await client.post("/api/v1/callbacks/1/outcome", headers=json_headers, content=DEEP)
    assert 400 <= deep.status_code < 500


@pytest.mark.parametrize("rig", [{"max_body_bytes": 65536}], indirect=True)
async def test_telegram_json_nested_30000_deep_is_400(rig: Rig) -> None:
    response = await raw_update(rig, DEEP)
    assert response.status_code == 400
    assert await rig.inbound() == []


async def test_a_lone_surrogate_in_telegram_text_is_stored_replaced_and_logged(
        rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    update = rig.telegram.message_update(CHAT, "TEXT")
    body = json.dumps(update).replace('"TEXT"', '"\\u6211\\u8981\\u6295\\u8bc9\\ud800"')
    response = await raw_update(rig, body.encode())
    assert response.status_code == 200
    [stored] = await rig.inbound()
    assert stored.body == "我要投诉\ufffd" and stored.customer_id == "C1"
    assert any("lone surrogates" in r.getMessage() for r in caplog.records)
    assert not any("我要投诉" in r.getMessage() for r in caplog.records)


async def test_a_telegram_date_in_year_3170843_counts_as_received_now(rig: Rig) -> None:
    """Deadlines count from when the customer wrote: an absurd date is taken as now."""
    update = rig.telegram.message_update(CHAT, "请回电")
    update["message"]["date"] = 99_999_999_999_999
    assert (await rig.update(update)).status_code == 200
    [stored] = await rig.inbound()
    assert stored.customer_id == "C1"
    [callback] = await rig.rows(Callback)
    assert callback.sla_due_at is not None
    due = callback.sla_due_at.replace(tzinfo=UTC)
    assert datetime.now(UTC) < due < datetime.now(UTC) + timedelta(days=5)


async def test_a_blocked_bot_update_with_a_chat_id_that_is_no_number_is_ignored(
        rig: Rig) -> None:
    update = rig.telegram.chat_member_update(CHAT, "member", "kicked")
    update["my_chat_member"]["chat"]["id"] = "555\u0000"
    assert (await rig.update(update)).status_code == 200
    assert (await rig.customer("C1")).telegram_chat_id == ZHANG["telegram_chat_id"]


@pytest.mark.parametrize(("sid", "m"), [
    ("SM\x00" + "c" * 31, "msg-1"), ("SM" + "c" * 1000, "msg-1"), ("SM" + "c" * 32, "msg\x00-1"),
], ids=["nul-sid", "long-sid", "nul-m"])
async def test_a_status_report_for_no_twilio_id_is_400_and_holds_up_no_sms(
        rig: Rig, sid: str, m: str, tmp_path: Path) -> None:
    """It used to fail in the database on PostgreSQL, wait in the spool, and divert every
    SMS after it into the spool (no TwiML answer) until the next replay."""
    response = await rig.signed(f"/webhooks/twilio/status?m={quote(m)}",
                                status_form("delivered", sid))
    assert response.status_code == 400
    assert await rig.rows(EarlyStatus) == []
    assert "021-61234567" in await rig.answer("帮助")  # the next SMS is answered as usual
    assert len(await rig.rows(Message, Message.direction == "in")) == 1
    assert not (tmp_path / "spool").exists()
