"""Replies end to end: through the real webhooks and receiver to the callback queue."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.db.models import Bundle, Callback, Message, Touch
from bot.run.receivers import Receivers, start_receivers
from bot.service.dispatch.dispatcher import Dispatcher
from tests.integration.inbound.conftest import ZHANG, Rig, sent_bundle
from tests.integration.inbound.test_email_receiver import OUR_MESSAGE_ID, email_sent, send_mail
from tests.peers.mail import reply_mail


@pytest.fixture
async def receiver(rig: Rig) -> AsyncIterator[Receivers]:
    started = await start_receivers(rig.app, channels=rig.channels, telegram=False)
    yield started
    await started.stop()


async def test_signed_sms_complaint_becomes_a_p1_callback(rig: Rig) -> None:
    await sent_bundle(rig.app, "C1", "sms", ZHANG["phone"], "SMabc")
    assert (await rig.sms("我要投诉，你们的服务太差了")).status_code == 200
    [callback] = await rig.rows(Callback)
    assert callback.priority == "P1" and json.loads(callback.reasons) == ["complaint"]
    [touch] = await rig.rows(Touch)
    assert touch.status == "answered" and touch.callback_id == callback.id
    [stored] = await rig.inbound()
    assert stored.intent == "complaint"


async def test_telegram_call_me_button_is_a_p2_callback(rig: Rig) -> None:
    await rig.update(rig.telegram.callback_update(555000111, 7, "reply:callback_request"))
    [callback] = await rig.rows(Callback)
    assert callback.priority == "P2" and json.loads(callback.reasons) == ["callback_request"]
    assert rig.telegram.answered  # answerCallbackQuery reached the Bot API


async def test_email_is_classified_on_the_new_text_only(rig: Rig, receiver: Receivers) -> None:
    await email_sent(rig)
    text = "谢谢，一切都好。\n\n-----原始邮件-----\n发件人: 证券\n> 我要投诉\n> 这笔转账不是我操作的\n"
    mail = reply_mail(to="x@replies.localhost", from_="张三 <zhang.san@example.com>", text=text,
                      in_reply_to=OUR_MESSAGE_ID)
    await send_mail(receiver, "x@replies.localhost", mail)
    [stored] = await rig.inbound()
    assert stored.intent == "positive" and "投诉" not in stored.body
    assert await rig.rows(Callback) == []


async def test_not_me_is_p0_and_alerts_the_manager_by_email(rig: Rig) -> None:
    await rig.set_branch(manager_email="manager@firm.example")
    await sent_bundle(rig.app, "C1", "sms", ZHANG["phone"], "SMabc")
    await rig.sms("这笔转账不是我操作的！")
    [callback] = await rig.rows(Callback)
    assert callback.priority == "P0"
    assert callback.sla_due_at - callback.created_at <= timedelta(hours=1, seconds=5)
    [mail] = rig.smtp.mails
    assert "manager@firm.example" in mail.rcpt_tos
    assert "P0" in mail.message["Subject"]


async def test_td_suppresses_todays_greeting_at_send_time_and_start_restores(rig: Rig) -> None:
    now = datetime.now(UTC)
    noon = datetime.combine(now.date(), datetime.min.time(), UTC).replace(hour=4)  # 12:00 +08
    async with rig.app.sessions() as s:
        bundle = Bundle(customer_id="C1", local_date=now.date(), status="planned",
                        due_at=noon - timedelta(hours=1), marketing=True)
        s.add(bundle)
        await s.flush()
        s.add(Touch(customer_id="C1", kind="holiday", dedupe_key="holiday:x:2026", festival="x",
                    status="planned", due_on=now.date(), bundle_id=bundle.id))
        await s.commit()
    await rig.sms("TD")
    dispatcher = Dispatcher(rig.app, rig.channels, clock=lambda: noon)
    await dispatcher.tick()
    [touch] = await rig.rows(Touch)
    assert (touch.status, touch.reason) == ("suppressed", "no_consent_at_send")
    assert [m for m in await rig.rows(Message, Message.direction == "out") if m.bundle_id] == []
    await rig.sms("START")
    assert (await rig.customer("C1")).opted_out_at is None
