"""A reschedule that joins the customer's open callback moves it to the time asked."""

from __future__ import annotations

import json
from datetime import date

from sqlmodel import select

from bot.bootstrap import App
from bot.db.models import Event, Staff
from bot.service.callbacks.queue import claim_next
from tests.integration.planning.helpers import at
from tests.integration.replies.test_handle_reply import DAY, reply, sent_bundle


async def test_reschedule_joining_open_callback_sets_time_asked(app: App) -> None:
    out = await sent_bundle(app, opened_on=date(2026, 3, 2))
    first = await reply(app, "你们APP太卡了", at(DAY, 10, 0), out.id)
    assert first is not None and first.due_at is None
    joined = await reply(app, "在开会，下午三点后再联系", at(DAY, 10, 15), out.id)
    assert joined is not None and joined.id == first.id
    assert joined.due_at == at(DAY, 15, 0)  # do not call during the meeting
    assert any("reschedule" in r for r in json.loads(joined.reasons))
    async with app.sessions() as s:
        moved = [e for e in (await s.exec(select(Event))).all() if e.type == "callback.rescheduled"]
    assert len(moved) == 1


async def test_other_reply_joining_keeps_the_time_asked(app: App) -> None:
    out = await sent_bundle(app, opened_on=date(2026, 3, 2))
    first = await reply(app, "在开会，下午三点后再联系", at(DAY, 10, 15), out.id)
    assert first is not None and first.due_at == at(DAY, 15, 0)
    joined = await reply(app, "你们APP太卡了", at(DAY, 10, 30), out.id)
    assert joined is not None and joined.id == first.id
    assert joined.due_at == at(DAY, 15, 0)


async def test_a_fraud_denial_joining_a_later_callback_is_due_at_once(app: App) -> None:
    """The customer asked for 15:00, then wrote that a transfer was not theirs: the P0's
    one-hour SLA comes first, so the callback can be claimed now, not at 15:00."""
    out = await sent_bundle(app, opened_on=date(2026, 3, 2))
    first = await reply(app, "在开会，下午三点后再联系", at(DAY, 10, 15), out.id)
    assert first is not None and first.due_at == at(DAY, 15, 0)
    joined = await reply(app, "这笔转账不是我操作的", at(DAY, 10, 30), out.id)
    assert joined is not None and joined.id == first.id
    assert joined.priority == "P0" and joined.due_at is None
    async with app.sessions() as s:
        agent = Staff(username="agent_sh", role="agent", branch_code="SH01")
        s.add(agent)
        await s.commit()
        await s.refresh(agent)
    assert await claim_next(app.engine, agent, app.settings, at(DAY, 10, 45)) == first.id
