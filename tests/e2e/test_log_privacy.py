"""The whole flow at DEBUG, as `outreach run` logs it, leaves no personal data in the log.

Customers are imported, planned and sent to (Twilio, SMTP and log mode on local peers; one
Twilio answer is lost, so reconciliation asks Twilio by number), they reply by SMS, email and
Telegram through the real server, bind Telegram with a /t/ link and unsubscribe with a /u/
link. Then every test customer's number (E.164, national, URL-encoded), email, name, reply
text, the bodies we sent and every link token are looked for in everything logged.
"""

from __future__ import annotations

import asyncio
import os
import signal
import smtplib
import socket
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx
import phonenumbers
import pytest
from sqlmodel import select

from bot.bootstrap import App, build_channels, configure_logging, open_app
from bot.db.models import LinkToken, Message
from bot.run.runner import serve
from bot.service.admin.branches import BranchChanges, add_branch
from bot.service.customers.importer import import_customers
from bot.settings import load_settings
from scheduler.jobs import reconcile_tick
from tests.integration.foundation.csvfiles import write_csv
from tests.peers.mail import reply_mail
from tests.peers.smtp_server import SmtpPeer
from tests.peers.telegram_api import TelegramPeer
from tests.peers.twilio_api import TwilioPeer

SECRET = "tg-privacy-secret"
TWILIO_FROM = "+15005550006"
CHAT = 777000333
#: Hong Kong numbers go to Twilio; the mainland one to the default `+86:log` route, then email.
CUSTOMERS = [
    {"customer_id": "P1", "name": "欧阳晓燕", "phone": "+85291234567",
     "email": "ouyang.xiaoyan@example.com", "salutation": "女士", "channels": "sms|email"},
    {"customer_id": "P2", "name": "司马光明", "phone": "13912341129",
     "email": "sima.guangming@example.net", "salutation": "先生", "channels": "sms|email"},
    {"customer_id": "P3", "name": "诸葛明亮", "phone": "+85298765432",
     "email": "zhuge.mingliang@example.org", "salutation": "先生", "channels": "sms|email"},
]
REPLIES = {"sms": "我要投诉你们的客户经理，电话打了三次没人接",
           "email": "请不要再给司马家发这种邮件了",
           "telegram": "谢谢祝福，明天上午十点再联系我"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def terminate() -> Iterator[Callable[[], None]]:
    """SIGTERM to this process, which the running server takes as its signal to stop (after
    it, the test's own no-op handler is back, so pytest is not interrupted)."""
    previous = signal.signal(signal.SIGTERM, lambda *_: None)
    yield lambda: os.kill(os.getpid(), signal.SIGTERM)
    signal.signal(signal.SIGTERM, previous)


def needles(bodies: list[str], tokens: list[str]) -> list[str]:
    """Every form of personal data the flow handled, as a log could spell it."""
    found: list[str] = []
    for c in CUSTOMERS:
        number = phonenumbers.parse(c["phone"], "CN")
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        found += [e164, quote(e164, safe=""), e164[1:],
                  phonenumbers.national_significant_number(number),
                  phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL),
                  phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL),
                  c["email"], quote(c["email"], safe=""), c["name"],
                  c["name"][:2] + c["salutation"]]  # the honorific our bodies use: 欧阳女士
    found += [str(CHAT), *REPLIES.values(), *tokens]
    found += [line.strip() for body in bodies for line in body.splitlines()
              if len(line.strip()) > 12]
    return found


async def test_whole_flow_at_debug_logs_no_personal_data(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    restore_logging: None, terminate: Callable[[], None], twilio_peer: TwilioPeer,
    telegram_peer: TelegramPeer, smtp_peer: SmtpPeer,
) -> None:
    port, smtp_in = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    settings = load_settings(
        _env_file=None, database_url=database_url, secret_key="test-secret", log_level="DEBUG",
        public_url=base, http_host="127.0.0.1", http_port=port,
        inbound_smtp=f"127.0.0.1:{smtp_in}",
        twilio_account_sid=twilio_peer.account_sid, twilio_auth_token=twilio_peer.auth_token,
        twilio_from=TWILIO_FROM, twilio_api_base=twilio_peer.base_url,
        smtp_host=smtp_peer.host, smtp_port=smtp_peer.port, smtp_starttls=False,
        email_from="noreply@firm.example", telegram_bot_token=telegram_peer.token,
        telegram_webhook_secret=SECRET, telegram_api_base=telegram_peer.base_url,
        telegram_bot_username="outreach_test_bot")
    today = datetime.now(ZoneInfo(settings.timezone)).date()
    rows = [{**c, "branch": "SH01", "birthday": f"1984-{today:%m-%d}", "marketing_consent": "yes"}
            for c in CUSTOMERS]
    csv_path = write_csv(tmp_path / "customers.csv", rows, header=list(rows[0]))

    configure_logging(settings)  # what `outreach run` does first
    async with open_app(settings) as app:
        async with app.sessions() as s:
            await add_branch(s, "SH01", BranchChanges(
                name="上海浦东营业部", sms_signature="华东证券", service_phone="95555",
                send_window="00:00-23:59"), settings, actor="test")
            await s.commit()
        await import_customers(app.engine, csv_path, settings, say=lambda _: None)
        twilio_peer.fail_next(1, 201)  # the first SMS's answer has no sid: outcome unknown
        running = asyncio.create_task(serve(app, None))
        try:
            await run_the_flow(app, base, smtp_in, twilio_peer, telegram_peer, smtp_peer)
        finally:
            terminate()  # as `kill -TERM` stops `outreach run`: uvicorn shuts down, serve returns
            await asyncio.wait_for(running, 15)
        async with app.sessions() as s:
            tokens = list((await s.exec(select(LinkToken.id))).all())
    bodies = ([m["body"] for m in twilio_peer.messages] + [t["text"] for t in telegram_peer.sent]
              + [str(m.message.get_body(("plain",)).get_content())  # type: ignore[union-attr]
                 for m in smtp_peer.mails])
    logged = capsys.readouterr().err

    # The log was written and stays useful: masked addresses, ids, redacted link paths.
    assert "web server on" in logged and "inbound sms message" in logged
    assert "from +852****4567 stored" in logged and "to 139****1129 not sent" in logged
    assert '"GET /u/[token] HTTP/1.1" 200' in logged and '"GET /t/[token] HTTP/1.1" 302' in logged
    leaked = [n for n in needles(bodies, tokens) if n in logged]
    assert not leaked, f"personal data in the log: {leaked}"


async def run_the_flow(app: App, base: str, smtp_in: int, twilio: TwilioPeer,
                       telegram: TelegramPeer, smtp: SmtpPeer) -> None:
    """Wait for the sends, reconcile the lost one, then the customers' side of the flow."""
    async with asyncio.timeout(30):
        while len(twilio.messages) < 1 or not smtp.mails or not await _unknown_send(app):
            await asyncio.sleep(0.2)
    asked = twilio.requests
    channels = build_channels(app.settings)
    try:
        await reconcile_tick(app, channels)  # Twilio is asked for what it holds for the number
    finally:
        await channels.close()
    assert twilio.requests > asked

    status, _ = await twilio.post_inbound_sms(f"{base}/webhooks/twilio/sms",
                                              CUSTOMERS[0]["phone"], TWILIO_FROM, REPLIES["sms"])
    assert status == 200

    async with app.sessions() as s:
        reply_token = (await s.exec(select(LinkToken.id).where(
            LinkToken.purpose == "reply", LinkToken.customer_id == "P2"))).first()
        unsubscribe = (await s.exec(select(LinkToken.id).where(
            LinkToken.purpose == "unsubscribe", LinkToken.customer_id == "P1"))).first()
        telegram_link = (await s.exec(select(LinkToken.id).where(
            LinkToken.purpose == "telegram", LinkToken.customer_id == "P3"))).first()
    assert reply_token and unsubscribe and telegram_link
    mail = reply_mail(to=f"reply+{reply_token}@replies.localhost", text=REPLIES["email"],
                      from_=f"司马光明 <{CUSTOMERS[1]['email']}>")

    def send_mail() -> None:
        with smtplib.SMTP("127.0.0.1", smtp_in, timeout=5) as client:
            client.sendmail(CUSTOMERS[1]["email"], [f"reply+{reply_token}@replies.localhost"], mail)

    await asyncio.to_thread(send_mail)

    async with httpx.AsyncClient(base_url=base, trust_env=False) as client:
        link = await client.get(f"/t/{telegram_link}")
        assert link.status_code == 302 and telegram_link in link.headers["location"]
        hook = f"{base}/webhooks/telegram"
        assert await telegram.post_update(
            hook, telegram.message_update(CHAT, f"/start {telegram_link}"), SECRET) == 200
        assert await telegram.post_update(
            hook, telegram.message_update(CHAT, REPLIES["telegram"]), SECRET) == 200
        assert (await client.get(f"/u/{unsubscribe}")).status_code == 200
        done = await client.post(f"/u/{unsubscribe}", data={"List-Unsubscribe": "One-Click"})
        assert done.status_code == 200
    async with asyncio.timeout(10):  # the bot answers the binding after the webhook answered
        while await _count_in(app) < 4 or not telegram.sent:
            await asyncio.sleep(0.1)


async def _unknown_send(app: App) -> bool:
    async with app.sessions() as s:
        found = (await s.exec(select(Message.id).where(Message.status == "unknown"))).first()
    return found is not None


async def _count_in(app: App) -> int:
    async with app.sessions() as s:
        return len((await s.exec(select(Message).where(Message.direction == "in"))).all())
