"""The dispatcher against real peers: send, retry, fail over, escalate, pause, reconcile."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlmodel import col, select

from bot.db.models import AddressStatus, Bundle, Callback, Customer, Message, Touch
from bot.service.admin.pause import pause, resume
from tests.integration.dispatch.conftest import Rig, planned


async def prepare_only(rig: Rig, dispatcher: object, bundle_id: int,
                       started: bool = True) -> tuple[str, object]:
    """Prepare the send; `started`: then mark it `sending`, as just before the provider call."""
    from bot.service.dispatch.lastlook import start_call
    from bot.service.dispatch.preload import preload

    async with rig.app.sessions() as s:
        pre = await preload(s, [bundle_id])
        result = await dispatcher.preparer.prepare(s, bundle_id, rig.clock.now, [], pre)  # type: ignore[attr-defined]
        await s.commit()
    if started and result[1] is not None:
        assert await start_call(rig.app, result[1], rig.clock.now, False) is None  # type: ignore[arg-type]
    return result


async def rows(rig: Rig, model: type) -> list:
    async with rig.app.sessions() as s:
        return list((await s.exec(select(model).order_by(col(model.created_at)))).all())


async def test_sms_happy_path(rig: Rig) -> None:
    await planned(rig, {"phone": "+85291234567"})
    stats = await rig.tick()
    assert stats.steps == {"sent": 1}
    (sent,) = rig.twilio.messages
    assert sent["to"] == "+85291234567" and sent["body"].startswith("【华东证券】")
    (message,) = await rows(rig, Message)
    assert (message.status, message.provider_id, message.channel) == ("queued", sent["sid"], "sms")
    assert message.segments and message.segments >= 1
    assert rig.twilio.callback_urls[sent["sid"]].endswith(f"/webhooks/twilio/status?m={message.id}")
    assert [t.status for t in await rows(rig, Touch)] == ["sent"]
    assert [b.status for b in await rows(rig, Bundle)] == ["sent"]
    assert (await rig.tick()).claimed == 0  # nothing left: never twice


async def test_429_then_success_sends_once(rig: Rig) -> None:
    await planned(rig, {"phone": "+85291234567"})
    rig.twilio.fail_next(1, 429, code=20429, retry_after="7")
    assert (await rig.tick()).steps == {"retry": 1}
    (bundle,) = await rows(rig, Bundle)
    assert bundle.next_attempt_at is not None
    assert (bundle.next_attempt_at - rig.clock.now).total_seconds() >= 7  # Retry-After honoured
    rig.clock.advance(3)
    assert (await rig.tick()).claimed == 0
    rig.clock.advance(30)
    assert (await rig.tick()).steps == {"sent": 1}
    assert len(rig.twilio.messages) == 1
    (message,) = await rows(rig, Message)
    assert message.attempts == 2 and message.status == "queued"


async def test_permanent_failure_moves_to_the_next_channel(rig: Rig) -> None:
    await planned(rig, {"phone": "+85291234567", "email": "zhang@example.com"})
    rig.twilio.opted_out.add("+85291234567")
    assert (await rig.tick()).steps == {"sent": 1}
    sms, email = await rows(rig, Message)
    assert (sms.channel, sms.status, sms.error_code) == ("sms", "failed", "21610")
    assert (email.channel, email.status) == ("email", "sent")
    assert len(rig.smtp.mails) == 1
    async with rig.app.sessions() as s:
        state = await s.get(AddressStatus, ("sms", "+85291234567"))
    assert state is not None and state.status == "unusable"


async def test_every_channel_failing_goes_to_a_person(rig: Rig) -> None:
    await planned(rig, {"phone": "+85291234567", "channels": "sms"})
    rig.twilio.landlines.add("+85291234567")
    assert (await rig.tick()).steps == {"failed": 1}
    (touch,) = await rows(rig, Touch)
    (callback,) = await rows(rig, Callback)
    assert touch.status == "escalated" and touch.callback_id == callback.id
    assert json.loads(callback.reasons) == ["new_account_undeliverable"]


async def test_telegram_message_carries_buttons(rig: Rig) -> None:
    await planned(rig, {"phone": None, "telegram_chat_id": "555123456", "channels": "telegram"})
    assert (await rig.tick()).steps == {"sent": 1}
    (sent,) = rig.telegram.sent
    labels = [b["text"] for row in sent["reply_markup"]["inline_keyboard"] for b in row]
    assert "请回电" in labels or any("回电" in label for label in labels)


async def test_pause_stops_sending_within_a_tick(rig: Rig) -> None:
    await planned(rig, {"phone": "+85291234567"})
    async with rig.app.sessions() as s:
        await pause(s, None, "sms", "test")
        await s.commit()
    stats = await rig.tick()
    assert stats.steps == {"paused": 1} and rig.twilio.messages == []
    async with rig.app.sessions() as s:
        await pause(s, None, None, "test")
        await resume(s, None, "sms", "test")
        await s.commit()
    rig.clock.advance(10)
    assert (await rig.tick()).claimed == 0  # global pause: nothing is even claimed
    async with rig.app.sessions() as s:
        await resume(s, None, None, "test")
        await s.commit()
    assert (await rig.tick()).steps == {"sent": 1}


@pytest.mark.parametrize(
    "rig", [{"circuit_failures": 3, "circuit_probe_seconds": 2, "dispatch_concurrency": 1}],
    indirect=True)
async def test_outage_degrades_then_drains_in_order_without_failover(rig: Rig) -> None:
    await planned(rig, *({"id": f"C{i}", "phone": f"+8529123456{i}", "email": f"c{i}@example.com"}
                         for i in range(5)))
    rig.twilio.fail_next(7, 500)  # 5 first tries + 2 probes: about 3 probe intervals down
    await rig.tick()
    async with rig.app.sessions() as s:
        from bot.db.models import ChannelState

        state = await s.get(ChannelState, "sms")
    assert state is not None and state.state == "degraded"
    assert rig.smtp.mails == []  # no failover to email
    for _ in range(6):
        rig.clock.advance(2.1)
        await rig.tick()
    sent_to = [m["to"] for m in rig.twilio.messages]
    assert sent_to == [f"+8529123456{i}" for i in range(5)]  # in due order, each once
    assert rig.smtp.mails == []


async def test_a_send_cut_off_before_its_call_goes_once_later(rig: Rig) -> None:
    """The process died while the send waited for its rate slot: nothing had left, so once
    the claim is stale the same message (same id) goes, once."""
    await planned(rig, {"phone": "+85291234567"})
    dispatcher = rig.make()
    from bot.service.dispatch.claim import claim

    (bundle_id,) = await claim(rig.app.engine, rig.clock.now, 10)
    step, send = await prepare_only(rig, dispatcher, bundle_id, started=False)  # then died
    assert step == "sending" and send is not None
    (message,) = await rows(rig, Message)
    assert message.status == "prepared"
    rig.clock.advance(180)
    await rig.tick()
    await rig.tick()
    (message,) = await rows(rig, Message)
    assert message.id == send.message_id and message.status == "queued"  # type: ignore[attr-defined]
    assert len(rig.twilio.messages) == 1
    assert [t.status for t in await rows(rig, Touch)] == ["sent"]


async def test_a_send_cut_off_during_its_call_is_unknown_until_reconciled(rig: Rig) -> None:
    """The request had left when the process died: `unknown`, never sent blindly again."""
    await planned(rig, {"phone": "+85291234567"})
    dispatcher = rig.make()
    from bot.service.dispatch.claim import claim

    (bundle_id,) = await claim(rig.app.engine, rig.clock.now, 10)
    step, send = await prepare_only(rig, dispatcher, bundle_id)  # then the process died
    assert step == "sending" and send is not None
    rig.clock.advance(180)
    await rig.tick()
    (message,) = await rows(rig, Message)
    assert message.status == "unknown" and rig.twilio.messages == []
    assert [t.status for t in await rows(rig, Touch)] == ["unknown"]


async def test_unknown_send_found_at_the_provider_is_settled(rig: Rig) -> None:
    from bot.service.dispatch.claim import claim
    from bot.service.dispatch.reconcile import reconcile_unknown

    await planned(rig, {"phone": "+85291234567"})
    dispatcher = rig.make()
    (bundle_id,) = await claim(rig.app.engine, rig.clock.now, 10)
    _, send = await prepare_only(rig, dispatcher, bundle_id)
    assert send is not None
    # The provider took it, then the process died before recording the answer.
    async with rig.app.sessions() as s:
        message = await s.get(Message, send.message_id)
        assert message is not None
        outbound = await dispatcher.preparer.rebuild(s, message)  # type: ignore[attr-defined]
    await rig.channels.adapter("sms", "+85291234567").send(outbound)  # type: ignore[union-attr]
    rig.clock.advance(180)
    await rig.tick()
    assert len(rig.twilio.messages) == 1
    assert await reconcile_unknown(rig.app, rig.channels) == 1
    (message,) = await rows(rig, Message)
    assert message.provider_id == rig.twilio.messages[0]["sid"] and message.status != "unknown"
    assert [t.status for t in await rows(rig, Touch)] == ["sent"]


async def test_one_broken_bundle_does_not_stop_the_batch(rig: Rig) -> None:
    await planned(rig, {"id": "C1", "phone": "+85291234561"}, {"id": "C2", "phone": "+85291234562",
                                                               "locale": "fr"})
    stats = await rig.tick()
    assert stats.steps == {"sent": 1, "error": 1}
    assert [m["to"] for m in rig.twilio.messages] == ["+85291234561"]
    broken = next(b for b in await rows(rig, Bundle) if b.customer_id == "C2")
    assert broken.status == "planned" and broken.next_attempt_at is not None


@pytest.mark.parametrize("rig", [{"send_max_attempts": 2, "circuit_failures": 50}], indirect=True)
async def test_transient_failures_up_to_the_limit_then_next_channel(rig: Rig) -> None:
    await planned(rig, {"phone": "+85291234567", "email": "zhang@example.com"})
    rig.twilio.fail_next(2, 503)
    assert (await rig.tick()).steps == {"retry": 1}
    rig.clock.advance(60)
    assert (await rig.tick()).steps == {"sent": 1}
    sms, email = await rows(rig, Message)
    assert (sms.channel, sms.status, sms.attempts) == ("sms", "failed", 2)
    assert (email.channel, email.status) == ("email", "sent")
    assert rig.twilio.messages == [] and len(rig.smtp.mails) == 1


async def test_later_permanent_status_sends_on_the_next_channel(rig: Rig) -> None:
    from bot.service.dispatch.reports import handle_status
    from channels.sms_twilio import status_from_twilio

    await planned(rig, {"phone": "+85291234567", "email": "zhang@example.com"})
    await rig.tick()
    (sms,) = await rows(rig, Message)
    await handle_status(rig.app.sessions, "sms", sms.provider_id or "",
                        status_from_twilio("undelivered", "30005"), our_id=sms.id)
    rig.clock.advance(5)
    assert (await rig.tick()).steps == {"sent": 1}
    sms, email = await rows(rig, Message)
    assert (sms.status, email.channel, email.status) == ("failed", "email", "sent")
    async with rig.app.sessions() as s:
        assert await s.get(AddressStatus, ("sms", "+85291234567")) is not None


async def test_status_callback_at_our_id_settles_an_unknown_send(rig: Rig) -> None:
    from bot.service.dispatch.reports import handle_status
    from channels.sms_twilio import status_from_twilio

    await planned(rig, {"phone": "+85291234567"})
    from bot.service.dispatch.claim import claim

    (bundle_id,) = await claim(rig.app.engine, rig.clock.now, 10)
    _, send = await prepare_only(rig, rig.make(), bundle_id)
    assert send is not None
    rig.clock.advance(180)
    await rig.tick()  # marks it unknown
    await handle_status(rig.app.sessions, "sms", "SMlate", status_from_twilio("delivered"),
                        our_id=send.message_id)  # type: ignore[attr-defined]
    (message,) = await rows(rig, Message)
    assert (message.provider_id, message.status) == ("SMlate", "delivered")
    assert [t.status for t in await rows(rig, Touch)] == ["sent"]


@pytest.mark.parametrize("rig", [{"dispatch_concurrency": 1, "circuit_failures": 50}],
                         indirect=True)
async def test_a_failure_handling_one_failed_send_leaves_the_others_handled(rig: Rig) -> None:
    """In one batch C1's SMS is refused for good and its next channel cannot be composed
    (an approved email template that breaks at render time, as an old version might);
    C2's SMS fails transiently. C2 must still get its retry: left `sending`, it would be
    taken for an interrupted send and never resent, though we know it failed."""
    from bot.db.models import Staff, Template

    await planned(rig, {"id": "C1", "phone": "+85291234561", "email": "c1@example.com"},
                  {"id": "C2", "phone": "+85291234562"})
    async with rig.app.sessions() as s:
        author = Staff(username="author", role="branch_admin", branch_code="SH01")
        s.add(author)
        await s.flush()
        assert author.id is not None
        s.add(Template(branch_code="SH01", kind="new_account", channel="email", locale="zh-CN",
                       version=1, source="{{ 1 // 0 }}", status="active", author_id=author.id))
        await s.commit()
    rig.twilio.fail_next(1, 400, code=21610)  # the first request: C1, for good
    rig.twilio.fail_next(1, 503)  # the second: C2, for now
    stats = await rig.tick()
    assert stats.steps == {"error": 1, "retry": 1}
    by_customer = {m.customer_id: m for m in await rows(rig, Message) if m.channel == "sms"}
    assert by_customer["C2"].status != "sending"
    c2 = next(b for b in await rows(rig, Bundle) if b.customer_id == "C2")
    assert c2.next_attempt_at is not None
    rig.clock.advance(120)
    assert (await rig.tick()).steps.get("sent") == 1
    assert [m["to"] for m in rig.twilio.messages] == ["+85291234562"]


@pytest.mark.parametrize("rig", [{"circuit_failures": 50}], indirect=True)
async def test_a_retry_whose_address_became_unusable_goes_to_the_next_channel(rig: Rig) -> None:
    """Between two attempts the number is found unusable (a later status callback on another
    message, an operator): the waiting retry is not sent there again, the email goes."""
    await planned(rig, {"phone": "+85291234567", "email": "zhang@example.com"})
    rig.twilio.fail_next(1, 503)
    assert (await rig.tick()).steps == {"retry": 1}
    async with rig.app.sessions() as s:
        s.add(AddressStatus(channel="sms", address="+85291234567", status="unusable"))
        await s.commit()
    rig.clock.advance(60)
    assert (await rig.tick()).steps == {"sent": 1}
    sms, email = await rows(rig, Message)
    assert (sms.status, sms.error_code) == ("failed", "address_unusable")
    assert (email.channel, email.status) == ("email", "sent")
    assert rig.twilio.messages == []


@pytest.mark.parametrize("rig", [{"circuit_failures": 50}], indirect=True)
async def test_a_retry_whose_route_was_removed_goes_to_the_next_channel(rig: Rig) -> None:
    """The operator narrows SMS_ROUTES (say, to mainland numbers only) while a Hong Kong SMS
    waits for its retry: after the restart it goes by email instead of failing forever."""
    from bot.bootstrap import build_channels
    from bot.service.dispatch.dispatcher import Dispatcher

    await planned(rig, {"phone": "+85291234567", "email": "zhang@example.com"})
    rig.twilio.fail_next(1, 503)
    assert (await rig.tick()).steps == {"retry": 1}
    narrowed = rig.app.settings.model_copy(update={"sms_routes": "+86:twilio"})
    channels = build_channels(narrowed)
    try:
        rig.clock.advance(60)
        stats = await Dispatcher(rig.app, channels, clock=rig.clock).tick()
    finally:
        await channels.close()
    assert stats.steps == {"sent": 1}
    sms, email = await rows(rig, Message)
    assert (sms.status, sms.error_code) == ("failed", "no_route")
    assert (email.channel, email.status) == ("email", "sent")


@pytest.mark.parametrize(("change", "reason"), [
    ({"status": "deceased"}, "status_deceased_at_send"),
    ({"status": "closed"}, "status_closed_at_send"),
    ({"birthday": date(1980, 3, 4)}, "birthday_changed"),
])
async def test_an_import_since_planning_stops_a_greeting_at_send_time(
    rig: Rig, change: dict, reason: str
) -> None:
    """Planning ran at midnight; an import at 08:00 recorded a death, a closed account or a
    corrected birthday. The greeting planned for the customer as they were must not go."""
    await planned(rig, {"phone": "+85291234567", "birthday": date(1980, 3, 3),
                        "opened_on": date(2020, 1, 6)})
    async with rig.app.sessions() as s:
        customer = await s.get(Customer, "C1")
        assert customer is not None
        for field, value in change.items():
            setattr(customer, field, value)
        s.add(customer)
        await s.commit()
    assert (await rig.tick()).steps == {"suppressed": 1}
    assert rig.twilio.messages == []
    (touch,) = [t for t in await rows(rig, Touch) if t.kind == "birthday"]
    assert (touch.status, touch.reason) == ("suppressed", reason)
    (bundle,) = await rows(rig, Bundle)
    assert (bundle.status, bundle.reason) == ("suppressed", reason)
