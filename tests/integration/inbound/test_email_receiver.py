"""Replies and bounces through the real SMTP receiver, sent with smtplib."""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import AsyncIterator

import pytest

from bot.db.models import AddressStatus, Bundle, ConsentChange, LinkToken, Message
from bot.run.receivers import Receivers, start_receivers
from tests.integration.inbound.conftest import ZHANG, Rig, sent_bundle
from tests.peers.mail import dsn_mail, reply_mail

DOMAIN = "replies.localhost"
OUR_MESSAGE_ID = "<179589686721.12620.1738.msg-1@replies.localhost>"
GMAIL_REPLY = """请明天下午给我打电话。

On Mon, Nov 2, 2026 at 10:00 AM Firm Securities <noreply@firm.example>
wrote:

> 张先生：
> 祝您生日快乐！
"""


@pytest.fixture
async def receiver(rig: Rig) -> AsyncIterator[Receivers]:
    started = await start_receivers(rig.app, channels=rig.channels, telegram=False)
    yield started
    await started.stop()


async def send_mail(receivers: Receivers, rcpt: str, data: bytes,
                    mail_from: str = ZHANG["email"]) -> None:
    def go() -> None:
        with smtplib.SMTP("127.0.0.1", receivers.smtp_port or 0, timeout=5) as client:
            client.sendmail(mail_from, [rcpt], data)

    await asyncio.to_thread(go)


async def email_sent(rig: Rig) -> tuple[int, str]:
    bundle_id, message_id = await sent_bundle(rig.app, "C1", "email", ZHANG["email"],
                                              OUR_MESSAGE_ID, status="sent")
    async with rig.app.sessions() as s:
        s.add(LinkToken(id="rTok123", purpose="reply", customer_id="C1", message_id=message_id))
        s.add(LinkToken(id="bTok456", purpose="bounce", customer_id="C1", message_id=message_id))
        await s.commit()
    return bundle_id, message_id


async def wait_for(rig: Rig, predicate: object, timeout: float = 3.0) -> None:
    async with asyncio.timeout(timeout):
        while not await predicate():  # type: ignore[operator]
            await asyncio.sleep(0.02)


async def test_reply_threads_by_token_and_strips_quoted_history(
        rig: Rig, receiver: Receivers) -> None:
    await email_sent(rig)
    mail = reply_mail(to=f"reply+rTok123@{DOMAIN}", from_="Someone <other@example.org>",
                      text=GMAIL_REPLY)
    await send_mail(receiver, f"reply+rTok123@{DOMAIN}", mail, "other@example.org")
    [stored] = await rig.inbound()
    assert stored.customer_id == "C1" and stored.in_reply_to == "msg-1"
    assert stored.body == "请明天下午给我打电话。"
    assert stored.address == "other@example.org" and stored.provider_id
    assert rig.smtp.mails == []  # an ordinary reply gets no automatic answer


async def test_reply_threads_by_in_reply_to(rig: Rig, receiver: Receivers) -> None:
    await email_sent(rig)
    mail = reply_mail(to="noreply@replies.localhost", from_="X <x@example.net>",
                      text="好的，谢谢", in_reply_to=OUR_MESSAGE_ID)
    await send_mail(receiver, f"anything@{DOMAIN}", mail, "x@example.net")
    [stored] = await rig.inbound()
    assert (stored.customer_id, stored.in_reply_to, stored.body) == ("C1", "msg-1", "好的，谢谢")


async def test_forged_token_is_stored_unmatched(rig: Rig, receiver: Receivers) -> None:
    mail = reply_mail(to=f"reply+forged99@{DOMAIN}", from_="x <x@example.net>", text="hi")
    await send_mail(receiver, f"reply+forged99@{DOMAIN}", mail, "x@example.net")
    [stored] = await rig.inbound()
    assert stored.customer_id is None


async def test_other_domains_are_refused(rig: Rig, receiver: Receivers) -> None:
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        await send_mail(receiver, "someone@example.com", b"Subject: x\r\n\r\nhi\r\n")
    assert await rig.inbound() == []


async def test_email_opt_out_is_confirmed_by_email_once(rig: Rig, receiver: Receivers) -> None:
    await email_sent(rig)
    for _ in range(2):
        mail = reply_mail(to=f"reply+rTok123@{DOMAIN}", from_=ZHANG["email"], text="退订\n\n> 祝您生日快乐",
                          subject="回复：生日快乐")
        await send_mail(receiver, f"reply+rTok123@{DOMAIN}", mail)

    async def confirmed() -> bool:
        return len(await rig.rows(Message, Message.direction == "out",
                                  Message.bundle_id.is_(None))) == 1  # type: ignore[union-attr]

    await wait_for(rig, confirmed)
    await asyncio.sleep(0.1)
    [mail_out] = rig.smtp.mails
    assert mail_out.rcpt_tos == [ZHANG["email"]]
    assert "您已退订" in mail_out.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert len(await rig.rows(ConsentChange)) == 1
    assert (await rig.customer("C1")).opted_out_at is not None


async def test_permanent_dsn_marks_the_address_and_requeues(rig: Rig, receiver: Receivers) -> None:
    bundle_id, _ = await email_sent(rig)
    report = dsn_mail(bounce_address=f"bounce+bTok456@{DOMAIN}", failed_recipient=ZHANG["email"],
                      original_message_id=OUR_MESSAGE_ID)
    await send_mail(receiver, f"bounce+bTok456@{DOMAIN}", report, "")
    [address] = await rig.rows(AddressStatus)
    assert (address.channel, address.address, address.status) == ("email", ZHANG["email"],
                                                                   "unusable")
    [message] = await rig.rows(Message, Message.id == "msg-1")
    assert (message.status, message.error_code) == ("failed", "5.1.1")
    [bundle] = await rig.rows(Bundle, Bundle.id == bundle_id)
    assert bundle.status == "planned"
    assert await rig.inbound() == []  # a bounce is not a customer reply


async def test_delayed_dsn_changes_nothing(rig: Rig, receiver: Receivers) -> None:
    await email_sent(rig)
    report = dsn_mail(bounce_address=f"bounce+bTok456@{DOMAIN}", failed_recipient=ZHANG["email"],
                      status="4.4.1", action="delayed")
    await send_mail(receiver, f"bounce+bTok456@{DOMAIN}", report, "")
    assert await rig.rows(AddressStatus) == []
    assert len(await rig.events("message.delayed")) == 1
