"""No one Twilio request holds up the rest: a request the database refuses (not an outage)
goes straight to spool/bad instead of waiting in line, and on SQLite a request waits at
most SQLITE_LOCK_WAIT_SECONDS for the inbound write before it, then is spooled (in the
order the customer wrote) rather than queueing past Twilio's 15 s timeout."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
import sqlalchemy as sa

from bot.bootstrap import App
from bot.service.inbound.processor import SQLITE_LOCK_WAIT_SECONDS
from bot.web.webhooks import replay_spooled
from tests.conftest import PG_URL
from tests.integration.inbound.conftest import SERVICE_PHONE, Rig
from tests.integration.inbound.test_spool import EMPTY, Outage, outage  # noqa: F401
from tests.integration.inbound.test_status_callbacks import status_form


async def refuse_early_statuses(app: App) -> None:
    """The database refuses to keep any early status, as it would a value it cannot store:
    a constraint error (not an outage), which repeating cannot get past."""
    async with app.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(sa.text(
                "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "RAISE EXCEPTION 'refused' USING ERRCODE = 'check_violation'; END $$"))
            await conn.execute(sa.text("CREATE TRIGGER refuse BEFORE INSERT ON earlystatus "
                                       "FOR EACH ROW EXECUTE FUNCTION refuse()"))
        else:
            await conn.execute(sa.text("CREATE TRIGGER refuse BEFORE INSERT ON earlystatus "
                                       "BEGIN SELECT RAISE(ABORT, 'refused'); END"))


async def test_a_refused_request_goes_to_bad_at_once_and_holds_up_no_sms(
        outage: Outage) -> None:  # noqa: F811
    """It used to wait in the spool until the next replay, and every SMS meanwhile was
    diverted behind it (no TwiML answer, stored only at the replay)."""
    rig = outage.rig
    await refuse_early_statuses(rig.app)
    response = await rig.signed("/webhooks/twilio/status?m=msg-x", status_form("delivered"))
    assert response.status_code == 200  # Twilio never repeats it: kept for a person
    assert outage.files() == []
    assert len(list((outage.spool / "bad").glob("*.json"))) == 1
    assert SERVICE_PHONE in await rig.answer("帮助")  # answered at once, not spooled
    assert len(await rig.inbound()) == 1
    body = (await rig.client.get("/metrics")).text
    assert 'outreach_webhook_requests_total{route="twilio_status",result="set_aside"} 1' in body
    assert "outreach_spooled_webhooks 0" in body.splitlines()


async def timed_sms(rig: Rig, text: str) -> tuple[float, httpx.Response]:
    started = time.monotonic()
    response = await rig.sms(text)
    return time.monotonic() - started, response


@pytest.mark.skipif(bool(PG_URL), reason="the in-process writer lock is SQLite's")
@pytest.mark.parametrize("outage", [4000], indirect=True)
async def test_sqlite_requests_do_not_queue_behind_a_slow_write(
        outage: Outage) -> None:  # noqa: F811
    """Another connection holds the file, so the first write waits out the busy timeout
    (4 s here, 10 s in use). The two behind it used to wait for it and then for their own
    turn (8 s, 12 s: past Twilio's 15 s with the real timeout); now they are spooled."""
    rig = outage.rig
    outage.db.down()
    sent = []
    for text in ("TD", "订阅", "收到"):  # opt out, opt back in: the order matters
        sent.append(asyncio.create_task(timed_sms(rig, text)))
        await asyncio.sleep(0.1)
    (first, _), *behind = await asyncio.gather(*sent)
    assert first >= 3.5
    assert all(elapsed < SQLITE_LOCK_WAIT_SECONDS + 1 for elapsed, _ in behind), behind
    assert all(response.text == EMPTY for _, response in behind)
    outage.db.up()
    assert len(outage.files()) == 3 and await rig.inbound() == []
    assert await replay_spooled(outage.ctx) == 3
    customer = await rig.customer("C1")  # replayed in the order written, not spooled
    assert customer.opted_out_at is None and customer.marketing_consent is True
