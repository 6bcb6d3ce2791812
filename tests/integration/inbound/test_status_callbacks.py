"""Twilio status callbacks: forward only, kept when early, permanent failures go on."""

from __future__ import annotations

from bot.db.models import AddressStatus, Bundle, EarlyStatus, Message, Touch
from bot.service.dispatch.reports import apply_early_statuses
from tests.integration.inbound.conftest import ZHANG, Rig, sent_bundle

SID = "SM" + "c" * 32


def status_form(status: str, sid: str = SID, error: str | None = None) -> dict[str, str]:
    form = {"AccountSid": "AC" + "1" * 32, "MessageSid": sid, "SmsSid": sid,
            "MessageStatus": status, "SmsStatus": status, "To": ZHANG["phone"]}
    if error:
        form["ErrorCode"] = error
    return form


async def post_status(rig: Rig, status: str, *, m: str = "msg-1", sid: str = SID,
                      error: str | None = None) -> int:
    response = await rig.signed(f"/webhooks/twilio/status?m={m}", status_form(status, sid, error))
    assert response.headers["content-type"].startswith("application/xml")
    return response.status_code


async def message(rig: Rig, message_id: str = "msg-1") -> Message:
    async with rig.app.sessions() as s:
        found = await s.get(Message, message_id)
        assert found is not None
        return found


async def test_status_moves_forward_only(rig: Rig) -> None:
    await sent_bundle(rig.app, "C1", "sms", ZHANG["phone"], SID)
    assert await post_status(rig, "sent") == 200
    assert (await message(rig)).status == "sent"
    assert await post_status(rig, "delivered") == 200
    assert await post_status(rig, "sent") == 200  # late and out of order: ignored
    assert await post_status(rig, "queued") == 200
    assert (await message(rig)).status == "delivered"
    moves = [e.summary for e in await rig.events("message.status")]
    assert moves == ["sms message msg-1: queued → sent", "sms message msg-1: sent → delivered"]


async def test_bad_signature_on_status_is_403_and_changes_nothing(rig: Rig) -> None:
    await sent_bundle(rig.app, "C1", "sms", ZHANG["phone"], SID)
    response = await rig.signed("/webhooks/twilio/status?m=msg-1", status_form("delivered"),
                                signature="AAAA")
    assert response.status_code == 403
    # signed for another message id: the query is part of what Twilio signs
    from tests.peers.twilio_api import twilio_signature

    other = twilio_signature(rig.twilio.auth_token,
                             "https://bot.example.com/webhooks/twilio/status?m=msg-2",
                             status_form("delivered"))
    response = await rig.signed("/webhooks/twilio/status?m=msg-1", status_form("delivered"),
                                signature=other)
    assert response.status_code == 403
    assert (await message(rig)).status == "queued"


async def test_early_status_is_kept_and_applied_after_the_send_is_recorded(rig: Rig) -> None:
    # The dispatcher recorded `sending` but not yet the provider id when Twilio calls back.
    await sent_bundle(rig.app, "C1", "sms", ZHANG["phone"], None, status="sending")
    assert await post_status(rig, "sent") == 200
    assert await post_status(rig, "delivered") == 200
    assert await post_status(rig, "sent") == 200  # never goes back, even while kept
    [kept] = await rig.rows(EarlyStatus)
    assert (kept.provider_id, kept.status, kept.message_id) == (SID, "delivered", "msg-1")
    assert (await message(rig)).status == "sending"
    async with rig.app.sessions() as s:  # what the dispatcher does after the send returns
        row = await s.get(Message, "msg-1")
        assert row is not None
        row.provider_id, row.status = SID, "queued"
        s.add(row)
        await s.flush()
        applied = await apply_early_statuses(s, row)
        await s.commit()
    assert [a.status for a in applied] == ["delivered"]
    assert (await message(rig)).status == "delivered"
    assert await rig.rows(EarlyStatus) == []


async def test_status_for_an_unknown_sid_is_kept_without_message(rig: Rig) -> None:
    assert await post_status(rig, "delivered", m="nope", sid="SM" + "d" * 32) == 200
    [kept] = await rig.rows(EarlyStatus)
    assert kept.message_id == "nope"


async def test_permanent_failure_marks_address_and_requeues_the_bundle(rig: Rig) -> None:
    bundle_id, _ = await sent_bundle(rig.app, "C1", "sms", ZHANG["phone"], SID)
    assert await post_status(rig, "sent") == 200
    assert await post_status(rig, "undelivered", error="30005") == 200
    failed = await message(rig)
    assert (failed.status, failed.error_code) == ("failed", "30005")
    [address] = await rig.rows(AddressStatus)
    assert (address.channel, address.address, address.status) == ("sms", ZHANG["phone"],
                                                                   "unusable")
    [bundle] = await rig.rows(Bundle, Bundle.id == bundle_id)
    assert bundle.status == "planned" and bundle.next_attempt_at is None  # due again at once
    assert [t.status for t in await rig.rows(Touch)] == ["planned"]
    assert len(await rig.events("bundle.requeued")) == 1
    [unusable] = await rig.events("address.unusable")
    assert "91234567" not in (unusable.summary + (unusable.payload or ""))
    assert await post_status(rig, "delivered") == 200  # a final status never moves
    assert (await message(rig)).status == "failed"


async def test_failure_without_permanent_code_does_not_fail_over(rig: Rig) -> None:
    bundle_id, _ = await sent_bundle(rig.app, "C1", "sms", ZHANG["phone"], SID)
    assert await post_status(rig, "undelivered", error="30008") == 200
    row = await message(rig)
    assert (row.status, row.error_code) == ("undelivered", "30008")
    assert await rig.rows(AddressStatus) == []
    [bundle] = await rig.rows(Bundle, Bundle.id == bundle_id)
    assert bundle.status == "sent"


async def test_early_permanent_failure_fails_over_when_applied(rig: Rig) -> None:
    bundle_id, _ = await sent_bundle(rig.app, "C1", "sms", ZHANG["phone"], None, status="sending")
    assert await post_status(rig, "failed", error="30006") == 200
    async with rig.app.sessions() as s:
        row = await s.get(Message, "msg-1")
        assert row is not None
        row.provider_id, row.status = SID, "queued"
        s.add(row)
        await s.flush()
        await apply_early_statuses(s, row)
        await s.commit()
    assert (await message(rig)).status == "failed"
    [bundle] = await rig.rows(Bundle, Bundle.id == bundle_id)
    assert bundle.status == "planned"
    assert [a.status for a in await rig.rows(AddressStatus)] == ["unusable"]


async def test_malformed_status_is_400(rig: Rig) -> None:
    response = await rig.signed("/webhooks/twilio/status?m=msg-1",
                                {"MessageSid": SID, "MessageStatus": "bogus"})
    assert response.status_code == 400
