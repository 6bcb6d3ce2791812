"""Alerts and answers go through the outbox: stored with the reply, sent once, retried, moved
to the manager's next channel, and never lost (issue: reliability, part 5)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from bot.bootstrap import build_inbound
from bot.db.models import Alert, Event, Message, utcnow
from bot.service.admin import pause as pause_flags
from bot.service.dispatch import alerts, circuit
from bot.service.dispatch.reconcile import reconcile_unknown
from channels.base import InboundMessage
from tests.integration.dispatch.conftest import DAY, Rig
from tests.integration.planning.helpers import at, seed

CUSTOMER = "+85291234567"
MANAGER_PHONE, MANAGER_EMAIL, HQ = "+85290000001", "boss@example.com", "hq@example.com"
WITH_HQ = {"hq_alert_email": HQ}


async def customer_and_manager(rig: Rig, **manager: Any) -> None:
    fields = {"manager_phone": MANAGER_PHONE, "manager_email": MANAGER_EMAIL, **manager}
    await seed(rig.app, {"phone": CUSTOMER, "opened_on": date(2026, 3, 2)}, **fields)


def denial(n: int = 1, when: datetime | None = None) -> InboundMessage:
    return InboundMessage(channel="sms", provider_id=f"SMin{n:030d}", from_address=CUSTOMER,
                          to_address="+15005550006", text="我没有开过户，不是我本人",
                          received_at=when or at(DAY, 23, 0))


async def outbox(rig: Rig) -> list[Message]:
    async with rig.app.sessions() as s:
        return list((await s.exec(select(Message).where(col(Message.purpose).is_not(None))
                                  .order_by(col(Message.created_at)))).all())


async def the_alert(rig: Rig) -> Alert:
    async with rig.app.sessions() as s:
        return (await s.exec(select(Alert))).one()


def mails_to(rig: Rig, address: str) -> list[Any]:
    return [m for m in rig.smtp.mails if address in m.rcpt_tos]


@pytest.mark.parametrize("rig", [WITH_HQ], indirect=True)
async def test_a_p0_alert_reaches_the_manager_and_head_office_at_night(rig: Rig) -> None:
    """23:00, outside every send window: the manager's SMS and head office's email go at once."""
    await customer_and_manager(rig)
    processor = build_inbound(rig.app, rig.channels)
    handled = await processor.handle(denial())
    assert len(handled.outbox) == 2
    await processor.deliver(handled)
    assert [m["to"] for m in rig.twilio.messages] == [MANAGER_PHONE]
    assert "P0" in rig.twilio.messages[0]["body"]
    assert len(mails_to(rig, HQ)) == 1 and mails_to(rig, MANAGER_EMAIL) == []
    assert (await the_alert(rig)).status == "delivered"
    assert sorted(m.status for m in await outbox(rig)) == ["queued", "sent"]


@pytest.mark.parametrize("rig", [WITH_HQ], indirect=True)
async def test_an_alert_is_not_lost_when_the_process_dies_before_sending(rig: Rig) -> None:
    """Stored with the reply, in one transaction: the next dispatcher tick sends it, once."""
    await customer_and_manager(rig)
    await build_inbound(rig.app, rig.channels).handle(denial())  # then the process died
    assert rig.twilio.messages == [] and rig.smtp.mails == []
    rig.clock.now = at(DAY, 23, 1)
    stats = await rig.tick()
    assert stats.steps.get("outbox_sent") == 2
    assert [m["to"] for m in rig.twilio.messages] == [MANAGER_PHONE]
    assert len(mails_to(rig, HQ)) == 1
    await rig.tick()
    assert len(rig.twilio.messages) == 1 and len(rig.smtp.mails) == 1  # never twice


@pytest.mark.parametrize("how", ["paused", "degraded"])
async def test_a_blocked_sms_moves_the_alert_to_the_managers_email(rig: Rig, how: str) -> None:
    await customer_and_manager(rig)
    async with rig.app.sessions() as s:
        if how == "paused":
            await pause_flags.pause(s, None, "sms", "cli")
        else:
            conn = await s.connection()
            for _ in range(rig.app.settings.circuit_failures):
                await circuit.record(conn, "sms", False, at(DAY, 22), 10, 3600)
        await s.commit()
    processor = build_inbound(rig.app, rig.channels)
    await processor.deliver(await processor.handle(denial()))
    assert rig.twilio.messages == []
    assert len(mails_to(rig, MANAGER_EMAIL)) == 1
    assert (await the_alert(rig)).status == "delivered"
    failed = [m for m in await outbox(rig) if m.status == "failed"]
    assert [(m.channel, m.error_code) for m in failed] == [("sms", how)]


@pytest.mark.parametrize("rig", [{"send_max_attempts": 2}], indirect=True)
async def test_a_provider_outage_retries_the_alert_then_moves_on(rig: Rig) -> None:
    """Twilio is down: the SMS is retried with backoff, then the manager's email takes it."""
    await customer_and_manager(rig)
    rig.twilio.fail_next(5, 503)
    processor = build_inbound(rig.app, rig.channels)
    await processor.deliver(await processor.handle(denial()))
    (sms,) = await outbox(rig)
    assert (sms.status, sms.attempts) == ("retry", 1) and sms.next_attempt_at is not None
    rig.clock.now = sms.next_attempt_at
    await rig.tick()  # the second attempt fails too: that was the last
    await rig.tick()  # the email queued after it goes
    assert len(mails_to(rig, MANAGER_EMAIL)) == 1
    assert (await the_alert(rig)).status == "delivered"


@pytest.mark.parametrize("rig", [WITH_HQ], indirect=True)
async def test_an_alert_nobody_at_the_branch_gets_waits_until_acknowledged(rig: Rig) -> None:
    """The manager's only number is a landline: undeliverable. Head office gets its copy and
    a second mail saying the manager was not reached; the console lists it until someone
    acknowledges it."""
    await customer_and_manager(rig, manager_email=None)
    rig.twilio.landlines.add(MANAGER_PHONE)
    processor = build_inbound(rig.app, rig.channels)
    await processor.deliver(await processor.handle(denial()))
    assert (await the_alert(rig)).status == "undeliverable"
    await rig.tick()  # the "not reached" copy queued by the failure
    subjects = sorted(m.message["Subject"] for m in mails_to(rig, HQ))
    assert len(subjects) == 2 and any(alerts.UNREACHED_PREFIX in s for s in subjects)
    async with rig.app.sessions() as s:
        assert [a.id for a in await alerts.waiting(s, "SH01")] == [1]
        assert await alerts.waiting(s, "HK01") == []
        assert not await alerts.acknowledge(s, 1, "wang", "HK01")  # another branch's
        assert await alerts.acknowledge(s, 1, "wang", "SH01")
        await s.commit()
        assert await alerts.waiting(s, None) == []
        events = [e.type for e in (await s.exec(select(Event))).all()]
    assert "alert.undeliverable" in events and "alert.acknowledged" in events


async def test_an_answer_cut_off_goes_again(rig: Rig) -> None:
    """An opt-out confirmation by email whose send was cut off is at least once: after the
    grace it goes again (SMTP cannot say whether it arrived)."""
    await seed(rig.app, {"phone": CUSTOMER, "email": "zhang@example.com"})
    processor = build_inbound(rig.app, rig.channels)
    handled = await processor.handle(InboundMessage(
        channel="email", provider_id="<r1@example.com>", from_address="zhang@example.com",
        to_address="reply@replies.localhost", text="TD", subject="退订",
        received_at=at(DAY, 10)))
    (answer,) = await outbox(rig)
    async with rig.app.sessions() as s:  # the process died as the request left
        row = await s.get(Message, answer.id)
        assert row is not None
        row.status = "unknown"
        s.add(row)
        await s.commit()
    assert handled.outbox == [answer.id]
    later = utcnow() + timedelta(minutes=11)  # past RECONCILE_GRACE_MINUTES
    assert await reconcile_unknown(rig.app, rig.channels, now=later) == 1
    await rig.tick()
    assert len(mails_to(rig, "zhang@example.com")) == 1
    (answer,) = await outbox(rig)
    assert answer.status == "sent"
