"""SMTP email adapter against a real aiosmtpd peer."""

from __future__ import annotations

import socket

import pytest

from channels.base import (
    ConfigurationError,
    OutboundMessage,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from channels.email_smtp import SmtpConfig, SmtpEmailChannel
from tests.peers.smtp_server import SmtpPeer

REPLY_DOMAIN = "replies.localhost"
SUBJECT = "生日快乐，张先生 — 某某证券深圳分公司"


def config(peer: SmtpPeer, **kw: object) -> SmtpConfig:
    settings: dict[str, object] = {
        "host": peer.host,
        "port": peer.port,
        "email_from": "某某证券 <noreply@firm.example>",
        "reply_domain": REPLY_DOMAIN,
        "timeout": 5.0,
        "starttls": False,
        **kw,
    }
    return SmtpConfig(**settings)  # type: ignore[arg-type]


def mail(**kw: object) -> OutboundMessage:
    fields: dict[str, object] = {
        "message_id": "m-7",
        "channel": "email",
        "to": "zhang.san@example.com",
        "body": "张先生：\n祝您生日快乐！\n如需回电，请直接回复本邮件。",
        "subject": SUBJECT,
        "html": "<p>张先生：</p><p>祝您<b>生日快乐</b>！</p>",
        "reply_token": "rTok_123",
        "bounce_token": "bTok-456",
        "list_unsubscribe_url": "https://bot.example.com/u/uTok789",
        **kw,
    }
    return OutboundMessage(**fields)  # type: ignore[arg-type]


async def test_send_headers_envelope_and_body(smtp_peer: SmtpPeer) -> None:
    result = await SmtpEmailChannel(config(smtp_peer)).send(mail())
    [captured] = smtp_peer.mails
    msg = captured.message
    assert captured.mail_from == f"bounce+bTok-456@{REPLY_DOMAIN}"
    assert captured.rcpt_tos == ["zhang.san@example.com"]
    assert result.status == "sent" and result.sent_at.tzinfo is not None
    assert result.provider_id == msg["Message-ID"]
    assert result.provider_id.endswith(f"@{REPLY_DOMAIN}>") and "m-7" in result.provider_id
    assert msg["Reply-To"] == f"reply+rTok_123@{REPLY_DOMAIN}"
    assert msg["List-Unsubscribe"].strip() == (
        f"<mailto:reply+rTok_123@{REPLY_DOMAIN}?subject=unsubscribe>, "
        "<https://bot.example.com/u/uTok789>"
    )
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["Subject"] == SUBJECT  # Chinese round trip through SMTP
    assert msg["From"].addresses[0].display_name == "某某证券"
    assert captured.data.isascii()  # headers RFC 2047-encoded, bodies transfer-encoded
    assert msg.get_content_type() == "multipart/alternative"
    text, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert text is not None and text.get_content() == mail().body + "\n"
    assert html is not None and "<b>生日快乐</b>" in html.get_content()


async def test_without_tokens_uses_from_address(smtp_peer: SmtpPeer) -> None:
    plain = mail(reply_token=None, bounce_token=None, list_unsubscribe_url=None, html=None)
    await SmtpEmailChannel(config(smtp_peer)).send(plain)
    [captured] = smtp_peer.mails
    assert captured.mail_from == "noreply@firm.example"
    msg = captured.message
    assert msg["Reply-To"] is None and msg["List-Unsubscribe"] is None
    assert msg["List-Unsubscribe-Post"] is None
    assert msg.get_content_type() == "text/plain"


async def test_recipient_refused_550_is_permanent(smtp_peer: SmtpPeer) -> None:
    smtp_peer.refuse["zhang.san@example.com"] = "550 5.1.1 <zhang.san@example.com>: User unknown"
    with pytest.raises(PermanentDeliveryError) as caught:
        await SmtpEmailChannel(config(smtp_peer)).send(mail())
    assert caught.value.address_unusable and caught.value.code == 550
    assert "zhang.san@" not in str(caught.value) and "z***@example.com" in str(caught.value)
    assert smtp_peer.mails == []


async def test_recipient_deferred_450_is_transient(smtp_peer: SmtpPeer) -> None:
    smtp_peer.refuse["zhang.san@example.com"] = "450 4.2.1 Mailbox busy, try later"
    with pytest.raises(TransientDeliveryError) as caught:
        await SmtpEmailChannel(config(smtp_peer)).send(mail())
    assert caught.value.code == 450


async def test_connection_refused_is_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    peer = SmtpPeer()
    peer.port = port
    with pytest.raises(TransientDeliveryError) as caught:
        await SmtpEmailChannel(config(peer, timeout=1.0)).send(mail())
    assert not caught.value.outcome_unknown


async def test_login_when_configured() -> None:
    peer = SmtpPeer(username="mailer", password="s3cret")
    await peer.start()
    try:
        await SmtpEmailChannel(config(peer, username="mailer", password="s3cret")).send(mail())
        assert len(peer.mails) == 1
        with pytest.raises(ConfigurationError):
            await SmtpEmailChannel(config(peer, username="mailer", password="wrong")).send(mail())
        with pytest.raises(ConfigurationError):  # 530 at RCPT: the server wants a login
            await SmtpEmailChannel(config(peer)).send(mail())
    finally:
        await peer.stop()


async def test_starttls_required_but_not_offered(smtp_peer: SmtpPeer) -> None:
    with pytest.raises(ConfigurationError):
        await SmtpEmailChannel(config(smtp_peer, starttls=True)).send(mail())


def test_email_from_without_address() -> None:
    peer = SmtpPeer()
    with pytest.raises(ConfigurationError):
        SmtpEmailChannel(config(peer, email_from="某某证券"))
