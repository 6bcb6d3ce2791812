"""Unsubscribe links (RFC 8058), /metrics and /healthz."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.db.models import Bundle, Callback, ChannelState, ConsentChange, Event, PauseFlag
from bot.service import tokens
from bot.web.metrics import observe_send_latency
from tests.integration.inbound.conftest import BRANCH, Rig, sent_bundle


async def unsubscribe_token(rig: Rig, *, expired: bool = False) -> str:
    now = datetime.now(UTC) - (timedelta(days=100) if expired else timedelta(0))
    async with rig.app.sessions() as s:
        token = await tokens.issue(s, "unsubscribe", "C1", ttl=timedelta(days=90), now=now)
        await s.commit()
    return token


async def test_get_shows_a_bilingual_page_and_changes_nothing(rig: Rig) -> None:
    token = await unsubscribe_token(rig)
    events_before = await rig.count(Event)
    response = await rig.client.get(f"/u/{token}")
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    page = response.text
    assert page.index("退订") < page.index("Unsubscribe") and BRANCH in page
    assert 'name="List-Unsubscribe" value="One-Click"' in page
    assert "张" not in page  # the page names no customer
    assert (await rig.customer("C1")).opted_out_at is None
    assert await rig.count(Event) == events_before


async def test_one_click_post_withdraws_consent_once(rig: Rig) -> None:
    token = await unsubscribe_token(rig)
    response = await rig.client.post(f"/u/{token}", content="List-Unsubscribe=One-Click",
                                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200 and "您已退订" in response.text
    customer = await rig.customer("C1")
    assert customer.opted_out_at is not None and customer.marketing_consent is False
    again = await rig.client.post(f"/u/{token}", data={"List-Unsubscribe": "One-Click"})
    assert again.status_code == 200
    [change] = await rig.rows(ConsentChange)
    assert (change.source, change.channel, change.marketing) == ("unsubscribe", "email", False)


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_unknown_or_expired_token_is_a_polite_404(rig: Rig, method: str) -> None:
    expired = await unsubscribe_token(rig, expired=True)
    for token in (expired, "nosuchtoken1"):
        response = await rig.client.request(method, f"/u/{token}")
        assert response.status_code == 404 and "链接无效" in response.text
    assert (await rig.customer("C1")).opted_out_at is None


async def test_metrics_report_messages_states_backlog_and_callbacks(rig: Rig) -> None:
    now = datetime.now(UTC)
    await sent_bundle(rig.app, "C1", "sms", "+85291234567", "SM1", status="delivered")
    async with rig.app.sessions() as s:
        s.add(Bundle(customer_id="C2", local_date=now.date(), due_at=now - timedelta(hours=1)))
        s.add(Callback(customer_id="C1", branch_code="SH01", priority="P0", reasons='["not_me"]',
                       sla_due_at=now - timedelta(minutes=5)))
        s.add(Callback(customer_id="C2", branch_code="SH01", priority="P2", reasons='["x"]',
                       sla_due_at=now + timedelta(days=1)))
        s.add(ChannelState(channel="email", state="degraded", failures=10))
        s.add(PauseFlag(scope="channel:telegram", channel="telegram"))
        await s.commit()
    observe_send_latency("sms", 0.2)
    await rig.sms("谢谢")
    response = await rig.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    assert 'outreach_messages{channel="sms",direction="out",status="delivered"} 1' in text
    assert 'outreach_messages{channel="sms",direction="in",status="received"} 1' in text
    assert 'outreach_channel_state{channel="email",state="degraded"} 1' in text
    assert 'outreach_channel_state{channel="telegram",state="paused"} 1' in text
    assert 'outreach_channel_state{channel="sms",state="ok"} 1' in text
    assert "outreach_due_backlog 1" in text
    assert 'outreach_callbacks{priority="P0",status="open"} 1' in text
    assert 'outreach_callbacks_sla_breached{priority="P0"} 1' in text
    assert 'outreach_callbacks_sla_breached{priority="P2"}' not in text
    assert 'outreach_send_latency_seconds_bucket{channel="sms",le="0.25"}' in text
    assert 'outreach_send_latency_seconds_bucket{channel="sms",le="+Inf"}' in text
    assert 'outreach_webhook_requests_total{route="twilio_sms",result="accepted"}' in text
    assert "# TYPE outreach_send_latency_seconds histogram" in text


@pytest.mark.parametrize("rig", [{"metrics_token": "scrape-s3cret"}], indirect=True)
async def test_metrics_token_when_set_is_required_as_a_bearer_token(rig: Rig) -> None:
    assert (await rig.client.get("/metrics")).status_code == 401
    wrong = await rig.client.get("/metrics", headers={"Authorization": "Bearer scrape-s3cre"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    basic = await rig.client.get("/metrics", auth=("prometheus", "scrape-s3cret"))
    assert basic.status_code == 401
    scraped = await rig.client.get("/metrics", headers={"Authorization": "Bearer scrape-s3cret"})
    assert scraped.status_code == 200 and "outreach_due_backlog" in scraped.text
    assert (await rig.client.get("/healthz")).status_code == 200  # health stays open


async def test_healthz_shows_degraded_paused_and_ok(rig: Rig) -> None:
    assert (await rig.client.get("/healthz")).json() == {
        "status": "ok", "db": "ok",
        "channels": {"sms": "ok", "email": "ok", "telegram": "ok"}}
    async with rig.app.sessions() as s:
        s.add(ChannelState(channel="sms", state="degraded", failures=10))
        s.add(PauseFlag(scope="channel:email", channel="email"))
        s.add(PauseFlag(scope="branch:SH01", branch_code="SH01"))  # one branch: still ok
        await s.commit()
    assert (await rig.client.get("/healthz")).json() == {
        "status": "degraded", "db": "ok",
        "channels": {"sms": "degraded", "email": "paused", "telegram": "ok"}}


@pytest.mark.parametrize("rig", [{"telegram_bot_token": None, "smtp_host": None}], indirect=True)
async def test_healthz_shows_log_mode(rig: Rig) -> None:
    body = (await rig.client.get("/healthz")).json()
    assert body["channels"] == {"sms": "ok", "email": "log", "telegram": "log"}
