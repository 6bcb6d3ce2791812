"""Telegram adapter (aiogram 3) against the local Bot API peer."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator

import pytest

from channels.base import (
    ConfigurationError,
    OutboundMessage,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from channels.telegram import TelegramChannel, parse_telegram_update, verify_telegram_secret
from tests.peers.http import WebhookSink
from tests.peers.telegram_api import (
    BOT_ID,
    CHAT_NOT_FOUND,
    SERVER_ERROR,
    TelegramPeer,
    flood,
)

CHAT = 555123456
BUTTONS = (("好的", "ok"), ("请回电", "call_me"), ("退订", "stop"))


@pytest.fixture
async def channel(telegram_peer: TelegramPeer) -> AsyncIterator[TelegramChannel]:
    ch = TelegramChannel(telegram_peer.token, telegram_peer.base_url, timeout=2)
    yield ch
    await ch.close()


def message(**kw: object) -> OutboundMessage:
    fields: dict[str, object] = {
        "message_id": "m-9",
        "channel": "telegram",
        "to": str(CHAT),
        "body": "张先生，祝您生日快乐！A < B & C",
        "buttons": BUTTONS,
        **kw,
    }
    return OutboundMessage(**fields)  # type: ignore[arg-type]


async def test_send_with_buttons(telegram_peer: TelegramPeer, channel: TelegramChannel) -> None:
    result = await channel.send(message())
    assert result.provider_id == f"{CHAT}:1" and result.status == "sent"
    [sent] = telegram_peer.sent
    assert sent["chat_id"] == CHAT and sent["parse_mode"] == "HTML"
    assert sent["text"] == "张先生，祝您生日快乐！A &lt; B &amp; C"  # plain body escaped for HTML
    assert sent["reply_markup"] == {
        "inline_keyboard": [[{"text": label, "callback_data": data} for label, data in BUTTONS]]
    }


async def test_many_buttons_get_a_row_each_and_html_is_sent_as_is(
    telegram_peer: TelegramPeer, channel: TelegramChannel
) -> None:
    buttons = (*BUTTONS, ("稍后再说", "later"))
    await channel.send(message(buttons=buttons, html="<b>生日快乐</b>"))
    [sent] = telegram_peer.sent
    assert sent["text"] == "<b>生日快乐</b>"
    assert [len(row) for row in sent["reply_markup"]["inline_keyboard"]] == [1, 1, 1, 1]


async def test_no_buttons_no_markup(telegram_peer: TelegramPeer, channel: TelegramChannel) -> None:
    await channel.send(message(buttons=()))
    assert telegram_peer.sent[0]["reply_markup"] is None


async def test_callback_data_over_64_bytes_refused(channel: TelegramChannel) -> None:
    with pytest.raises(PermanentDeliveryError) as caught:
        await channel.send(message(buttons=(("好", "数" * 22),)))
    assert not caught.value.address_unusable


async def test_blocked_bot_makes_address_unusable(
    telegram_peer: TelegramPeer, channel: TelegramChannel
) -> None:
    telegram_peer.blocked_chats.add(CHAT)
    with pytest.raises(PermanentDeliveryError) as caught:
        await channel.send(message())
    assert caught.value.address_unusable and caught.value.code == 403


async def test_chat_not_found_is_permanent(
    telegram_peer: TelegramPeer, channel: TelegramChannel
) -> None:
    telegram_peer.fail_next(1, CHAT_NOT_FOUND)
    with pytest.raises(PermanentDeliveryError) as caught:
        await channel.send(message())
    assert caught.value.address_unusable and caught.value.code == 400


async def test_flood_control_carries_retry_after(
    telegram_peer: TelegramPeer, channel: TelegramChannel
) -> None:
    telegram_peer.fail_next(1, flood(7))
    with pytest.raises(TransientDeliveryError) as caught:
        await channel.send(message())
    assert caught.value.retry_after == 7.0
    assert str(CHAT) not in str(caught.value)  # error text is safe to log
    await channel.send(message())  # then it goes through, once
    assert len(telegram_peer.sent) == 1


async def test_server_error_is_transient(
    telegram_peer: TelegramPeer, channel: TelegramChannel
) -> None:
    telegram_peer.fail_next(1, SERVER_ERROR)
    with pytest.raises(TransientDeliveryError) as caught:
        await channel.send(message())
    assert caught.value.retry_after is None


async def test_network_error_is_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ch = TelegramChannel(f"{BOT_ID}:abc", f"http://127.0.0.1:{port}", timeout=2)
    try:
        with pytest.raises(TransientDeliveryError) as caught:
            await ch.send(message())
    finally:
        await ch.close()
    assert not caught.value.outcome_unknown  # no connection, nothing sent: safe to retry


async def test_connection_lost_after_the_request_is_outcome_unknown(
    telegram_peer: TelegramPeer, channel: TelegramChannel
) -> None:
    """The server took the message and the connection dropped before the answer: a blind
    retry would send it twice, so the outcome is unknown (reconciled, never repeated)."""
    telegram_peer.drops = 1
    with pytest.raises(TransientDeliveryError) as caught:
        await channel.send(message())
    assert caught.value.outcome_unknown
    assert len(telegram_peer.sent) == 1


async def test_wrong_token_is_configuration(telegram_peer: TelegramPeer) -> None:
    ch = TelegramChannel(f"{BOT_ID}:not-the-token", telegram_peer.base_url, timeout=2)
    try:
        with pytest.raises(ConfigurationError):
            await ch.send(message())
    finally:
        await ch.close()
    with pytest.raises(ConfigurationError):
        TelegramChannel("not a token", telegram_peer.base_url)


async def test_answer_callback_set_webhook_and_polling(
    telegram_peer: TelegramPeer, channel: TelegramChannel
) -> None:
    await channel.answer_button("4000000001", text="已收到")
    assert telegram_peer.answered[0]["callback_query_id"] == "4000000001"
    await channel.set_webhook("https://bot.example.com/webhooks/telegram", "s3cr3t")
    assert telegram_peer.webhook is not None
    assert telegram_peer.webhook["secret_token"] == "s3cr3t"
    assert json.loads(telegram_peer.webhook["allowed_updates"]) == [
        "message", "callback_query", "my_chat_member"]
    telegram_peer.queue_update(telegram_peer.message_update(CHAT, "你好"))
    [update] = await channel.get_updates(timeout=0)
    inbound = parse_telegram_update(update)
    assert inbound is not None and inbound.text == "你好" and inbound.from_address == str(CHAT)
    assert update["message"]["from"]["id"] == CHAT  # aliases survive the round trip


async def test_reply_and_button_press_thread_to_sent_message(
    telegram_peer: TelegramPeer, channel: TelegramChannel, webhook_sink: WebhookSink
) -> None:
    sent = await channel.send(message())
    chat_id, message_id = (int(part) for part in sent.provider_id.split(":"))
    url = f"{webhook_sink.base_url}/webhooks/telegram"
    reply = telegram_peer.message_update(CHAT, "明天上午可以", reply_to_message_id=message_id)
    press = telegram_peer.callback_update(chat_id, message_id, "call_me")
    for update in (reply, press):
        assert await telegram_peer.post_update(url, update, "s3cr3t") == 200
    first, second = webhook_sink.requests
    assert verify_telegram_secret(first.headers["X-Telegram-Bot-Api-Secret-Token"], "s3cr3t")
    text = parse_telegram_update(json.loads(first.body))
    button = parse_telegram_update(json.loads(second.body))
    assert text is not None and button is not None
    assert text.text == "明天上午可以" and text.reply_to_provider_id == sent.provider_id
    assert text.received_at.tzinfo is not None and text.provider_id.startswith(f"{CHAT}:")
    assert button.button_data == "call_me" and button.text == "请回电"
    assert button.reply_to_provider_id == sent.provider_id
    assert button.button_query_id == press["callback_query"]["id"]


@pytest.mark.parametrize(
    ("text", "payload"),
    [
        ("/start abc_DEF-123", "abc_DEF-123"),
        ("/start@outreach_test_bot Tok9", "Tok9"),
        ("/start", None),
        ("/start bad!payload", None),
        ("/start " + "a" * 65, None),
        ("start abc", None),
    ],
)
def test_start_deep_link(text: str, payload: str | None) -> None:
    update = TelegramPeer().message_update(CHAT, text)
    inbound = parse_telegram_update(update)
    assert inbound is not None and inbound.start_payload == payload


def test_other_updates_ignored() -> None:
    assert parse_telegram_update({"update_id": 1, "edited_message": {"message_id": 1}}) is None
    assert parse_telegram_update({"update_id": 2, "my_chat_member": {}}) is None


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("s3cr3t", True),
        ("s3cr3t ", False),
        ("other", False),
        ("", False),
        (None, False),
        ("秘密", False),
    ],
)
def test_verify_secret(header: str | None, expected: bool) -> None:
    assert verify_telegram_secret(header, "s3cr3t") is expected
