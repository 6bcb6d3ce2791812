"""No one Twilio request holds up the rest: a request the database refuses (not an outage)
goes straight to spool/bad instead of waiting in line."""

from __future__ import annotations

import sqlalchemy as sa

from bot.bootstrap import App
from tests.integration.inbound.conftest import SERVICE_PHONE
from tests.integration.inbound.test_spool import Outage, outage  # noqa: F401
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
    answered = await rig.sms("帮助")
    assert SERVICE_PHONE in answered.text  # answered at once, not spooled
    assert len(await rig.inbound()) == 1
    body = (await rig.client.get("/metrics")).text
    assert 'outreach_webhook_requests_total{route="twilio_status",result="set_aside"} 1' in body
    assert "outreach_spooled_webhooks 0" in body.splitlines()
