"""Inbound email: reply parsing, quoted-history stripping, DSNs, and the SMTP receiver."""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import AsyncIterator
from email.message import EmailMessage

import pytest

from channels.base import InboundMessage
from channels.email_smtp import (
    Bounce,
    InboundSmtpHandler,
    parse_dsn,
    parse_email_inbound,
    start_inbound_smtp,
    strip_quoted_reply,
)
from tests.peers.mail import dsn_mail, reply_mail

DOMAIN = "replies.localhost"
REPLY = f"reply+rTok_123@{DOMAIN}"
BOUNCE = f"bounce+bTok-456@{DOMAIN}"
OURS = "<179589686721.12620.1738.m-7@replies.localhost>"

GMAIL = """Yes, please call me tomorrow afternoon.

On Mon, Nov 2, 2026 at 10:00 AM Firm Securities <noreply@firm.example>
wrote:

> Dear Mr Zhang,
> Happy birthday!
"""
GMAIL_ZH = """好的，谢谢！明天下午方便。

在 2026年11月2日周一 上午10:00，某某证券 <noreply@firm.example> 写道：

> 张先生：
> 祝您生日快乐！
"""
OUTLOOK_ZH = """请明天下午给我打电话。

发自我的iPhone

________________________________
发件人: 某某证券 <noreply@firm.example>
发送时间: 2026年11月2日 10:00
收件人: 张三 <zhang.san@example.com>
主题: 生日快乐

张先生：祝您生日快乐！
"""
OUTLOOK_EN = """Not interested, thanks.

-----Original Message-----
From: Firm Securities <noreply@firm.example>
Sent: Monday, November 2, 2026 10:00 AM
Subject: Happy birthday
"""
FOXMAIL = """不需要了，谢谢


------------------ 原始邮件 ------------------
发件人: "某某证券"<noreply@firm.example>;
发送时间: 2026年11月2日(星期一) 上午10:00
收件人: "张三"<zhang.san@example.com>;
主题: 生日快乐

张先生：祝您生日快乐！
"""
APPLE_ZH = """可以

2026年11月2日 上午10:00，某某证券 <noreply@firm.example> 写道：

> 张先生：祝您生日快乐！
"""
BOTTOM_POSTED = """On Mon, Nov 2, 2026 at 10:00 AM Firm <noreply@firm.example> wrote:
> Would you like a call back?

Yes, after 3 pm.
--\x20
Zhang San
+852 9123 4567
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GMAIL, "Yes, please call me tomorrow afternoon."),
        (GMAIL_ZH, "好的，谢谢！明天下午方便。"),
        (OUTLOOK_ZH, "请明天下午给我打电话。"),
        (OUTLOOK_EN, "Not interested, thanks."),
        (FOXMAIL, "不需要了，谢谢"),
        (BOTTOM_POSTED, "Yes, after 3 pm."),
        (APPLE_ZH, "可以"),
        ("退订", "退订"),
        ("On Monday I wrote: nothing", "On Monday I wrote: nothing"),
    ],
    ids=[
        "gmail",
        "gmail-zh",
        "outlook-zh",
        "outlook-en",
        "foxmail",
        "bottom-posted",
        "apple-zh",
        "plain",
        "not-an-attribution",
    ],
)
def test_strip_quoted_reply(text: str, expected: str) -> None:
    assert strip_quoted_reply(text) == expected


def test_reply_parsed_with_token_thread_and_clean_text() -> None:
    raw = reply_mail(to=REPLY, text=GMAIL_ZH, in_reply_to=OURS)
    inbound = parse_email_inbound(raw, [REPLY], reply_domain=DOMAIN)
    assert inbound.channel == "email" and inbound.reply_token == "rTok_123"
    assert inbound.from_address == "zhang.san@example.com" and inbound.to_address == REPLY
    assert inbound.in_reply_to == OURS
    assert inbound.references == ("<older@example.com>", OURS)
    assert inbound.text == "好的，谢谢！明天下午方便。"
    assert inbound.subject == "回复：生日快乐"
    assert inbound.provider_id.startswith("<") and inbound.received_at.tzinfo is not None
    assert "祝您生日快乐" in inbound.raw["text_full"]


def test_token_from_headers_when_envelope_differs_and_domain_checked() -> None:
    raw = reply_mail(to=REPLY, text="好的")
    assert parse_email_inbound(raw, [f"inbox@{DOMAIN}"]).reply_token == "rTok_123"
    assert parse_email_inbound(raw, [REPLY], reply_domain="other.example").reply_token is None


def test_gbk_body_labelled_gb2312() -> None:
    # Clients label GBK text "gb2312"; 喆 is outside GB2312.
    body = "喆先生同意回访".encode("gbk")
    raw = (
        b"From: a@example.com\r\nTo: " + REPLY.encode() + b"\r\nSubject: re\r\n"
        b"Message-ID: <x1@example.com>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: text/plain; charset="gb2312"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'
        + body
        + b"\r\n"
    )
    assert parse_email_inbound(raw, [REPLY]).text == "喆先生同意回访"


def test_html_only_reply_drops_blockquote() -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "a@example.com", REPLY, "Re: 生日快乐"
    msg.set_content(
        "<div>可以，周三上午&nbsp;10 点</div><div class='gmail_quote'>"
        "<blockquote>祝您生日快乐！</blockquote></div>",
        subtype="html",
    )
    assert parse_email_inbound(msg.as_bytes(), [REPLY]).text == "可以，周三上午 10 点"


def test_dsn_hard_bounce() -> None:
    raw = dsn_mail(
        bounce_address=BOUNCE, failed_recipient="gone@example.com", original_message_id=OURS
    )
    bounce = parse_dsn(raw, [BOUNCE], reply_domain=DOMAIN)
    assert bounce == Bounce(
        token="bTok-456",
        status="5.1.1",
        permanent=True,
        address_unusable=True,
        recipient="gone@example.com",
        action="failed",
        diagnostic="smtp; 550 5.1.1 The email account that you tried to reach does not exist.",
        original_message_id=OURS,
    )
    token, status, permanent = bounce[:3]
    assert (token, status, permanent) == ("bTok-456", "5.1.1", True)


@pytest.mark.parametrize(
    ("status", "action", "permanent", "unusable"),
    [
        ("4.4.1", "delayed", False, False),
        ("5.7.1", "failed", True, False),
        ("5.2.1", "failed", True, True),
    ],
)
def test_dsn_kinds(status: str, action: str, permanent: bool, unusable: bool) -> None:
    raw = dsn_mail(
        bounce_address=BOUNCE, failed_recipient="x@example.com", status=status, action=action
    )
    bounce = parse_dsn(raw, [BOUNCE])
    assert bounce is not None and (bounce.permanent, bounce.address_unusable) == (
        permanent,
        unusable,
    )


def test_not_a_dsn() -> None:
    auto_reply = reply_mail(to=BOUNCE, text="I am out of office until Monday.")
    assert parse_dsn(auto_reply, [BOUNCE]) is None
    dsn = dsn_mail(bounce_address=REPLY, failed_recipient="x@example.com")
    assert parse_dsn(dsn, [REPLY]) is None


@pytest.fixture
async def receiver() -> AsyncIterator[
    tuple[int, list[InboundMessage | Bounce], InboundSmtpHandler]
]:
    received: list[InboundMessage | Bounce] = []

    async def callback(result: InboundMessage | Bounce) -> None:
        received.append(result)

    handler = InboundSmtpHandler(DOMAIN, callback)
    server = await start_inbound_smtp(handler, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1], received, handler
    server.close()
    await server.wait_closed()


def _smtplib_send(port: int, sender: str, rcpt: str, raw: bytes) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
        client.sendmail(sender, [rcpt], raw)


async def test_receiver_reply_and_bounce(
    receiver: tuple[int, list[InboundMessage | Bounce], InboundSmtpHandler],
) -> None:
    port, received, _ = receiver
    reply = reply_mail(to=REPLY, text=FOXMAIL, in_reply_to=OURS)
    await asyncio.to_thread(_smtplib_send, port, "zhang.san@example.com", REPLY, reply)
    dsn = dsn_mail(bounce_address=BOUNCE, failed_recipient="gone@example.com")
    await asyncio.to_thread(_smtplib_send, port, "", BOUNCE, dsn)
    forged = reply_mail(to=f"reply+NoSuchToken@{DOMAIN}", text="hello")
    await asyncio.to_thread(
        _smtplib_send, port, "x@example.com", f"reply+NoSuchToken@{DOMAIN}", forged
    )
    first, second, third = received
    assert isinstance(first, InboundMessage) and first.text == "不需要了，谢谢"
    assert first.reply_token == "rTok_123" and first.in_reply_to == OURS
    assert isinstance(second, Bounce) and second.token == "bTok-456" and second.permanent
    assert isinstance(third, InboundMessage) and third.reply_token == "NoSuchToken"


async def test_receiver_refuses_other_domains_and_defers_when_storing_fails(
    receiver: tuple[int, list[InboundMessage | Bounce], InboundSmtpHandler],
) -> None:
    port, received, handler = receiver
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        await asyncio.to_thread(
            _smtplib_send,
            port,
            "x@example.com",
            "someone@elsewhere.example",
            b"Subject: x\r\n\r\nx",
        )
    assert refused.value.recipients["someone@elsewhere.example"][0] == 550

    async def broken(result: InboundMessage | Bounce) -> None:
        raise RuntimeError("database down")

    handler.on_mail = broken
    with pytest.raises(smtplib.SMTPDataError) as deferred:
        await asyncio.to_thread(
            _smtplib_send, port, "x@example.com", REPLY, reply_mail(to=REPLY, text="好")
        )
    assert deferred.value.smtp_code == 451
    assert received == []
