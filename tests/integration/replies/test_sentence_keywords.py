"""Sentence-level opt-out / opt-in: the classifier's keyword intents act like TD / 订阅."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from bot.bootstrap import App
from bot.db.models import ConsentChange, Customer, Event, Message
from bot.service.customers.consent import withdraw_consent
from tests.integration.inbound.conftest import Rig, rig  # noqa: F401
from tests.integration.planning.helpers import at
from tests.integration.replies.test_handle_reply import DAY, sent_bundle, store_reply


async def _reply(app: App, text: str, answers: str) -> Message:
    return (await store_reply(app, text, at(DAY, 11, 0), answers))[0]


@pytest.mark.parametrize("text", ["我要退订", "以后不要再给我发短信了", "please stop texting me",
                                  "退订，谢谢"])
async def test_sentence_opt_out_withdraws_consent(app: App, text: str) -> None:
    out = await sent_bundle(app, opened_on=date(2026, 3, 2), marketing_consent=True)
    stored = await _reply(app, text, out.id)
    assert stored.intent == "opt_out"
    async with app.sessions() as s:
        customer = await s.get(Customer, "C1")
        assert customer is not None and customer.opted_out_at is not None
        assert customer.marketing_consent is False
        changes = (await s.exec(select(ConsentChange))).all()
        assert [(c.marketing, c.source) for c in changes] == [(False, "reply")]
        withdrawn = [e for e in (await s.exec(select(Event))).all()
                     if e.type == "consent.withdrawn"]
        assert len(withdrawn) == 1


async def test_sentence_opt_out_twice_withdraws_once(app: App) -> None:
    out = await sent_bundle(app, opened_on=date(2026, 3, 2), marketing_consent=True)
    await _reply(app, "我要退订", out.id)
    await _reply(app, "我要退订", out.id)
    async with app.sessions() as s:
        assert len((await s.exec(select(ConsentChange))).all()) == 1


async def test_sentence_opt_in_restores_consent(app: App) -> None:
    out = await sent_bundle(app, opened_on=date(2026, 3, 2), marketing_consent=True)
    async with app.sessions() as s:
        await withdraw_consent(s, "C1", source="reply", channel="sms", now=at(DAY, 10, 30))
        await s.commit()
    stored = await _reply(app, "我想重新订阅", out.id)
    assert stored.intent == "opt_in"
    async with app.sessions() as s:
        customer = await s.get(Customer, "C1")
        assert customer is not None and customer.opted_out_at is None
        assert customer.marketing_consent is True


@pytest.mark.parametrize("text", ["我要退订", "以后不要再给我发短信了", "please stop texting me",
                                  "退订，谢谢"])
async def test_sentence_opt_out_by_sms_webhook(rig: Rig, text: str) -> None:  # noqa: F811
    answer = await rig.answer(text)
    [stored] = await rig.inbound()
    assert stored.intent == "opt_out"
    assert (await rig.customer("C1")).opted_out_at is not None
    assert "您已退订" in answer  # confirmed, like TD
    assert await rig.answer(text) == ""  # once


async def test_sentence_opt_in_by_sms_webhook_after_td(rig: Rig) -> None:  # noqa: F811
    await rig.sms("TD")
    assert (await rig.customer("C1")).opted_out_at is not None
    answer = await rig.answer("我想重新订阅")
    assert (await rig.customer("C1")).opted_out_at is None
    assert answer
