"""Interrupted sends: nothing lost, nothing doubled, nothing left `unknown` (issue: reliability).

A message is `sending` only while its request is out; a shutdown finishes those and hands the
rest back; an `unknown` send is settled by the provider's list, or by the channel's rule.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlmodel import col, select

from bot.db.models import Bundle, Event, Message, Touch
from bot.service.dispatch.claim import claim
from bot.service.dispatch.lastlook import start_call
from bot.service.dispatch.reconcile import reconcile_unknown
from tests.integration.dispatch.conftest import Rig, planned
from tests.integration.dispatch.test_dispatch import prepare_only

PHONES = [f"+8529123456{i}" for i in range(4)]
ONE_A_SECOND = {"twilio_rate_per_second": 1}


async def rows(rig: Rig, model: Any) -> list[Any]:
    async with rig.app.sessions() as s:
        order = model.created_at if hasattr(model, "created_at") else model.id
        return list((await s.exec(select(model).order_by(col(order)))).all())


async def statuses(rig: Rig, model: Any) -> list[str]:
    return sorted(r.status for r in await rows(rig, model) if getattr(r, "direction", "out") == "out"
                  and getattr(r, "bundle_id", 1) is not None)


async def first_request(rig: Rig) -> None:
    while rig.twilio.requests == 0:
        await asyncio.sleep(0.01)


async def send_the_rest(rig: Rig) -> None:
    for _ in range(10):
        rig.clock.advance(5)
        await rig.tick()


@pytest.mark.parametrize("rig", [ONE_A_SECOND], indirect=True)
async def test_shutdown_finishes_the_call_out_and_hands_back_the_rest(rig: Rig) -> None:
    """SIGTERM mid-batch: the send whose request is out is recorded; the three waiting for
    their rate slots go back unsent (same message, planned again), and go once later."""
    await planned(rig, *({"id": f"C{i}", "phone": p} for i, p in enumerate(PHONES)))
    rig.twilio.answer_delay = 0.5
    dispatcher = rig.make()
    tick = asyncio.create_task(dispatcher.tick())
    await first_request(rig)
    assert await dispatcher.drain(grace=5) is True
    stats = await tick
    assert stats.steps == {"sent": 1, "released": 3}
    assert len(rig.twilio.messages) == 1
    assert await statuses(rig, Message) == ["queued", "retry", "retry", "retry"]
    assert await statuses(rig, Bundle) == ["planned", "planned", "planned", "sent"]
    assert "sending" not in await statuses(rig, Touch)
    assert (await dispatcher.tick()).claimed == 0  # a drained dispatcher claims nothing
    before = {m.id for m in await rows(rig, Message)}
    await send_the_rest(rig)
    assert sorted(m["to"] for m in rig.twilio.messages) == PHONES  # each once
    assert {m.id for m in await rows(rig, Message)} == before  # the same messages went
    assert await statuses(rig, Message) == ["queued"] * 4


async def test_a_call_that_outlasts_the_grace_is_reconciled_not_repeated(rig: Rig) -> None:
    """Twilio took the message but answers after the grace: the process stops without its
    answer. The send is `unknown`, then found in Twilio's list: sent, once."""
    await planned(rig, {"phone": PHONES[0]})
    rig.twilio.answer_delay = 3.0
    dispatcher = rig.make()
    tick = asyncio.create_task(dispatcher.tick())
    await first_request(rig)
    await asyncio.sleep(0.2)
    assert await dispatcher.drain(grace=0.2) is False
    tick.cancel()
    (message,) = await rows(rig, Message)
    assert message.status == "sending"
    rig.clock.advance(180)
    await rig.tick()  # the next worker finds it cut off
    assert await statuses(rig, Message) == ["unknown"]
    assert await reconcile_unknown(rig.app, rig.channels, now=rig.clock.now) == 1
    (message,) = await rows(rig, Message)
    assert message.provider_id == rig.twilio.messages[0]["sid"]
    await send_the_rest(rig)
    assert len(rig.twilio.messages) == 1
    assert await statuses(rig, Touch) == ["sent"]


async def test_an_unknown_send_twilio_never_got_goes_again_after_the_grace(rig: Rig) -> None:
    """The connection closed before Twilio created the message: `unknown`; Twilio's list does
    not have it, and after RECONCILE_GRACE_MINUTES that counts: the same message goes once."""
    await planned(rig, {"phone": PHONES[0]})
    (bundle_id,) = await claim(rig.app.engine, rig.clock.now, 10)
    _, send = await prepare_only(rig, rig.make(), bundle_id)  # the request left, then died
    rig.clock.advance(180)
    await rig.tick()
    assert await statuses(rig, Message) == ["unknown"]
    assert await reconcile_unknown(rig.app, rig.channels, now=rig.clock.now) == 0  # too soon
    assert await statuses(rig, Message) == ["unknown"]
    rig.clock.advance(10 * 60)
    assert await reconcile_unknown(rig.app, rig.channels, now=rig.clock.now) == 1
    assert await statuses(rig, Message) == ["retry"]
    await send_the_rest(rig)
    (message,) = await rows(rig, Message)
    assert message.id == send.message_id and message.status == "queued"  # type: ignore[attr-defined]
    assert len(rig.twilio.messages) == 1
    assert await statuses(rig, Touch) == ["sent"]
    events = [e.type for e in await rows(rig, Event)]
    assert "message.interrupted" in events and "message.reconciled" in events


async def test_an_unknown_email_is_settled_at_most_once(rig: Rig) -> None:
    """SMTP cannot say what it received: after the grace the new-account touch counts as
    sent and is never repeated (its usual rule then applies: no reply, a callback)."""
    await planned(rig, {"email": "zhang@example.com", "channels": "email"})
    (bundle_id,) = await claim(rig.app.engine, rig.clock.now, 10)
    await prepare_only(rig, rig.make(), bundle_id)
    rig.clock.advance(180)
    await rig.tick()
    assert await statuses(rig, Message) == ["unknown"]
    rig.clock.advance(10 * 60)
    assert await reconcile_unknown(rig.app, rig.channels, now=rig.clock.now) == 1
    assert await statuses(rig, Message) == ["unconfirmed"]
    assert await statuses(rig, Touch) == ["sent"]
    assert await statuses(rig, Bundle) == ["sent"]
    await send_the_rest(rig)
    assert rig.smtp.mails == []
    (event,) = [e for e in await rows(rig, Event) if e.type == "message.reconciled"]
    assert "not repeated" in event.summary


async def test_a_stale_worker_never_sends_what_another_took_over(rig: Rig) -> None:
    """Worker A prepared the send and stalled past the claim time-out; worker B released the
    claim and sent the message. When A wakes, its send is refused: one SMS in all."""
    await planned(rig, {"phone": PHONES[0]})
    (bundle_id,) = await claim(rig.app.engine, rig.clock.now, 10)
    _, stalled = await prepare_only(rig, rig.make(), bundle_id, started=False)
    rig.clock.advance(180)
    await rig.tick()
    assert len(rig.twilio.messages) == 1
    assert await start_call(rig.app, stalled, rig.clock.now, False) == "released"  # type: ignore[arg-type]
    assert len(rig.twilio.messages) == 1


@pytest.mark.parametrize(("fault", "stored", "status"), [
    ("close_before", 0, "queued"),  # sent again: Twilio's answer to the new request
    ("close_after", 1, "sent"),  # found in Twilio's list, with the status it has there
])
async def test_a_connection_cut_by_twilio_ends_sent_once(rig: Rig, fault: str, stored: int,
                                                         status: str) -> None:
    """Twilio closes the connection before or after creating the message: `unknown` either
    way; its list then settles it, and the customer has exactly one SMS."""
    await planned(rig, {"phone": PHONES[0]})
    rig.twilio.faults = [fault]
    assert (await rig.tick()).steps == {"unknown": 1}
    assert len(rig.twilio.messages) == stored
    rig.clock.advance(10 * 60)
    assert await reconcile_unknown(rig.app, rig.channels, now=rig.clock.now) == 1
    await send_the_rest(rig)
    assert len(rig.twilio.messages) == 1
    assert await statuses(rig, Message) == [status]
    assert await statuses(rig, Touch) == ["sent"]
