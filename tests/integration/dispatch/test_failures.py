"""Sends that fail without sending: our own setup, an outage that hangs, a message cut off
meanwhile. Nothing is lost to `unknown` that we know did not go, and the circuit counts it."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from bot.bootstrap import build_channels
from bot.db.models import AddressStatus, Bundle, ChannelState, Message, Touch
from bot.service.dispatch.dispatcher import Dispatcher
from tests.integration.dispatch.conftest import Rig, planned
from tests.peers.telegram_api import BOT_ID


async def rows(rig: Rig, model: Any) -> list[Any]:
    async with rig.app.sessions() as s:
        return list((await s.exec(select(model).order_by(col(model.created_at)))).all())


async def state(rig: Rig, channel: str) -> ChannelState | None:
    async with rig.app.sessions() as s:
        return await s.get(ChannelState, channel)


def logged(caplog: pytest.LogCaptureFixture) -> str:
    """Our log lines with their tracebacks (the SMTP peer's own protocol log left out)."""
    ours = [r for r in caplog.records if not r.name.startswith(("mail.log", "aiosmtpd"))]
    return "\n".join(logging.Formatter().format(r) for r in ours)


@pytest.mark.parametrize(
    "rig", [{"twilio_auth_token": "rotated-by-someone", "circuit_failures": 2,
             "circuit_probe_seconds": 2, "dispatch_concurrency": 1}], indirect=True)
async def test_bad_twilio_credentials_degrade_the_channel_and_the_queue_waits(rig: Rig) -> None:
    """401/20003: nothing was sent. Not `unknown` (that would never be sent again): retried,
    counted in the circuit, the rest waits for the operator; nothing fails over to email."""
    await planned(rig, *({"id": f"C{i}", "phone": f"+8529123456{i}", "email": f"c{i}@example.com"}
                         for i in range(3)))
    stats = await rig.tick()
    assert stats.steps == {"retry": 2, "waiting_degraded": 1}
    assert rig.twilio.requests == 2  # the third waited once the channel was failing
    assert {m.status for m in await rows(rig, Message)} == {"retry"}
    assert {t.status for t in await rows(rig, Touch)} == {"planned"}
    assert {b.status for b in await rows(rig, Bundle)} == {"planned"}
    assert (channel := await state(rig, "sms")) is not None and channel.state == "degraded"
    rig.twilio.auth_token = "rotated-by-someone"  # the operator puts the new token in place
    for _ in range(4):
        rig.clock.advance(2.1)
        await rig.tick()
    assert sorted(m["to"] for m in rig.twilio.messages) == [f"+8529123456{i}" for i in range(3)]
    assert rig.smtp.mails == []
    assert {b.status for b in await rows(rig, Bundle)} == {"sent"}


async def test_smtp_login_required_is_retried_and_logs_no_address(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    """530 at RCPT (our settings lack the login): retried, counted, not `unknown`; the
    log says what kind of error it was, never the customer's address."""
    await planned(rig, {"phone": None, "email": "zhang.san@example.com", "channels": "email"})
    rig.smtp.refuse["zhang.san@example.com"] = "530 5.7.0 Authentication required"
    with caplog.at_level(logging.INFO):
        stats = await rig.tick()
    assert stats.steps == {"retry": 1}
    (message,) = await rows(rig, Message)
    assert (message.status, message.error_code, message.attempts) == ("retry", "530", 1)
    assert (channel := await state(rig, "email")) is not None and channel.failures == 1
    assert "ConfigurationError" in logged(caplog)
    assert "zhang.san" not in logged(caplog)
    del rig.smtp.refuse["zhang.san@example.com"]
    rig.clock.advance(60)
    assert (await rig.tick()).steps == {"sent": 1}
    assert len(rig.smtp.mails) == 1


@pytest.mark.parametrize("rig", [{"telegram_bot_token": f"{BOT_ID}:revoked-token"}], indirect=True)
async def test_revoked_telegram_token_is_retried_not_unknown(rig: Rig) -> None:
    await planned(rig, {"phone": None, "telegram_chat_id": "555123456", "channels": "telegram"})
    assert (await rig.tick()).steps == {"retry": 1}
    (message,) = await rows(rig, Message)
    assert message.status == "retry" and rig.telegram.sent == []
    assert (channel := await state(rig, "telegram")) is not None and channel.failures == 1


async def test_region_not_enabled_goes_to_the_next_channel(rig: Rig) -> None:
    """Twilio 21408 (SMS to this region not enabled on the account): that number cannot be
    reached by our SMS today, so the email goes now; the number itself is not condemned."""
    await planned(rig, {"phone": "+85291234567", "email": "zhang@example.com"})
    rig.twilio.fail_next(1, 400, code=21408)
    assert (await rig.tick()).steps == {"sent": 1}
    sms, email = await rows(rig, Message)
    assert (sms.status, sms.error_code) == ("failed", "21408")
    assert (email.channel, email.status) == ("email", "sent")
    async with rig.app.sessions() as s:
        assert await s.get(AddressStatus, ("sms", "+85291234567")) is None


@pytest.mark.parametrize(
    "rig", [{"circuit_failures": 3, "circuit_probe_seconds": 2, "dispatch_concurrency": 1}],
    indirect=True)
async def test_a_hanging_provider_degrades_the_channel_instead_of_losing_the_queue(
    rig: Rig,
) -> None:
    """Twilio takes requests and never answers (read timeouts): each such send is `unknown`
    (it may have gone), but they count in the circuit, so after CIRCUIT_FAILURES the rest of
    the queue waits for the probe instead of every message turning `unknown`."""
    await planned(rig, *({"id": f"C{i}", "phone": f"+8529123456{i}"} for i in range(6)))
    rig.twilio.fail_next(3, 500, delay=1.0)
    http = httpx.AsyncClient(timeout=0.2, trust_env=False)
    channels = build_channels(rig.app.settings, http)
    try:
        dispatcher = Dispatcher(rig.app, channels, clock=rig.clock)
        stats = await dispatcher.tick()
        assert stats.steps == {"unknown": 3, "waiting_degraded": 1}  # a batch of 4
        assert (channel := await state(rig, "sms")) is not None and channel.state == "degraded"
        for _ in range(4):
            rig.clock.advance(2.1)
            await dispatcher.tick()
    finally:
        await channels.close()
    assert sorted(m["to"] for m in rig.twilio.messages) == [f"+8529123456{i}" for i in (3, 4, 5)]
    assert sorted(b.status for b in await rows(rig, Bundle)) == ["sent"] * 3 + ["unknown"] * 3
