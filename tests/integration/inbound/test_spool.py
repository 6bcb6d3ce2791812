"""While the database is down, Twilio's requests are kept in SPOOL_DIR and replayed once it
is back: answered 200, stored exactly once, acted on, confirmations sent."""

from __future__ import annotations

import asyncio
import stat
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

import bot.db.engine
from bot.bootstrap import build_channels, open_app
from bot.db.models import Callback, Message
from bot.service.inbound.spool import Spool, SpooledRequest
from bot.web.app import create_app
from bot.web.deps import WebContext
from bot.web.webhooks import replay_spool_forever, replay_spooled
from tests.integration.inbound.conftest import PUBLIC, ZHANG, Rig, peer_settings, seed, sent_bundle
from tests.integration.inbound.test_status_callbacks import SID, status_form
from tests.peers.db_outage import DatabaseOutage
from tests.peers.smtp_server import SmtpPeer
from tests.peers.telegram_api import TelegramPeer
from tests.peers.twilio_api import TwilioPeer

EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response />'


@dataclass
class Outage:
    rig: Rig
    ctx: WebContext
    db: DatabaseOutage
    spool: Path

    def files(self) -> list[Path]:
        return sorted(self.spool.glob("*.json"))


@pytest.fixture
async def outage(database_url: str, twilio_peer: TwilioPeer, telegram_peer: TelegramPeer,
                 smtp_peer: SmtpPeer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                 request: pytest.FixtureRequest) -> AsyncIterator[Outage]:
    # A webhook waits this long for SQLite's write lock before it counts as down (10 s in use;
    # a test may ask for another wait with indirect parametrization).
    monkeypatch.setattr(bot.db.engine, "SQLITE_BUSY_TIMEOUT_MS", getattr(request, "param", 200))
    db = DatabaseOutage(database_url)
    await db.start()
    spool = tmp_path / "spool"
    settings = peer_settings(db.url, twilio_peer, telegram_peer, smtp_peer, spool_dir=spool)
    try:
        async with open_app(settings) as app:
            await seed(app, ZHANG)
            channels = build_channels(settings)
            web = create_app(app, channels)
            transport = httpx.ASGITransport(app=web)
            async with httpx.AsyncClient(transport=transport, base_url=PUBLIC) as client:
                rig = Rig(app, channels, client, twilio_peer, telegram_peer, smtp_peer)
                yield Outage(rig, web.state.ctx, db, spool)
            await channels.close()
    finally:
        await db.stop()


async def test_sms_while_down_is_answered_kept_and_stored_once_after(outage: Outage) -> None:
    rig = outage.rig
    outage.db.down()
    response = await rig.sms("我要投诉，请尽快回电", sid="SM" + "a" * 32)
    assert response.status_code == 200 and response.text == EMPTY
    [kept] = outage.files()
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600  # a phone number and the customer's words
    assert await replay_spooled(outage.ctx) == 0  # still down: kept for the next round
    assert outage.files() == [kept]

    outage.db.up()
    assert await rig.inbound() == []  # nothing was stored while down
    assert await replay_spooled(outage.ctx) == 1
    [stored] = await rig.inbound()
    assert (stored.customer_id, stored.body, stored.provider_id) == (
        "C1", "我要投诉，请尽快回电", "SM" + "a" * 32)
    [callback] = await rig.rows(Callback)
    assert callback.customer_id == "C1" and callback.priority == "P1"  # acted on, not only kept
    assert outage.files() == []
    # Twilio retries nothing, but a replay cut short may repeat: still one row.
    assert (await rig.sms("我要投诉，请尽快回电", sid="SM" + "a" * 32)).status_code == 200
    assert len(await rig.inbound()) == 1 and len(await rig.rows(Callback)) == 1


async def test_opt_out_while_down_is_confirmed_by_the_api_after(outage: Outage) -> None:
    """No webhook waits for TwiML at replay time: the confirmation goes through Twilio's API."""
    rig = outage.rig
    outage.db.down()
    assert (await rig.sms("TD")).text == EMPTY
    outage.db.up()
    assert await replay_spooled(outage.ctx) == 1
    customer = await rig.customer("C1")
    assert customer.opted_out_at is not None and customer.marketing_consent is False
    [sent] = rig.twilio.messages
    assert sent["to"] == ZHANG["phone"] and "您已退订" in sent["body"]
    [answer] = await rig.rows(Message, Message.direction == "out")
    assert answer.status != "failed" and answer.provider_id == sent["sid"]


async def test_status_callback_while_down_is_applied_after(outage: Outage) -> None:
    rig = outage.rig
    await sent_bundle(rig.app, "C1", "sms", ZHANG["phone"], SID)
    outage.db.down()
    response = await rig.signed("/webhooks/twilio/status?m=msg-1", status_form("delivered"))
    assert response.status_code == 200
    assert len(outage.files()) == 1
    outage.db.up()
    assert await replay_spooled(outage.ctx) == 1
    async with rig.app.sessions() as s:
        message = await s.get(Message, "msg-1")
        assert message is not None and message.status == "delivered"


async def test_replay_keeps_arrival_order_and_sets_aside_a_damaged_file(outage: Outage) -> None:
    rig = outage.rig
    outage.db.down()
    for n, text in enumerate(["TD", "订阅"]):  # opt out, then back in: order matters
        assert (await rig.sms(text, sid=f"SM{n:032d}")).status_code == 200
    first = outage.files()[0]
    (outage.spool / (first.name[:-5] + "0.json")).write_text("{not json", encoding="utf-8")
    outage.db.up()
    assert await replay_spooled(outage.ctx) == 2
    customer = await rig.customer("C1")
    assert customer.opted_out_at is None and customer.marketing_consent is True
    assert outage.files() == [] and len(list((outage.spool / "bad").iterdir())) == 1


async def test_the_replay_loop_drains_the_spool_when_the_database_returns(
        outage: Outage) -> None:
    outage.db.down()
    await outage.rig.sms("请回电")
    loop = asyncio.create_task(replay_spool_forever(outage.ctx, every=0.05))
    try:
        await asyncio.sleep(0.5)
        assert len(outage.files()) == 1  # rounds while down change nothing
        outage.db.up()
        for _ in range(100):
            if not outage.files():
                break
            await asyncio.sleep(0.05)
        assert outage.files() == []
        assert len(await outage.rig.inbound()) == 1
    finally:
        loop.cancel()


async def test_metrics_count_what_waits_in_the_spool(outage: Outage) -> None:
    outage.db.down()
    await outage.rig.sms("请回电")
    outage.db.up()
    body = (await outage.rig.client.get("/metrics")).text
    assert "outreach_spooled_webhooks 1" in body.splitlines()
    assert 'outreach_webhook_requests_total{route="twilio_sms",result="spooled"}' in body


async def test_database_and_spool_both_failing_is_503(outage: Outage) -> None:
    """Only then does Twilio see an error (and log it in its console)."""
    outage.spool.write_text("a file where the directory should be")
    outage.db.down()
    response = await outage.rig.sms("请回电")
    assert response.status_code == 503


async def test_bad_signature_while_down_is_403_and_nothing_is_kept(outage: Outage) -> None:
    outage.db.down()
    assert (await outage.rig.sms("请回电", signature="AAAA")).status_code == 403
    assert outage.files() == []
    outage.db.up()
    assert await replay_spooled(outage.ctx) == 0 and await outage.rig.inbound() == []


async def test_a_replayed_reply_counts_its_deadlines_from_when_it_was_received(
        outage: Outage) -> None:
    """A callback asked for ten days ago (a spool that waited out a long outage) is already
    past its one-working-day SLA: the queue shows it breached, most urgent first."""
    received = datetime.now(UTC) - timedelta(days=10)
    form = {"AccountSid": outage.rig.twilio.account_sid, "Body": "请回电", "From": ZHANG["phone"],
            "To": "+15005550006", "MessageSid": "SM" + "b" * 32}
    Spool(outage.spool).put(SpooledRequest("twilio_sms", form, received))
    assert await replay_spooled(outage.ctx) == 1
    [callback] = await outage.rig.rows(Callback)
    assert callback.sla_due_at is not None
    assert received < callback.sla_due_at.replace(tzinfo=UTC) < received + timedelta(days=5)


async def test_a_live_reply_queues_behind_the_spooled_ones(outage: Outage) -> None:
    """TD during the outage, 订阅 just after it: handled in the order the customer wrote
    them, so the customer ends subscribed (not opted out by a late replay)."""
    rig = outage.rig
    outage.db.down()
    await rig.sms("TD")
    outage.db.up()
    response = await rig.sms("订阅")
    assert response.status_code == 200 and response.text == EMPTY
    assert len(outage.files()) == 2 and await rig.inbound() == []
    assert await replay_spooled(outage.ctx) == 2
    customer = await rig.customer("C1")
    assert customer.opted_out_at is None and customer.marketing_consent is True
    assert (await rig.sms("收到")).status_code == 200  # spool empty: handled at once
    assert len(await rig.inbound()) == 3 and outage.files() == []
