"""Acting on replies: escalation priorities and SLAs, reschedules, late replies, review list."""

from __future__ import annotations

import json
from datetime import date

from sqlmodel import select
from typer.testing import CliRunner

from bot.bootstrap import App
from bot.db.models import Bundle, Callback, Event, Message, Touch
from bot.service.inbound.understanding import handle_reply
from bot.service.tokens import new_id
from tests.integration.planning.helpers import at, plan, seed

DAY = date(2026, 3, 3)  # Tuesday


async def sent_bundle(app: App, **customer: object) -> Message:
    """A planned bundle for C1 that went out by SMS at 10:00."""
    await seed(app, {"phone": "+85291234567", **customer}, manager_email="boss@example.com")
    await plan(app, DAY)
    async with app.sessions() as s:
        bundle = (await s.exec(select(Bundle))).one()
        bundle.status = "sent"
        for touch in (await s.exec(select(Touch))).all():
            touch.status = "sent"
            s.add(touch)
        message = Message(id=new_id(), direction="out", customer_id="C1", bundle_id=bundle.id,
                          channel="sms", address="+85291234567", body="…", status="delivered",
                          created_at=at(DAY, 10), updated_at=at(DAY, 10))
        s.add_all([bundle, message])
        await s.commit()
        return message


async def store_reply(app: App, text: str, when: object,
                      answers: str | None = None) -> tuple[Message, Callback | None]:
    """C1's SMS `text`, stored and acted on at `when`: the stored row and its callback."""
    async with app.sessions() as s:
        inbound = Message(id=new_id(), direction="in", customer_id="C1", channel="sms",
                          address="+85291234567", body=text, status="received",
                          answers_message_id=answers)
        s.add(inbound)
        await s.flush()
        callback = (await handle_reply(s, inbound, app.settings, when)).callback  # type: ignore[arg-type]
        await s.commit()
        return inbound, callback


async def reply(app: App, text: str, when: object, answers: str | None = None) -> Callback | None:
    return (await store_reply(app, text, when, answers))[1]


async def test_complaint_is_p1_within_four_working_hours(app: App) -> None:
    out = await sent_bundle(app, opened_on=date(2026, 3, 2))
    callback = await reply(app, "我要投诉你们，打12386", at(DAY, 16, 0), out.id)
    assert callback is not None and callback.priority == "P1"
    # 16:00 + 4 working hours (closing 17:30) → next day 11:30.
    assert callback.sla_due_at == at(date(2026, 3, 4), 11, 30)
    async with app.sessions() as s:
        assert [t.status for t in (await s.exec(select(Touch))).all()] == ["answered"]


async def test_reschedule_is_due_at_the_time_asked(app: App) -> None:
    out = await sent_bundle(app, opened_on=date(2026, 3, 2))
    callback = await reply(app, "在开会，下午三点后再联系", at(DAY, 10, 15), out.id)
    assert callback is not None and callback.priority == "P2"
    assert callback.due_at == at(DAY, 15, 0)
    assert callback.sla_due_at == at(DAY, 16, 0)
    assert "reschedule" in json.loads(callback.reasons)[0]


async def test_not_me_is_p0_with_an_alert(app: App) -> None:
    out = await sent_bundle(app, opened_on=date(2026, 3, 2))
    callback = await reply(app, "我没有开过户，不是我本人", at(DAY, 21, 0), out.id)
    assert callback is not None and callback.priority == "P0"
    assert callback.sla_due_at == at(DAY, 22, 0)  # wall clock, whatever the hour
    async with app.sessions() as s:
        alerts = [e for e in (await s.exec(select(Event))).all() if e.type == "alert.p0"]
    assert len(alerts) == 1 and "b***@example.com" in (alerts[0].payload or "")


async def test_unsure_answer_to_a_greeting_goes_to_review(app: App) -> None:
    out = await sent_bundle(app, birthday=date(1990, 3, 3))
    assert await reply(app, "嗯？", at(DAY, 11), out.id) is None
    async with app.sessions() as s:
        inbound = (await s.exec(select(Message).where(Message.direction == "in"))).one()
        assert inbound.needs_review and (await s.exec(select(Callback))).all() == []


async def test_unsure_answer_to_a_new_account_touch_is_a_p2_callback(app: App) -> None:
    out = await sent_bundle(app, opened_on=date(2026, 3, 2))
    callback = await reply(app, "嗯？", at(DAY, 11), out.id)
    assert callback is not None and callback.priority == "P2"


async def test_late_reply_joins_the_sweeps_callback(app: App) -> None:
    from bot.service.planning.sweep import sweep

    out = await sent_bundle(app, opened_on=date(2026, 3, 2))
    async with app.sessions() as s:
        await sweep(s, at(date(2026, 3, 9), 9))
        await s.commit()
    callback = await reply(app, "你们APP太卡了", at(date(2026, 3, 9), 10), out.id)
    async with app.sessions() as s:
        callbacks = (await s.exec(select(Callback))).all()
    assert len(callbacks) == 1 and callback is not None and callback.id == callbacks[0].id
    assert json.loads(callbacks[0].reasons) == ["unanswered_new_account", "negative"]


async def test_reply_without_thread_matches_the_latest_outbound(app: App) -> None:
    out = await sent_bundle(app, opened_on=date(2026, 3, 2))
    await reply(app, "谢谢，一切顺利", at(DAY, 12))
    async with app.sessions() as s:
        inbound = (await s.exec(select(Message).where(Message.direction == "in"))).one()
    assert inbound.answers_message_id == out.id and inbound.intent == "positive"


def test_classify_command_contract() -> None:
    from bot.cli import app as cli

    result = CliRunner().invoke(cli, ["classify"], input="我要投诉\nSTOP\n")
    lines = result.output.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == ["complaint", "opt_out"]
    assert all(0 <= float(line.split("\t")[1]) <= 1 for line in lines)
    result = CliRunner().invoke(cli, ["classify", "--kind", "new_account", "--json"], input="不是我\n")
    record = json.loads(result.output)
    assert set(record) == {"text", "intent", "confidence"}
    assert (record["text"], record["intent"]) == ("不是我", "not_me")


async def test_a_complaint_that_says_stop_also_withdraws_consent(app: App) -> None:
    from bot.db.models import Customer

    out = await sent_bundle(app, opened_on=date(2026, 3, 2))
    callback = await reply(app, "别再发了，再发我就投诉到证监会", at(DAY, 11), out.id)
    assert callback is not None and callback.priority == "P1"
    async with app.sessions() as s:
        customer = await s.get(Customer, "C1")
    assert customer is not None and customer.opted_out_at is not None
