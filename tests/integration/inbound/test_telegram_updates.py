"""Telegram updates: secret header, deep-link binding, buttons, polling and setWebhook."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest

from bot.db.models import AddressStatus, ConsentChange, LinkToken, Message
from bot.run.receivers import start_receivers
from bot.service import tokens
from channels.base import OutboundMessage
from tests.integration.inbound.conftest import ZHANG, Rig

CHAT = int(ZHANG["telegram_chat_id"])
STRANGER = 424242


async def issue_link(rig: Rig, customer_id: str = "C2", ttl: timedelta | None = None,
                     now: datetime | None = None) -> str:
    async with rig.app.sessions() as s:
        token = await tokens.issue(s, "telegram", customer_id, ttl=ttl or timedelta(days=7),
                                   now=now)
        await s.commit()
    return token


async def test_bad_or_missing_secret_is_403_and_nothing_stored(rig: Rig) -> None:
    update = rig.telegram.message_update(CHAT, "退订")
    assert (await rig.update(update, secret="wrong")).status_code == 403
    assert (await rig.update(update, secret=None)).status_code == 403
    assert await rig.inbound() == []
    assert (await rig.customer("C1")).opted_out_at is None


@pytest.mark.parametrize("rig", [{"telegram_bot_token": None}], indirect=True)
async def test_unconfigured_telegram_is_404(rig: Rig) -> None:
    update = rig.telegram.message_update(CHAT, "hi")
    assert (await rig.update(update)).status_code == 404


async def test_deep_link_binds_the_chat_once(rig: Rig) -> None:
    token = await issue_link(rig)
    response = await rig.update(rig.telegram.message_update(STRANGER, f"/start {token}"))
    assert response.status_code == 200
    lee = await rig.customer("C2")
    assert (lee.telegram_chat_id, lee.telegram_bound) == (str(STRANGER), True)
    [link] = await rig.rows(LinkToken)
    assert link.used_at is not None
    [answer] = rig.telegram.sent
    assert answer["chat_id"] == STRANGER and "绑定成功" in answer["text"] and "Linked" in answer["text"]
    assert answer["text"].index("绑定成功") < answer["text"].index("Linked")  # Chinese first
    [stored] = await rig.inbound()
    assert stored.customer_id == "C2"
    assert len(await rig.events("telegram.bound")) == 1
    # The same link from another chat is refused; the binding stays.
    await rig.update(rig.telegram.message_update(777, f"/start {token}"))
    assert "已被使用" in rig.telegram.sent[-1]["text"]
    assert (await rig.customer("C2")).telegram_chat_id == str(STRANGER)
    assert len(await rig.events("telegram.link_refused")) == 1


async def test_expired_or_unknown_link_is_refused(rig: Rig) -> None:
    old = datetime.now(UTC) - timedelta(days=10)
    token = await issue_link(rig, ttl=timedelta(days=7), now=old)
    await rig.update(rig.telegram.message_update(STRANGER, f"/start {token}"))
    await rig.update(rig.telegram.message_update(STRANGER, "/start not-a-token"))
    assert [("已过期" in s["text"]) for s in rig.telegram.sent] == [True, True]
    assert (await rig.customer("C2")).telegram_chat_id is None


async def test_unbound_chat_gets_a_polite_explanation(rig: Rig) -> None:
    await rig.update(rig.telegram.message_update(STRANGER, "你好"))
    [answer] = rig.telegram.sent
    assert "专属链接" in answer["text"] and "personal link" in answer["text"]
    [stored] = await rig.inbound()
    assert stored.customer_id is None
    [reply] = await rig.rows(Message, Message.direction == "out")
    assert reply.in_reply_to == stored.id and reply.provider_id == f"{STRANGER}:1"


async def test_opt_out_button_is_recorded_confirmed_and_answered(rig: Rig) -> None:
    # What the dispatcher left: a greeting with buttons, its provider id recorded.
    sent = await rig.channels.telegram.send(OutboundMessage(
        message_id="msg-1", channel="telegram", to=str(CHAT), body="张先生，中秋快乐！",
        buttons=(("谢谢", "reply:positive"), ("退订", "reply:opt_out"))))
    async with rig.app.sessions() as s:
        s.add(Message(id="msg-1", direction="out", customer_id="C1", channel="telegram",
                      address=str(CHAT), body="张先生，中秋快乐！", provider_id=sent.provider_id,
                      status="sent"))
        await s.commit()
    message_id = int(sent.provider_id.split(":")[1])
    press = rig.telegram.callback_update(CHAT, message_id, "reply:opt_out")
    assert (await rig.update(press)).status_code == 200
    [stored] = await rig.inbound()
    assert (stored.customer_id, stored.body, stored.in_reply_to) == ("C1", "退订", "msg-1")
    [answered] = rig.telegram.answered
    assert answered["callback_query_id"] == press["callback_query"]["id"]
    assert (await rig.customer("C1")).opted_out_at is not None
    [change] = await rig.rows(ConsentChange)
    assert (change.source, change.channel) == ("reply", "telegram")
    assert "您已退订" in rig.telegram.sent[-1]["text"]
    # Pressed again: answered again, not confirmed again.
    await rig.update(rig.telegram.callback_update(CHAT, message_id, "reply:opt_out"))
    assert len(rig.telegram.answered) == 2 and len(rig.telegram.sent) == 2


async def test_other_button_is_recorded_and_answered(rig: Rig) -> None:
    press = rig.telegram.callback_update(CHAT, 5, "reply:positive")
    await rig.update(press)
    assert rig.telegram.answered and rig.telegram.sent == []
    [stored] = await rig.inbound()
    assert stored.customer_id == "C1"


async def test_help_on_telegram_names_branch_and_phone(rig: Rig) -> None:
    await rig.update(rig.telegram.message_update(CHAT, "HELP"))
    [answer] = rig.telegram.sent
    assert "上海浦东营业部" in answer["text"] and "021-61234567" in answer["text"]
    [reply] = await rig.rows(Message, Message.direction == "out")
    assert reply.channel == "telegram" and reply.bundle_id is None  # a conversation reply


async def test_duplicate_update_is_stored_once(rig: Rig) -> None:
    update = rig.telegram.message_update(CHAT, "收到")
    await rig.update(update)
    await rig.update(update)
    assert len(await rig.inbound()) == 1


@pytest.mark.parametrize("rig", [{"telegram_mode": "polling"}], indirect=True)
async def test_polling_feeds_the_same_handler(rig: Rig) -> None:
    receivers = await start_receivers(rig.app, channels=rig.channels, smtp=False, poll_timeout=1)
    try:
        rig.telegram.queue_update(rig.telegram.message_update(CHAT, "退订"))
        async with asyncio.timeout(5):
            while not rig.telegram.sent:
                await asyncio.sleep(0.05)
    finally:
        await receivers.stop()
    [stored] = await rig.inbound()
    assert stored.customer_id == "C1" and stored.body == "退订"
    assert (await rig.customer("C1")).opted_out_at is not None


@pytest.mark.parametrize("rig", [{"telegram_mode": "webhook"}], indirect=True)
async def test_set_webhook_only_for_a_reachable_https_url(
        rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="outreach")
    receivers = await start_receivers(rig.app, channels=rig.channels, smtp=False)
    await receivers.stop()
    assert rig.telegram.webhook is not None
    assert rig.telegram.webhook["url"] == "https://bot.example.com/webhooks/telegram"
    assert rig.telegram.webhook["secret_token"] == "tg-s3cret"
    assert "my_chat_member" in str(rig.telegram.webhook["allowed_updates"])  # blocks, too
    rig.telegram.webhook = None
    local = rig.app.settings.model_copy(update={"public_url": "http://127.0.0.1:8000"})
    app = type(rig.app)(settings=local, engine=rig.app.engine, sessions=rig.app.sessions)
    caplog.clear()
    receivers = await start_receivers(app, channels=rig.channels, smtp=False)
    await receivers.stop()
    assert rig.telegram.webhook is None
    lines = [r for r in caplog.records if "webhook not registered" in r.getMessage()]
    assert len(lines) == 1 and "polling" in lines[0].getMessage()


@pytest.mark.parametrize("rig", [{"telegram_bot_username": "firm_care_bot"}], indirect=True)
async def test_short_link_opens_the_bot_with_the_token(rig: Rig) -> None:
    from bot.db.models import LinkToken

    async with rig.app.sessions() as s:
        s.add(LinkToken(id="TgAbc123xyz9", purpose="telegram", customer_id="C1"))
        await s.commit()
    response = await rig.client.get("/t/TgAbc123xyz9")
    assert response.status_code == 302
    assert response.headers["location"] == "https://t.me/firm_care_bot?start=TgAbc123xyz9"
    assert (await rig.client.get("/t/unknown00000")).status_code == 404


async def test_blocking_the_bot_makes_the_chat_unusable_until_unblocked(rig: Rig) -> None:
    """Read ahead of any send: dispatch skips the chat at once (not an opt-out)."""
    response = await rig.update(rig.telegram.chat_member_update(CHAT, "member", "kicked"))
    assert response.status_code == 200
    [state] = await rig.rows(AddressStatus)
    assert (state.channel, state.address, state.status, state.reason) == (
        "telegram", str(CHAT), "unusable", "blocked_bot")
    [event] = await rig.events("address.unusable")
    assert event.customer_id == "C1" and str(CHAT) not in event.summary
    customer = await rig.customer("C1")
    assert customer.opted_out_at is None and customer.marketing_consent is True
    await rig.update(rig.telegram.chat_member_update(CHAT, "member", "kicked"))  # repeated
    assert len(await rig.events("address.unusable")) == 1
    await rig.update(rig.telegram.chat_member_update(CHAT, "kicked", "member"))
    [state] = await rig.rows(AddressStatus)
    assert state.status == "ok"
    assert len(await rig.events("address.usable_again")) == 1


async def test_the_bot_added_to_a_group_changes_nothing(rig: Rig) -> None:
    update = rig.telegram.chat_member_update(-100123, "left", "member", chat_type="group")
    assert (await rig.update(update)).status_code == 200
    update = rig.telegram.chat_member_update(-100123, "member", "kicked", chat_type="group")
    assert (await rig.update(update)).status_code == 200
    assert await rig.rows(AddressStatus) == []


@pytest.mark.parametrize("rig", [{"telegram_mode": "polling"}], indirect=True)
async def test_polling_reads_a_block_too(rig: Rig) -> None:
    receivers = await start_receivers(rig.app, channels=rig.channels, smtp=False, poll_timeout=1)
    try:
        rig.telegram.queue_update(rig.telegram.chat_member_update(CHAT, "member", "kicked"))
        async with asyncio.timeout(5):
            while not await rig.rows(AddressStatus):
                await asyncio.sleep(0.05)
    finally:
        await receivers.stop()
    [state] = await rig.rows(AddressStatus)
    assert state.status == "unusable"
