"""Inbound SMS webhook: signature, limits, storing, matching and keywords."""

from __future__ import annotations

import re

import pytest

from bot.db.models import ConsentChange, Customer, Event, Message
from bot.service.customers.consent import effective_consent
from tests.integration.inbound.conftest import (
    BRANCH,
    LEE,
    SERVICE_PHONE,
    ZHANG,
    Rig,
)

EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response />'


async def test_stop_withdraws_consent_everywhere_and_answers_empty_twiml(rig: Rig) -> None:
    response = await rig.sms("STOP")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    assert response.text == EMPTY  # Twilio's own opt-out handling already answered
    [stored] = await rig.inbound()
    assert (stored.customer_id, stored.channel, stored.body, stored.status) == (
        "C1", "sms", "STOP", "received")
    assert stored.provider_id and stored.provider_id.startswith("SM") and stored.raw
    customer = await rig.customer("C1")
    assert customer.opted_out_at is not None and customer.marketing_consent is False
    assert not effective_consent(customer, None, rig.app.settings)  # checked again at send time
    [change] = await rig.rows(ConsentChange)
    assert (change.marketing, change.source, change.channel) == (False, "reply", "sms")
    assert len(await rig.events("consent.withdrawn")) == 1
    [received] = await rig.events("reply.received")
    assert received.customer_id == "C1" and "91234567" not in received.summary


@pytest.mark.parametrize("word", ["TD", "td", "ＴＤ", "退订", " 退订。"])
async def test_td_and_tuiding_are_confirmed_once(rig: Rig, word: str) -> None:
    first = await rig.answer(word)
    assert "您已退订" in first and BRANCH in first
    assert await rig.answer(word) == ""  # a second opt-out gets no second confirmation
    assert len(await rig.rows(ConsentChange)) == 1
    answers = await rig.rows(Message, Message.direction == "out")
    assert [(a.address, a.purpose) for a in answers] == [(ZHANG["phone"], "reply")]  # recorded


async def test_stop_with_punctuation_is_confirmed_by_us(rig: Rig) -> None:
    """Twilio acts only on the bare keyword: "Stop." still opts out, and since Twilio sent no
    confirmation (no OptOutType), we do, once."""
    assert "您已退订" in await rig.answer("Stop.")
    assert (await rig.customer("C1")).opted_out_at is not None
    assert await rig.answer("Stop.") == ""


async def test_second_stop_after_td_changes_nothing(rig: Rig) -> None:
    await rig.sms("TD")
    assert (await rig.sms("STOP")).text == EMPTY
    assert len(await rig.rows(ConsentChange)) == 1


async def test_opt_in_keywords_restore_consent(rig: Rig) -> None:
    await rig.sms("STOP")
    assert "已恢复" in await rig.answer("订阅")
    customer = await rig.customer("C1")
    assert customer.opted_out_at is None and customer.marketing_consent is True
    assert await rig.answer("订阅") == ""  # confirmed once
    await rig.sms("TD")
    assert await rig.answer("start") == ""  # Twilio answered START itself
    assert (await rig.customer("C1")).opted_out_at is None
    sources = [(c.marketing, c.source) for c in await rig.rows(ConsentChange)]
    assert sources == [(False, "reply"), (True, "reply"), (False, "reply"), (True, "reply")]


async def test_twilio_opt_out_type_is_trusted_for_yes(rig: Rig) -> None:
    await rig.sms("STOP")
    assert (await rig.sms("YES", OptOutType="START")).text == EMPTY
    assert (await rig.customer("C1")).opted_out_at is None


async def test_help_answers_branch_and_phone(rig: Rig) -> None:
    answer = await rig.answer("帮助")
    assert BRANCH in answer and SERVICE_PHONE in answer
    assert SERVICE_PHONE in await rig.answer("帮助")  # help is answered every time
    assert await rig.answer("HELP") == ""  # Twilio's HELP reply already went out
    assert (await rig.customer("C1")).opted_out_at is None


async def test_english_customer_gets_english_confirmation(rig: Rig) -> None:
    answer = await rig.answer("td", from_=LEE["phone"])
    assert "unsubscribed" in answer and "您" not in answer


async def test_ordinary_reply_is_stored_without_answer(rig: Rig) -> None:
    answer = await rig.sms("谢谢，祝你们中秋快乐")
    assert answer.text == EMPTY
    [stored] = await rig.inbound()
    assert stored.customer_id == "C1" and stored.body == "谢谢，祝你们中秋快乐"
    assert (await rig.customer("C1")).opted_out_at is None


async def test_same_message_sid_is_stored_once(rig: Rig) -> None:
    first = await rig.answer("TD", MessageSid="SM" + "a" * 32)
    again = await rig.answer("TD", MessageSid="SM" + "a" * 32)
    assert "您已退订" in first and again == ""
    assert len(await rig.inbound()) == 1


async def test_unknown_sender_is_stored_unmatched(rig: Rig) -> None:
    answer = await rig.sms("TD", from_="+85255501234")
    assert answer.text == EMPTY  # nothing to withdraw, nothing to confirm
    [stored] = await rig.inbound()
    assert stored.customer_id is None and stored.address == "+85255501234"
    [event] = await rig.events("reply.received")
    assert event.customer_id is None and "55501234" not in event.summary


async def test_shared_number_is_ambiguous_but_opt_out_reaches_everyone(rig: Rig) -> None:
    shared = "+85260000000"
    await seed_more(rig, {"id": "C3", "name": "王五", "phone": shared},
                    {"id": "C4", "name": "王六", "phone": shared})
    await rig.sms("好的", from_=shared)
    [stored] = await rig.inbound()
    assert stored.customer_id is None
    [event] = await rig.events("reply.ambiguous_address")
    assert "ambiguous_address" in event.summary and "60000000" not in event.summary
    await rig.sms("TD", from_=shared)
    assert {(await rig.customer(c)).opted_out_at is not None for c in ("C3", "C4")} == {True}


async def seed_more(rig: Rig, *customers: dict[str, object]) -> None:
    async with rig.app.sessions() as s:
        for fields in customers:
            s.add(Customer(**{"branch_code": "SH01", "marketing_consent": True, **fields}))
        await s.commit()


@pytest.mark.parametrize("signature", ["", "bm90IHRoZSBzaWduYXR1cmU="])
async def test_bad_or_missing_signature_is_403_and_nothing_stored(rig: Rig, signature: str) -> None:
    events_before = await rig.count(Event)
    response = await rig.sms("STOP", signature=signature)
    assert response.status_code == 403
    assert await rig.inbound() == []
    assert await rig.count(Event) == events_before
    assert (await rig.customer("C1")).opted_out_at is None


async def test_signature_over_another_url_is_refused(rig: Rig) -> None:
    params = {"MessageSid": "SM" + "b" * 32, "From": ZHANG["phone"], "Body": "TD"}
    from tests.peers.twilio_api import twilio_signature

    wrong = twilio_signature(rig.twilio.auth_token, "https://bot.example.com/other", params)
    assert (await rig.signed("/webhooks/twilio/sms", params, signature=wrong)).status_code == 403
    assert await rig.inbound() == []


@pytest.mark.parametrize("rig", [{"twilio_auth_token": None, "twilio_account_sid": None}],
                         indirect=True)
async def test_unconfigured_twilio_is_404(rig: Rig) -> None:
    assert (await rig.sms("STOP")).status_code == 404
    assert (await rig.signed("/webhooks/twilio/status?m=x", {"MessageSid": "SM1",
                                                              "MessageStatus": "sent"})
            ).status_code == 404
    assert await rig.inbound() == []


async def test_body_over_limit_is_413(rig: Rig) -> None:
    big = "长" * 3000  # 9,000 bytes UTF-8 > max_body_bytes 4096
    assert (await rig.sms(big)).status_code == 413

    async def chunks():  # no Content-Length: the stream itself is counted
        for _ in range(10):
            yield b"Body=" + b"x" * 1000

    response = await rig.client.post("/webhooks/twilio/sms", content=chunks(),
                                      headers={"X-Twilio-Signature": "x"})
    assert response.status_code == 413
    assert await rig.inbound() == []


async def test_logs_hold_no_phone_number(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG", logger="outreach")
    await rig.sms("TD")
    await rig.sms("TD", signature="bad")
    assert caplog.records
    assert not re.search(r"9123", caplog.text)  # masked: +852****4567
