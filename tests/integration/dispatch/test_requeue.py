"""A later permanent failure (a bounce) hands the bundle back for the customer's next channel."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.db.models import Bundle, LinkToken, Message
from bot.service.dispatch.reports import apply_bounce
from channels.email_parse import Bounce
from tests.integration.dispatch.conftest import Rig, planned


@pytest.mark.parametrize("rig", [{"sms_routes": "+86:log,*:twilio"}], indirect=True)
async def test_a_bounce_requeues_the_bundle_even_beside_a_logged_sms(rig: Rig) -> None:
    """Mainland numbers go to the log route: the logged SMS and the email are written in the
    same instant, so which one is "latest" must not decide whether the bounce requeues."""
    await planned(rig, *({"id": f"C{i:02d}", "phone": f"+86138000000{i:02d}",
                          "email": f"c{i}@example.com", "telegram_chat_id": f"55500{i:02d}"}
                         for i in range(12)))
    assert (await rig.tick()).steps == {"sent": 12}
    async with rig.app.sessions() as s:
        tokens = (await s.exec(select(LinkToken).where(LinkToken.purpose == "bounce"))).all()
        assert len(tokens) == 12
        requeued = []
        for token in tokens:
            applied = await apply_bounce(s, Bounce(token.id, "5.1.1", True, True, None, "failed",
                                                   None, None))
            requeued.append(applied.requeued_bundle)
        await s.commit()
    assert None not in requeued
    async with rig.app.sessions() as s:
        assert {b.status for b in (await s.exec(select(Bundle))).all()} == {"planned"}
    rig.clock.advance(5)
    assert (await rig.tick()).steps == {"sent": 12}
    assert len(rig.telegram.sent) == 12
    async with rig.app.sessions() as s:
        statuses = sorted((m.channel, m.status) for m in (await s.exec(select(Message))).all())
    assert set(statuses) == {("email", "failed"), ("sms", "logged"), ("telegram", "sent")}
