"""Storing and acting on a reply share one transaction: a failure while acting never loses
the reply (it stays stored, the error is logged) and leaves no half-done action behind."""

from __future__ import annotations

import logging

import pytest

from bot.db.models import Callback, Event
from tests.integration.inbound.conftest import Rig


async def _break_branch_hours(rig: Rig) -> None:
    """Data an action trips over: a branch whose working hours cannot be read."""
    await rig.set_branch(working_hours="25:00-99:00")


async def test_a_failing_action_keeps_the_reply_and_nothing_half_done(
        rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    await _break_branch_hours(rig)
    with caplog.at_level(logging.ERROR, logger="outreach.inbound"):
        response = await rig.sms("我要投诉，请尽快回电")
    assert response.status_code == 200
    [stored] = await rig.inbound()
    assert stored.body == "我要投诉，请尽快回电" and stored.customer_id == "C1"
    assert stored.intent is None  # the classification was rolled back with the action
    assert await rig.rows(Callback) == []
    assert [e.type for e in await rig.rows(Event)] == ["reply.received"]
    assert any("the reply is stored" in r.getMessage() for r in caplog.records)
    assert "91234567" not in caplog.text  # no phone number in the log


async def test_after_the_fix_the_next_reply_is_acted_on(rig: Rig) -> None:
    await _break_branch_hours(rig)
    await rig.sms("请回电")
    await rig.set_branch(working_hours="09:00-17:00")
    await rig.sms("我要投诉")
    [callback] = await rig.rows(Callback)
    assert callback.priority == "P1"
