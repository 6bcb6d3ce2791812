"""Auto-replies through the real SMTP receiver: stored and recorded, never answered, never the
customer's reply to a touch, no callback. Raw mails from tests/data/mail."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.db.models import Callback, Message, Touch
from bot.run.receivers import Receivers, start_receivers
from tests.integration.inbound.conftest import ZHANG, Rig
from tests.integration.inbound.test_email_receiver import DOMAIN, email_sent, send_mail

MAIL = Path(__file__).resolve().parents[2] / "data" / "mail"
REPLY = f"reply+rTok123@{DOMAIN}"
BOUNCE = f"bounce+bTok456@{DOMAIN}"


@pytest.fixture
async def receiver(rig: Rig) -> AsyncIterator[Receivers]:
    started = await start_receivers(rig.app, channels=rig.channels, telegram=False)
    yield started
    await started.stop()


async def _answered_or_opened(rig: Rig) -> tuple[list[str], int, int]:
    touches = [t.status for t in await rig.rows(Touch)]
    callbacks = len(await rig.rows(Callback))
    answers = len(await rig.rows(Message, Message.direction == "out",
                                 Message.bundle_id.is_(None)))  # type: ignore[union-attr]
    return touches, callbacks, answers


@pytest.mark.parametrize(("name", "to", "why"), [
    # subject only (QQ's vacation reply, Exchange's 自动答复), to the reply address
    ("auto_qq_vacation.eml", REPLY, "subject: 自动回复"),
    ("auto_outlook_oof_zh.eml", REPLY, "subject: 自动答复"),
    # an OOF body under an ordinary subject; headers; Exchange answers the envelope sender
    ("auto_body_only_zh.eml", BOUNCE, "out-of-office text"),
    ("auto_x_autoreply.eml", REPLY, "X-Autoreply"),
    ("auto_precedence.eml", BOUNCE, "Precedence: auto_reply"),
    ("auto_gmail_vacation.eml", REPLY, "Auto-Submitted: auto-replied"),
])
async def test_auto_reply_is_recorded_and_not_acted_on(rig: Rig, receiver: Receivers,
                                                       name: str, to: str, why: str) -> None:
    await email_sent(rig)
    await send_mail(receiver, to, (MAIL / name).read_bytes(), ZHANG["email"])
    [stored] = await rig.inbound()
    assert stored.customer_id == "C1" and stored.body
    assert stored.intent is None  # not classified
    [event] = await rig.events("reply.auto_reply")
    assert why in event.summary and stored.id in (event.payload or "")
    await asyncio.sleep(0.1)  # anything queued would be sent by now
    assert await _answered_or_opened(rig) == (["sent"], 0, 0)
    assert rig.smtp.mails == []


async def test_auto_submitted_no_is_a_reply(rig: Rig, receiver: Receivers) -> None:
    """"Auto-Submitted: No" (any case) is a person writing: the touch is answered."""
    await email_sent(rig)
    mail = (MAIL / "human_auto_submitted_no.eml").read_bytes()
    await send_mail(receiver, REPLY, mail, ZHANG["email"])
    [stored] = await rig.inbound()
    assert stored.body == "我现在不在办公室，下午三点后打给我。" and stored.intent is not None
    assert await rig.events("reply.auto_reply") == []
    touches, _, _ = await _answered_or_opened(rig)
    assert touches == ["answered"]
