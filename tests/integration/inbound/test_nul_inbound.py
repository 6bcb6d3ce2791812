"""NUL characters in inbound payloads (PostgreSQL refuses \\x00 in text) are stripped before
storing, and a failing SQL statement never logs its parameter values (addresses, bodies)."""
from __future__ import annotations

import logging
import traceback

import pytest
import sqlalchemy as sa
from sqlmodel import select

from bot.bootstrap import App
from bot.db.models import Branch, Customer, Message
from bot.service.inbound.processor import InboundProcessor
from channels.email_smtp import InboundSmtpHandler
from tests.integration.inbound.conftest import ZHANG, Rig, rig  # noqa: F401

RAW = (b"From: =?utf-8?b?5byg5LiJ?= <zhang.san@example.com>\r\nTo: reply+abc@replies.localhost\r\n"
       b"Subject: Re: hi\r\nMessage-ID: <nul-1@example.com>\r\n"
       b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
       b"=E6=88=91=E8=A6=81=E6=8A=95=E8=AF=89=00=00\r\n")


class _Envelope:
    def __init__(self) -> None:
        self.original_content = RAW
        self.content = RAW
        self.rcpt_tos = ["reply+abc@replies.localhost"]


def _leaks(records: list[logging.LogRecord], needle: str) -> list[logging.LogRecord]:
    def text(r: logging.LogRecord) -> str:
        exc = "".join(traceback.format_exception(*r.exc_info)) if r.exc_info else ""
        return r.getMessage() + (r.exc_text or "") + exc
    return [r for r in records if needle in text(r)]


async def test_nul_in_email_is_stored(app: App, caplog: pytest.LogCaptureFixture) -> None:
    async with app.sessions() as s:
        s.add(Branch(code="SH01", name="SH"))
        await s.flush()
        s.add(Customer(id="C1", name="张三", branch_code="SH01", email="zhang.san@example.com"))
        await s.commit()
    processor = InboundProcessor(app.sessions, app.settings, lambda: None)  # type: ignore[arg-type, return-value]

    async def on_mail(item: object) -> None:
        await processor.handle(item)  # type: ignore[arg-type]

    caplog.set_level(logging.INFO)
    handler = InboundSmtpHandler("replies.localhost", on_mail)
    answer = await handler.handle_DATA(object(), None, _Envelope())  # type: ignore[arg-type]
    assert answer.startswith("250"), answer
    async with app.sessions() as s:
        [stored] = (await s.exec(select(Message).where(Message.direction == "in"))).all()
    assert stored.body == "我要投诉" and stored.customer_id == "C1"
    assert not _leaks(caplog.records, "zhang.san@example.com")


async def test_sms_with_nul(rig: Rig) -> None:  # noqa: F811
    r = await rig.sms("我要投诉\x00")
    assert r.status_code == 200
    [stored] = await rig.inbound()
    assert stored.body == "我要投诉" and "\x00" not in (stored.raw or "")


async def test_telegram_with_nul(rig: Rig) -> None:  # noqa: F811
    chat = int(ZHANG["telegram_chat_id"])
    update = {"update_id": 1, "message": {
        "message_id": 7, "date": 1700000000, "chat": {"id": chat, "type": "private"},
        "from": {"id": chat, "is_bot": False, "first_name": "x\u0000"}, "text": "我要投诉\u0000"}}
    r = await rig.update(update)
    assert r.status_code == 200
    [stored] = await rig.inbound()
    assert stored.body == "我要投诉"


async def test_failing_statement_does_not_show_its_parameters(app: App) -> None:
    insert = sa.text("INSERT INTO message (id, direction, channel, address, body, status, attempts,"
                     " needs_review, created_at, updated_at) VALUES (:id, 'in', 'email', :a, :b,"
                     " 'received', 0, false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")
    values = {"id": "dup-1", "a": "zhang.san@example.com", "b": "私人内容"}
    async with app.sessions() as s:
        conn = await s.connection()
        await conn.execute(insert, values)
        with pytest.raises(sa.exc.IntegrityError) as failed:
            await conn.execute(insert, values)  # the same primary key again
    shown = str(failed.value)
    assert "INSERT INTO message" in shown
    assert "zhang.san@example.com" not in shown and "私人内容" not in shown
