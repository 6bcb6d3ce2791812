"""An address we had given up on is used again once the customer shows it works."""

from __future__ import annotations

from datetime import timedelta

from bot.db.models import AddressStatus
from bot.service import tokens
from tests.integration.inbound.conftest import ZHANG, Rig

CHAT = int(ZHANG["telegram_chat_id"])


async def _mark(rig: Rig, channel: str, address: str, status: str, reason: str) -> None:
    async with rig.app.sessions() as s:
        s.add(AddressStatus(channel=channel, address=address, status=status, reason=reason))
        await s.commit()


async def _state(rig: Rig, channel: str, address: str) -> str | None:
    async with rig.app.sessions() as s:
        state = await s.get(AddressStatus, (channel, address))
    return state.status if state else None


async def test_start_from_the_blocked_number_makes_it_usable_again(rig: Rig) -> None:
    """After STOP, Twilio refuses the number (21610) and we mark it unusable; START from
    that number lifts Twilio's block, so service SMS may go there again."""
    await rig.sms("STOP")
    await _mark(rig, "sms", ZHANG["phone"], "unusable", "sms 21610")
    await rig.sms("START")
    assert (await rig.customer("C1")).opted_out_at is None
    assert await _state(rig, "sms", ZHANG["phone"]) == "ok"


async def test_start_does_not_clear_a_wrong_person_mark(rig: Rig) -> None:
    """Whoever texts START from a number we know is not the customer's stays unknown to us."""
    await _mark(rig, "sms", ZHANG["phone"], "wrong_person", "reply: wrong person")
    await rig.sms("START")
    assert await _state(rig, "sms", ZHANG["phone"]) == "wrong_person"


async def test_relinking_a_chat_that_had_blocked_the_bot(rig: Rig) -> None:
    await _mark(rig, "telegram", ZHANG["telegram_chat_id"], "unusable", "telegram 403")
    async with rig.app.sessions() as s:
        token = await tokens.issue(s, "telegram", "C1", ttl=timedelta(days=7))
        await s.commit()
    await rig.update(rig.telegram.message_update(CHAT, f"/start {token}"))
    assert "绑定成功" in rig.telegram.sent[-1]["text"]
    assert await _state(rig, "telegram", ZHANG["telegram_chat_id"]) == "ok"
