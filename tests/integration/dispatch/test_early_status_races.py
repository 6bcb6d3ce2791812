"""Status reports that race the sender: kept early, then always applied."""
from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.bootstrap import App
from bot.db.models import AddressStatus, Bundle, EarlyStatus, Message, Touch
from bot.service.dispatch.reconcile import apply_stranded_early, reconcile_unknown
from bot.service.dispatch.record import apply_early_batch
from bot.service.dispatch.reports import handle_status
from channels.base import SentRecord
from channels.sms_twilio import status_from_twilio
from tests.conftest import PG_URL
from tests.integration.inbound.conftest import LEE, ZHANG, seed, sent_bundle


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL: concurrent transactions")
async def test_status_between_dispatcher_flush_and_commit(app: App) -> None:
    await seed(app, ZHANG, LEE)
    _, mid = await sent_bundle(app, "C1", "sms", ZHANG["phone"], None, status="sending")
    async with app.sessions() as d:  # the dispatcher's record_accepted transaction
        m = await d.get(Message, mid)
        assert m is not None
        m.provider_id, m.status = "SMrace", "queued"
        d.add(m)
        await d.flush()
        await apply_early_batch(d, [m])  # nothing kept yet
        # Twilio's "delivered" arrives now, before the dispatcher commits
        webhook = asyncio.create_task(handle_status(
            app.sessions, "sms", "SMrace", status_from_twilio("delivered"), our_id=mid))
        await asyncio.sleep(0.5)
        await d.commit()
    applied = await asyncio.wait_for(webhook, 10)
    async with app.sessions() as s:
        final = await s.get(Message, mid)
        early = (await s.exec(select(EarlyStatus))).all()
    assert applied.result == "moved"
    assert final is not None and final.status == "delivered"
    assert not early


async def test_sweep_applies_a_stranded_early_status(app: App) -> None:
    await seed(app, ZHANG, LEE)
    _, mid = await sent_bundle(app, "C1", "sms", ZHANG["phone"], "SMlate", status="queued")
    async with app.sessions() as s:  # kept early, and the sender recorded its id since
        s.add(EarlyStatus(channel="sms", provider_id="SMlate", status="delivered", message_id=mid))
        await s.commit()
    assert await apply_stranded_early(app) == 1
    async with app.sessions() as s:
        final = await s.get(Message, mid)
        early = (await s.exec(select(EarlyStatus))).all()
    assert final is not None and final.status == "delivered" and not early


class _Sms:
    async def list_sent(self, to: str, since: datetime) -> list[SentRecord]:
        return [SentRecord("SMabc", to, "您好", datetime.now(UTC),
                           status_from_twilio("undelivered", 30005))]


class _Channels:
    def adapter(self, channel: str, address: str) -> _Sms:
        return _Sms()


async def _all_unknown(app: App, bundle_id: int, mid: str, status: str) -> None:
    async with app.sessions() as s:
        m = await s.get(Message, mid)
        b = await s.get(Bundle, bundle_id)
        assert m is not None and b is not None
        m.status, b.status = status, status
        s.add(m)
        s.add(b)
        for t in (await s.exec(select(Touch))).all():
            t.status = status
            s.add(t)
        await s.commit()


@pytest.mark.parametrize("early", [True, False])
async def test_early_failure_then_unknown_goes_to_the_next_channel(app: App, early: bool) -> None:
    await seed(app, ZHANG, LEE)
    bundle_id, mid = await sent_bundle(app, "C1", "sms", ZHANG["phone"], None, status="sending")
    await _all_unknown(app, bundle_id, mid, "sending")
    if early:  # Twilio's final status arrives at ?m=<our id> while our send call is in flight
        applied = await handle_status(app.sessions, "sms", "SMabc",
                                      status_from_twilio("undelivered", "30005"), our_id=mid)
        assert applied.result == "early"
    await _all_unknown(app, bundle_id, mid, "unknown")  # the process died; marked at restart
    assert await reconcile_unknown(app, _Channels()) == 1  # type: ignore[arg-type]
    async with app.sessions() as s:
        m = await s.get(Message, mid)
        b = await s.get(Bundle, bundle_id)
        early_rows = (await s.exec(select(EarlyStatus))).all()
        addr = await s.get(AddressStatus, ("sms", ZHANG["phone"]))
        touches = (await s.exec(select(Touch))).all()
    assert m is not None and m.status == "failed" and m.provider_id == "SMabc"
    assert addr is not None and addr.status == "unusable"  # 30005: the number is unusable
    assert b is not None and b.status == "planned"  # next channel
    assert all(t.status == "planned" for t in touches)
    assert not early_rows
