"""The whole inbound path over real HTTP and SMTP: uvicorn on a free port, peers calling it."""

from __future__ import annotations

import asyncio
import smtplib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn

from bot.bootstrap import App, build_channels, open_app
from bot.db.models import Branch, Customer, EarlyStatus, Message
from bot.run.runner import serve
from bot.service.dispatch.reports import apply_early_statuses
from bot.settings import load_settings
from bot.web.app import create_app
from channels.base import OutboundMessage
from channels.registry import Channels
from tests.peers.mail import reply_mail
from tests.peers.smtp_server import SmtpPeer
from tests.peers.telegram_api import TelegramPeer
from tests.peers.twilio_api import TwilioPeer

PHONE = "+85291234567"
CHAT = 555000111


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@dataclass
class Live:
    app: App
    channels: Channels
    base: str
    twilio: TwilioPeer
    telegram: TelegramPeer


@pytest.fixture
async def live(database_url: str) -> AsyncIterator[Live]:
    twilio, telegram, smtp = TwilioPeer(), TelegramPeer(), SmtpPeer()
    for peer in (twilio, telegram, smtp):
        await peer.start()
    sock = free_socket()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = load_settings(
        _env_file=None, database_url=database_url, public_url=base,
        twilio_account_sid=twilio.account_sid, twilio_auth_token=twilio.auth_token,
        twilio_from="+15005550006", twilio_api_base=twilio.base_url, sms_routes="*:twilio",
        telegram_bot_token=telegram.token, telegram_webhook_secret="e2e-secret",
        telegram_api_base=telegram.base_url, smtp_host=smtp.host, smtp_port=smtp.port,
        smtp_starttls=False, email_from="noreply@firm.example", serve="webhooks")
    async with open_app(settings) as app:
        async with app.sessions() as s:
            s.add(Branch(code="SH01", name="上海浦东营业部", service_phone="021-61234567"))
            await s.flush()
            s.add(Customer(id="C1", name="张三", branch_code="SH01", phone=PHONE,
                           telegram_chat_id=str(CHAT), marketing_consent=True))
            await s.commit()
        channels = build_channels(settings)
        server = uvicorn.Server(uvicorn.Config(create_app(app, channels), log_config=None,
                                               lifespan="off"))
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            await asyncio.sleep(0.01)
        yield Live(app, channels, base, twilio, telegram)
        server.should_exit = True
        await task
        await channels.close()
    sock.close()
    for peer in (twilio, telegram, smtp):
        await peer.stop()


async def rows(app: App, model: Any, *where: Any) -> list[Any]:
    from sqlmodel import select

    async with app.sessions() as s:
        return list((await s.exec(select(model).where(*where))).all())


async def test_signed_sms_through_a_real_server(live: Live) -> None:
    url = f"{live.base}/webhooks/twilio/sms"
    status, body = await live.twilio.post_inbound_sms(url, PHONE, "+15005550006", "TD")
    assert status == 200 and "<Message>" not in body  # stored and answered at once
    for _ in range(100):  # acted on right after the answer: the confirmation is an SMS
        if live.twilio.messages:
            break
        await asyncio.sleep(0.05)
    [confirmation] = live.twilio.messages
    assert confirmation["to"] == PHONE and "您已退订" in confirmation["body"]
    [stored] = await rows(live.app, Message, Message.direction == "in")
    assert stored.customer_id == "C1"
    bad = await live.twilio.post_signed(url, {"From": PHONE, "Body": "TD", "MessageSid": "SMx"},
                                        signature="bad")
    assert bad[0] == 403
    assert len(await rows(live.app, Message, Message.direction == "in")) == 1


async def test_status_callbacks_from_the_peer_early_and_late(live: Live) -> None:
    # Send as the dispatcher does; the peer knows our StatusCallback (?m=msg-e2e).
    async with live.app.sessions() as s:
        s.add(Message(id="msg-e2e", direction="out", customer_id="C1", channel="sms",
                      address=PHONE, body="您好", status="sending"))
        await s.commit()
    result = await live.channels.sms["twilio"].send(OutboundMessage(
        message_id="msg-e2e", channel="sms", to=PHONE, body="您好"))
    assert await live.twilio.post_status_callback(result.provider_id, "sent") == 200
    [kept] = await rows(live.app, EarlyStatus)
    assert (kept.status, kept.message_id) == ("sent", "msg-e2e")
    async with live.app.sessions() as s:  # the dispatcher records the sid, then applies
        message = await s.get(Message, "msg-e2e")
        assert message is not None
        message.provider_id, message.status = result.provider_id, result.status
        s.add(message)
        await s.flush()
        await apply_early_statuses(s, message)
        await s.commit()
    assert await live.twilio.post_status_callback(result.provider_id, "delivered") == 200
    [message] = await rows(live.app, Message, Message.id == "msg-e2e")
    assert message.status == "delivered"


async def test_telegram_update_through_a_real_server(live: Live) -> None:
    url = f"{live.base}/webhooks/telegram"
    update = live.telegram.message_update(CHAT, "帮助")
    assert await live.telegram.post_update(url, update, "wrong") == 403
    assert await live.telegram.post_update(url, update, "e2e-secret") == 200
    async with asyncio.timeout(3):
        while not live.telegram.sent:  # sent after the webhook answered
            await asyncio.sleep(0.02)
    assert "021-61234567" in live.telegram.sent[0]["text"]


async def test_outreach_run_only_smtp_receives_mail(database_url: str) -> None:
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    settings = load_settings(_env_file=None, database_url=database_url,
                             inbound_smtp=f"127.0.0.1:{port}")
    async with open_app(settings) as app:
        runner = asyncio.create_task(serve(app, "smtp"))
        try:
            mail = reply_mail(to="reply+whatever1@replies.localhost", text="收到，谢谢")

            def send() -> None:
                with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
                    client.sendmail("a@example.com", ["reply+whatever1@replies.localhost"], mail)

            async with asyncio.timeout(5):
                while True:
                    try:
                        await asyncio.to_thread(send)
                        break
                    except ConnectionRefusedError:
                        await asyncio.sleep(0.05)
        finally:
            runner.cancel()
            with pytest.raises(asyncio.CancelledError):
                await runner
        [stored] = await rows(app, Message, Message.direction == "in")
        assert stored.channel == "email" and stored.body == "收到，谢谢"
