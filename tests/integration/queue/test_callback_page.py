"""What an agent sees of one callback (console page and `GET /api/v1/callbacks/{id}`), the
contact reveal, and the call record's rules (issue: console part 1)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import httpx
import pytest
from sqlalchemy import event
from sqlmodel import select

from bot.bootstrap import App
from bot.db.models import Callback, CallbackAttempt, Event, Message, Staff
from bot.service.admin.staff import issue_token
from bot.service.callbacks.detail import callback_detail, reveal_contact
from bot.service.callbacks.errors import BadOutcome, NotAllowed, NotFound
from bot.service.callbacks.outcomes import CallOutcome, record_outcome
from bot.service.callbacks.queue import claim_next, queue_view
from bot.web.app import create_app
from tests.integration.planning.helpers import at
from tests.integration.queue.test_queue import NOW, setup


async def _with_conversation(app: App) -> dict[str, Staff]:
    people = await setup(app, ("A", "SH01", "P1", 4))
    async with app.sessions() as s:
        s.add(Message(id="out-1", direction="out", customer_id="A", channel="sms",
                      address="+8613812345678", body="【华东证券】张先生，您好！请问开户顺利吗？",
                      status="delivered", created_at=NOW - timedelta(hours=2)))
        s.add(Message(id="in-1", direction="in", customer_id="A", channel="sms",
                      address="+8613812345678", body="你们的APP太卡了，我要投诉", status="received",
                      intent="complaint", confidence=0.93, answers_message_id="out-1",
                      created_at=NOW - timedelta(hours=1)))
        s.add(Event(type="reply.classified", customer_id="A", summary="sms reply: complaint",
                    payload=json.dumps({"message_id": "in-1", "why": ["complaint +2.0 '投诉'"]})))
        compliance = Staff(username="comp_sh", role="compliance", branch_code="SH01")
        s.add(compliance)
        await s.commit()
        people["comp_sh"] = compliance
    return people


async def test_the_page_shows_the_customers_words_and_ours_in_full(app: App) -> None:
    people = await _with_conversation(app)
    cid = await claim_next(app.engine, people["agent_sh"], app.settings, NOW)
    assert cid is not None
    async with app.sessions() as s:
        page = await callback_detail(s, cid, people["agent_sh"], app.settings, NOW)
        await s.commit()
    words = [(m["direction"], m["text"], m["intent"]) for m in page["conversation"]]
    assert words == [("out", "【华东证券】张先生，您好！请问开户顺利吗？", None),
                     ("in", "你们的APP太卡了，我要投诉", "complaint")]
    assert page["conversation"][1]["cues"] == ["complaint +2.0 '投诉'"]
    assert page["customer"]["name"] == "张三"  # the holder sees the name
    assert page["customer"]["phone"] == "138****5678"  # the number only on reveal
    assert page["callback"]["held_by_you"] is True
    assert any("本人" in step for step in page["script"]["steps"])
    async with app.sessions() as s:
        viewed = (await s.exec(select(Event).where(Event.type == "callback.viewed"))).all()
    assert [e.actor for e in viewed] == ["agent_sh"]


async def test_others_see_a_masked_name_and_other_branches_nothing(app: App) -> None:
    people = await _with_conversation(app)
    async with app.sessions() as s:
        cid = (await s.exec(select(Callback.id))).one()
        hq_page = await callback_detail(s, cid, people["hq"], app.settings, NOW)
        assert hq_page["customer"]["name"] == "张*" and hq_page["callback"]["held_by_you"] is False
        with pytest.raises(NotAllowed, match="works for branch GZ01"):
            await callback_detail(s, cid, people["agent_gz"], app.settings, NOW)
        with pytest.raises(NotAllowed, match="sales staff"):
            await callback_detail(s, cid, people["sales"], app.settings, NOW)
        with pytest.raises(NotFound):
            await callback_detail(s, 4242, people["hq"], app.settings, NOW)


async def _close_earlier(app: App, agent: Staff, months: range) -> None:
    """Closed callbacks of customer A, `months` ago, each with one call by `agent`."""
    async with app.sessions() as s:
        for m in months:
            opened = NOW - timedelta(days=30 * m)
            cb = Callback(customer_id="A", branch_code="SH01", priority="P2", status="done",
                          reasons=json.dumps(["dormancy"]), outcome="resolved", sla_due_at=opened,
                          created_at=opened, closed_at=opened + timedelta(hours=2))
            s.add(cb)
            await s.flush()
            s.add(CallbackAttempt(callback_id=cb.id, staff_id=agent.id, outcome="resolved",
                                  identity="customer", notes=f"{m} 个月前回访",
                                  at=opened + timedelta(hours=1)))
        await s.commit()


async def test_earlier_callbacks_with_their_calls_cost_the_same_queries_however_many(
        app: App) -> None:
    people = await _with_conversation(app)
    async with app.sessions() as s:
        cid = (await s.exec(select(Callback.id))).one()

    async def page_and_statements() -> tuple[dict[str, object], int]:
        statements: list[str] = []

        def seen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
            statements.append(statement)

        event.listen(app.engine.sync_engine, "before_cursor_execute", seen)
        try:
            async with app.sessions() as s:
                page = await callback_detail(s, cid, people["hq"], app.settings, NOW)
        finally:
            event.remove(app.engine.sync_engine, "before_cursor_execute", seen)
        return page, len(statements)

    await _close_earlier(app, people["agent_sh"], range(1, 2))
    _, with_one = await page_and_statements()
    await _close_earlier(app, people["agent_sh"], range(2, 6))
    page, with_five = await page_and_statements()
    earlier = page["earlier_callbacks"]
    assert isinstance(earlier, list)
    assert [(e["outcome"], [c["notes"] for c in e["calls"]]) for e in earlier] == [
        ("resolved", [f"{m} 个月前回访"]) for m in range(1, 6)]  # newest first
    assert earlier[0]["calls"][0]["agent"] == "agent_sh"
    assert with_five == with_one


async def test_reveal_is_for_the_holder_and_compliance_and_each_is_recorded(app: App) -> None:
    people = await _with_conversation(app)
    async with app.sessions() as s:
        cid = (await s.exec(select(Callback.id))).one()
        with pytest.raises(NotAllowed, match="holding this callback"):
            await reveal_contact(s, cid, people["agent_sh"])  # not claimed yet
        assert (await reveal_contact(s, cid, people["comp_sh"]))["phone"] == "+8613812345678"
        await s.commit()
    assert await claim_next(app.engine, people["agent_sh"], app.settings, NOW) == cid
    async with app.sessions() as s:
        contact = await reveal_contact(s, cid, people["agent_sh"])
        with pytest.raises(NotAllowed):
            await reveal_contact(s, cid, people["hq"])
        await s.commit()
        reveals = (await s.exec(select(Event).where(Event.type == "contact.revealed"))).all()
    assert contact == {"phone": "+8613812345678", "name": "张三"}
    assert [e.actor for e in reveals] == ["comp_sh", "agent_sh"]
    assert all("13812345678" not in (e.summary + (e.payload or "")) for e in reveals)


async def test_api_parity_detail_reveal_and_404(app: App) -> None:
    people = await _with_conversation(app)
    async with app.sessions() as s:
        token = (await issue_token(s, "agent_sh", actor="test"))[1]
        await s.commit()
    head = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(app)),
                                 base_url="http://test") as client:
        cid = (await client.post("/api/v1/callbacks/claim-next", headers=head)).json()["callback_id"]
        page = await client.get(f"/api/v1/callbacks/{cid}", headers=head)
        shown = await client.post(f"/api/v1/callbacks/{cid}/reveal", headers=head)
        missing = await client.get("/api/v1/callbacks/4242", headers=head)
        past = await client.post(f"/api/v1/callbacks/{cid}/outcome", headers=head, json={
            "outcome": "follow_up", "recording_ref": "R", "dialled": "13812345678",
            "follow_up_at": "2020-01-01T10:00:00+08:00"})
    assert people and page.status_code == 200
    assert page.json()["conversation"][1]["text"] == "你们的APP太卡了，我要投诉"
    assert shown.json()["phone"] == "+8613812345678"
    assert missing.status_code == 404
    assert past.status_code == 422 and past.json() == {
        "detail": "follow_up_at must be a time within the coming year, not in the past"}


@pytest.mark.parametrize(("outcome", "message"), [
    (CallOutcome("resolved", recording_ref="R", identity="customer"), "number dialled"),
    (CallOutcome("resolved", recording_ref="R", dialled="138"), "identity verified"),
    (CallOutcome("resolved", method="fax"), "method 'fax'"),
])
async def test_a_call_record_compliance_could_not_accept_is_refused(
    app: App, outcome: CallOutcome, message: str
) -> None:
    people = await setup(app, ("A", "SH01", "P2", 1))
    cid = await claim_next(app.engine, people["agent_sh"], app.settings, NOW)
    assert cid is not None
    async with app.sessions() as s:
        with pytest.raises(BadOutcome, match=message):
            await record_outcome(s, cid, people["agent_sh"], outcome, app.settings, NOW)


async def test_a_no_on_a_new_account_point_flags_the_callback(app: App) -> None:
    people = await setup(app, ("A", "SH01", "P2", 1))
    cid = await claim_next(app.engine, people["agent_sh"], app.settings, NOW)
    assert cid is not None
    async with app.sessions() as s:
        cb = await record_outcome(s, cid, people["agent_sh"], CallOutcome(
            "resolved", method="sms", identity="customer",
            answers={"own_will": True, "no_promised_returns": False}), app.settings, NOW)
        await s.commit()
        flagged = (await s.exec(select(Event).where(Event.type == "callback.compliance_flag"))).one()
    assert cb.status == "done" and cb.compliance_flag is True
    assert "no_promised_returns" in flagged.summary


async def test_no_answer_waits_for_the_next_call_window_not_a_minute(app: App) -> None:
    people = await setup(app, ("A", "SH01", "P2", 48))
    agent = people["agent_sh"]
    cid = await claim_next(app.engine, agent, app.settings, NOW)  # Tuesday 10:00
    assert cid is not None
    async with app.sessions() as s:
        cb = await record_outcome(s, cid, agent, CallOutcome("no_answer", dialled="138"),
                                  app.settings, NOW)
        await s.commit()
    assert cb.due_at == at(date(2026, 3, 3), 15, 0)  # Tue–Thu: 09:30–11:00, then 15:00–17:00
    assert await claim_next(app.engine, agent, app.settings, NOW + timedelta(minutes=2)) is None
    assert await claim_next(app.engine, agent, app.settings, at(date(2026, 3, 3), 15, 0)) == cid


async def test_a_time_the_customer_asked_for_is_suggested_as_asked(app: App) -> None:
    await setup(app, ("A", "SH01", "P2", 72))
    monday_ten = datetime.fromisoformat("2026-03-09T10:00:00+08:00")
    async with app.sessions() as s:
        cb = (await s.exec(select(Callback))).one()
        cb.reasons, cb.due_at = json.dumps(["reschedule: 下周一上午十点"]), monday_ten
        s.add(cb)
        await s.commit()
        [item] = await queue_view(s, "SH01", NOW, call_windows=True)
    assert item["suggested_call_at"] == "2026-03-09T10:00:00+08:00"
    assert item["asked_by_customer"] is True


async def test_a_p0_at_night_is_to_be_called_now_within_its_sla(app: App) -> None:
    """21:00: a customer denies an operation. The next call window is tomorrow morning, past
    the one-hour SLA, so the suggestion is now until 22:00; a P2 at the same hour waits."""
    night = at(date(2026, 3, 3), 21, 0)
    await setup(app, ("A", "SH01", "P0", 0), ("B", "SH01", "P2", 0))
    async with app.sessions() as s:
        for cb in (await s.exec(select(Callback))).all():
            cb.sla_due_at = night + timedelta(hours=1 if cb.priority == "P0" else 24)
            s.add(cb)
        await s.commit()
        p0, p2 = await queue_view(s, "SH01", night, call_windows=True)
    assert p0["priority"] == "P0" and p0["suggested_call_at"] == "2026-03-03T21:00:00+08:00"
    assert p2["suggested_call_at"].startswith("2026-03-04T09:30")
