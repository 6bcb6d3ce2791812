"""The web app and receivers wired to real peers on 127.0.0.1 (Twilio, Telegram, SMTP);
the peer fixtures themselves are the shared ones of tests/peers/fixtures.py."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from sqlmodel import col, func, select

from bot.bootstrap import App, build_channels, open_app
from bot.db.models import Branch, Bundle, Customer, Event, Message, Touch
from bot.settings import Settings, load_settings
from bot.web.app import create_app
from channels.registry import Channels
from tests.peers.smtp_server import SmtpPeer
from tests.peers.telegram_api import TelegramPeer
from tests.peers.twilio_api import TwilioPeer, twilio_signature

PUBLIC = "https://bot.example.com"
SECRET = "tg-s3cret"
BRANCH = "上海浦东营业部"
SERVICE_PHONE = "021-61234567"
ZHANG = {"id": "C1", "name": "张三", "phone": "+85291234567", "email": "zhang.san@example.com",
         "telegram_chat_id": "555000111"}
LEE = {"id": "C2", "name": "Lee", "phone": "+85298765432", "email": "lee@example.com",
       "locale": "en"}


def peer_settings(database_url: str, twilio: TwilioPeer, telegram: TelegramPeer, smtp: SmtpPeer,
                  **overrides: Any) -> Settings:
    """Every channel live against the local peers; PUBLIC_URL as Twilio would sign it."""
    values: dict[str, Any] = {
        "public_url": PUBLIC, "twilio_account_sid": twilio.account_sid,
        "twilio_auth_token": twilio.auth_token, "twilio_from": "+15005550006",
        "twilio_api_base": twilio.base_url, "sms_routes": "*:twilio",
        "smtp_host": smtp.host, "smtp_port": smtp.port, "smtp_starttls": False,
        "email_from": "证券 <noreply@firm.example>", "telegram_bot_token": telegram.token,
        "telegram_webhook_secret": SECRET, "telegram_api_base": telegram.base_url,
        "inbound_smtp": "127.0.0.1:0", "max_body_bytes": 4096, "secret_key": "test-secret",
    }
    values.update(overrides)
    return load_settings(_env_file=None, database_url=database_url, **values)


@dataclass
class Rig:
    """One opened app, its adapters, an ASGI client and the peers."""

    app: App
    channels: Channels
    client: httpx.AsyncClient
    twilio: TwilioPeer
    telegram: TelegramPeer
    smtp: SmtpPeer

    async def sms(self, body: str, from_: str = ZHANG["phone"], *, sid: str | None = None,
                  signature: str | None = None, **extra: str) -> httpx.Response:
        """POST a signed inbound SMS the way Twilio does."""
        params = {"AccountSid": self.twilio.account_sid, "Body": body, "From": from_,
                  "To": "+15005550006", "MessageSid": sid or "SM" + secrets.token_hex(16),
                  "NumMedia": "0", "SmsStatus": "received", **extra}
        return await self.signed("/webhooks/twilio/sms", params, signature=signature)

    async def answer(self, body: str, from_: str = ZHANG["phone"], **extra: str) -> str:
        """POST an inbound SMS; the webhook answers empty TwiML at once (store first), and
        the answer the customer gets is the SMS sent to them right after: its text, or ""."""
        before = len(self.twilio.messages)
        response = await self.sms(body, from_, **extra)
        assert response.status_code == 200
        assert response.text == '<?xml version="1.0" encoding="UTF-8"?><Response />'
        return "\n".join(m["body"] for m in self.twilio.messages[before:] if m["to"] == from_)

    async def signed(self, path: str, params: dict[str, str], *,
                     signature: str | None = None) -> httpx.Response:
        sig = signature if signature is not None else twilio_signature(
            self.twilio.auth_token, PUBLIC + path, params)
        headers = {"X-Twilio-Signature": sig} if sig else {}
        return await self.client.post(path, content=urlencode(params), headers={
            **headers, "Content-Type": "application/x-www-form-urlencoded"})

    async def update(self, update: dict[str, Any], secret: str | None = SECRET) -> httpx.Response:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
        return await self.client.post("/webhooks/telegram", json=update, headers=headers)

    async def customer(self, customer_id: str) -> Customer:
        async with self.app.sessions() as s:
            found = await s.get(Customer, customer_id)
            assert found is not None
            return found

    async def set_branch(self, **fields: Any) -> None:
        """Change branch SH01's settings, as `outreach branch set` would."""
        async with self.app.sessions() as s:
            branch = await s.get(Branch, "SH01")
            assert branch is not None
            for name, value in fields.items():
                setattr(branch, name, value)
            s.add(branch)
            await s.commit()

    async def rows(self, model: Any, *where: Any) -> list[Any]:
        async with self.app.sessions() as s:
            query = select(model).where(*where) if where else select(model)
            return list((await s.exec(query)).all())

    async def count(self, model: Any) -> int:
        async with self.app.sessions() as s:
            return int((await s.exec(select(func.count()).select_from(model))).one())

    async def inbound(self) -> list[Message]:
        return await self.rows(Message, Message.direction == "in")

    async def events(self, type_: str) -> list[Event]:
        async with self.app.sessions() as s:
            return list((await s.exec(select(Event).where(Event.type == type_)
                                      .order_by(col(Event.id)))).all())


async def seed(app: App, *customers: dict[str, Any]) -> None:
    """One branch with a service phone; customers default to marketing consent."""
    async with app.sessions() as s:
        s.add(Branch(code="SH01", name=BRANCH, service_phone=SERVICE_PHONE))
        await s.flush()
        for fields in customers:
            s.add(Customer(**{"branch_code": "SH01", "marketing_consent": True, **fields}))
        await s.commit()


async def sent_bundle(app: App, customer_id: str, channel: str, address: str,
                      provider_id: str | None, *, status: str = "queued",
                      message_id: str = "msg-1") -> tuple[int, str]:
    """What the dispatcher leaves behind after a send: a `sent` bundle, touch and message."""
    now = datetime.now(UTC)
    async with app.sessions() as s:
        bundle = Bundle(customer_id=customer_id, local_date=now.date(), status="sent",
                        due_at=now - timedelta(minutes=5))
        s.add(bundle)
        await s.flush()
        assert bundle.id is not None
        s.add(Touch(customer_id=customer_id, kind="dormancy", dedupe_key=f"d:{bundle.id}",
                    status="sent", due_on=now.date(), bundle_id=bundle.id))
        s.add(Message(id=message_id, direction="out", customer_id=customer_id,
                      bundle_id=bundle.id, channel=channel, address=address, body="您好",
                      provider_id=provider_id, status=status))
        await s.commit()
        return bundle.id, message_id


@pytest.fixture
async def rig(database_url: str, twilio_peer: TwilioPeer, telegram_peer: TelegramPeer,
              smtp_peer: SmtpPeer, request: pytest.FixtureRequest) -> AsyncIterator[Rig]:
    overrides: dict[str, Any] = getattr(request, "param", {})
    settings = peer_settings(database_url, twilio_peer, telegram_peer, smtp_peer, **overrides)
    async with open_app(settings) as app:
        await seed(app, ZHANG, LEE)
        channels = build_channels(settings)
        web = create_app(app, channels)
        transport = httpx.ASGITransport(app=web)
        async with httpx.AsyncClient(transport=transport, base_url=PUBLIC) as client:
            yield Rig(app, channels, client, twilio_peer, telegram_peer, smtp_peer)
        await channels.close()
