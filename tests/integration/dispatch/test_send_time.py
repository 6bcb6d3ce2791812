"""What changes while a prepared send waits for its rate slot or its provider: a pause, an
opt-out, the send being taken for interrupted. The last look happens at the call."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import pytest
from sqlmodel import col, select
from typer.testing import CliRunner

from bot.db.models import Bundle, Message, Touch
from bot.service.admin.pause import pause, resume
from bot.service.customers.consent import withdraw_consent
from bot.service.dispatch.dispatcher import SEND_TIMEOUT
from bot.service.dispatch.ratelimit import reserve
from bot.service.dispatch.reconcile import mark_interrupted
from tests.conftest import PG_URL
from tests.integration.dispatch.conftest import Rig, planned

HK = "+85291234567"
SLOW = {"twilio_rate_per_second": 0.5}  # a slot every 2 s: the second send waits for it


async def rows(rig: Rig, model: Any) -> list[Any]:
    async with rig.app.sessions() as s:
        return list((await s.exec(select(model).order_by(col(model.created_at)))).all())


async def slot_taken(rig: Rig) -> None:
    """Another send holds the next SMS slot, so the tick's send waits about 2 s for its own."""
    await reserve(rig.app.engine, "sms:twilio", SLOW["twilio_rate_per_second"])


@pytest.mark.parametrize("rig", [SLOW], indirect=True)
async def test_a_pause_while_waiting_for_the_slot_stops_the_send(rig: Rig) -> None:
    await planned(rig, {"phone": HK})
    await slot_taken(rig)
    tick = asyncio.create_task(rig.tick())
    await asyncio.sleep(0.5)
    async with rig.app.sessions() as s:
        await pause(s, None, "sms", "test")
        await s.commit()
    assert (await tick).steps == {"paused": 1}
    assert rig.twilio.messages == []
    (message,) = await rows(rig, Message)
    assert message.status == "retry" and message.attempts == 0
    assert [t.status for t in await rows(rig, Touch)] == ["planned"]
    async with rig.app.sessions() as s:
        await resume(s, None, "sms", "test")
        await s.commit()
    rig.clock.advance(10)
    assert (await rig.tick()).steps == {"sent": 1}
    assert [m["body"] for m in rig.twilio.messages] == [message.body]  # the same message, once


@pytest.mark.parametrize("rig", [SLOW], indirect=True)
async def test_an_opt_out_while_waiting_for_the_slot_stops_a_greeting(rig: Rig) -> None:
    await planned(rig, {"phone": HK, "birthday": date(1980, 3, 3), "opened_on": date(2020, 1, 6)})
    await slot_taken(rig)
    tick = asyncio.create_task(rig.tick())
    await asyncio.sleep(0.5)
    async with rig.app.sessions() as s:  # "TD" on another channel, just now
        await withdraw_consent(s, "C1", source="keyword", channel="email")
        await s.commit()
    assert (await tick).steps == {"suppressed": 1}
    assert rig.twilio.messages == []
    (touch,) = [t for t in await rows(rig, Touch) if t.kind == "birthday"]
    assert (touch.status, touch.reason) == ("suppressed", "no_consent_at_send")
    (bundle,) = await rows(rig, Bundle)
    assert bundle.status == "suppressed"
    (message,) = await rows(rig, Message)
    assert message.status == "cancelled"  # never handed to Twilio


@pytest.mark.parametrize("rig", [SLOW], indirect=True)
async def test_an_opt_out_while_waiting_leaves_the_service_touch_to_go_without_the_greeting(
    rig: Rig,
) -> None:
    """A new-account follow-up bundled with a birthday greeting: the greeting is dropped, the
    follow-up (no consent needed) is composed again without it and sent."""
    await planned(rig, {"phone": HK, "birthday": date(1980, 3, 3)})
    await slot_taken(rig)
    tick = asyncio.create_task(rig.tick())
    await asyncio.sleep(0.5)
    async with rig.app.sessions() as s:
        await withdraw_consent(s, "C1", source="keyword", channel="email")
        await s.commit()
    await tick
    assert rig.twilio.messages == []
    rig.clock.advance(5)
    assert (await rig.tick()).steps == {"sent": 1}
    first, second = await rows(rig, Message)
    assert (first.status, second.status) == ("cancelled", "queued")
    assert {t.kind: t.status for t in await rows(rig, Touch) if t.bundle_id} == {
        "new_account": "sent", "birthday": "suppressed"}
    (sent,) = rig.twilio.messages
    assert sent["body"] == second.body != first.body


@pytest.mark.parametrize("rig", [SLOW], indirect=True)
async def test_the_interruption_cutoff_counts_from_the_provider_call(rig: Rig) -> None:
    """A send that waited long for its slot is not taken for interrupted while Twilio answers:
    the two minutes run from the call, not from preparing."""
    await planned(rig, {"phone": HK})
    await slot_taken(rig)
    rig.twilio.answer_delay = 2.0
    tick = asyncio.create_task(rig.tick())
    await asyncio.sleep(0.5)
    rig.clock.advance(180)  # the wait for the slot (shared with other processes) was long
    await asyncio.sleep(2.5)  # now Twilio has the request and has not answered yet
    assert await mark_interrupted(rig.app, rig.clock.now - SEND_TIMEOUT) == 0
    assert (await tick).steps == {"sent": 1}
    (message,) = await rows(rig, Message)
    assert message.status == "queued" and len(rig.twilio.messages) == 1


@pytest.mark.parametrize(("status", "code"), [(503, None), (400, 21614)])
async def test_a_send_marked_interrupted_during_its_call_stays_unknown(
    rig: Rig, status: int, code: int | None
) -> None:
    """Something marked the send `unknown` while Twilio was answering (a second dispatcher
    on the same SQLite file did, at its start). Its failure then moves nothing back: the
    bundle is not re-planned without its touches, and later ticks neither crash nor send."""
    await planned(rig, {"phone": HK, "email": "zhang@example.com"})
    rig.twilio.fail_next(1, status, code=code, delay=2.0)
    tick = asyncio.create_task(rig.tick())
    while rig.twilio.requests == 0:  # Twilio has the request and holds its answer
        await asyncio.sleep(0.01)
    assert await mark_interrupted(rig.app, rig.clock.now + SEND_TIMEOUT) == 1
    assert (await tick).steps == {"unknown": 1}
    (message,) = await rows(rig, Message)
    assert message.status == "unknown"
    assert [b.status for b in await rows(rig, Bundle)] == ["unknown"]
    assert [t.status for t in await rows(rig, Touch)] == ["unknown"]
    rig.clock.advance(60)
    assert (await rig.tick()).steps == {}
    assert rig.smtp.mails == []


async def test_a_send_marked_interrupted_during_its_call_is_settled_when_accepted(rig: Rig) -> None:
    """Twilio accepted it after all: the answer settles the `unknown` mark (provider id
    recorded, message, touches and bundle sent), as a status callback would."""
    await planned(rig, {"phone": HK})
    rig.twilio.answer_delay = 2.0
    tick = asyncio.create_task(rig.tick())
    while rig.twilio.requests == 0:  # Twilio has the request and holds its answer
        await asyncio.sleep(0.01)
    assert await mark_interrupted(rig.app, rig.clock.now + SEND_TIMEOUT) == 1
    assert (await tick).steps == {"sent": 1}
    (message,) = await rows(rig, Message)
    assert (message.status, message.provider_id) == ("queued", rig.twilio.messages[0]["sid"])
    assert [t.status for t in await rows(rig, Touch)] == ["sent"]
    assert [b.status for b in await rows(rig, Bundle)] == ["sent"]


async def test_a_bundle_with_nothing_left_to_send_is_closed_not_crashed_on(rig: Rig) -> None:
    await planned(rig, {"phone": HK})
    async with rig.app.sessions() as s:
        for touch in (await s.exec(select(Touch))).all():
            touch.status = "unknown"
            s.add(touch)
        await s.commit()
    stats = await rig.tick()
    assert stats.claimed == 1 and "error" not in stats.steps
    assert rig.twilio.messages == []
    assert (await rig.tick()).claimed == 0


@pytest.mark.skipif(bool(PG_URL), reason="the run lock is for SQLite files")
def test_dispatch_refuses_to_run_beside_outreach_run(cli_env: dict[str, str]) -> None:
    """`outreach dispatch` marks every `sending` message interrupted at its start: beside a
    running `outreach run` on the same SQLite file that would catch its sends in flight."""
    from bot.cli import app as cli
    from bot.run.runner import sqlite_run_lock

    with sqlite_run_lock(cli_env["OUTREACH_DATABASE_URL"]):
        result = CliRunner().invoke(cli, ["dispatch", "--once"])
    assert result.exit_code == 2 and "outreach run" in result.output
    result = CliRunner().invoke(cli, ["dispatch", "--once"])
    assert result.exit_code == 0, result.output

