"""Review fixes: compliance flag for unreachable new accounts, independence on reads,
naive follow-up times, and the hold limit under concurrent claims."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta

import httpx
import pytest
from sqlmodel import func, select

from bot.bootstrap import App
from bot.db.models import Branch, Callback, Staff, Touch, utcnow
from bot.service.admin.staff import issue_token
from bot.service.callbacks.errors import QueueError
from bot.service.callbacks.outcomes import CallOutcome, record_outcome
from bot.service.callbacks.queue import claim_next, queue_view
from bot.service.planning.sweep import mark_unanswered
from bot.web.app import create_app
from tests.conftest import PG_URL
from tests.integration.planning.helpers import at, plan, seed
from tests.integration.queue.test_queue import NOW, setup

DAY = date(2026, 3, 3)


async def _three_no_answers(app: App, agent: Staff | None = None,
                            when: datetime | None = None) -> Callback:
    """Claim and record `no_answer` three times: the callback ends unreachable."""
    if agent is None:
        async with app.sessions() as s:
            agent = Staff(username="agent_sh", role="agent", branch_code="SH01")
            s.add(agent)
            await s.commit()
            await s.refresh(agent)
    moment = when or at(date(2026, 4, 7), 10, 0)
    for _ in range(3):
        cid = await claim_next(app.engine, agent, app.settings, moment)
        assert cid is not None
        async with app.sessions() as s:
            cb = await record_outcome(s, cid, agent, CallOutcome("no_answer", dialled="85291234567"),
                                      app.settings, moment)
            await s.commit()
        moment = cb.due_at or moment
    return cb


async def test_unanswered_new_account_unreachable_is_flagged_for_compliance(app: App) -> None:
    await seed(app, {"opened_on": date(2026, 3, 2)})
    await plan(app, DAY)
    async with app.sessions() as s:
        for t in (await s.exec(select(Touch))).all():
            t.status = "sent"
            s.add(t)
        await s.commit()
    async with app.sessions() as s:
        assert await mark_unanswered(s, at(DAY, 0) + timedelta(days=30)) == 1
        await s.commit()
    cb = await _three_no_answers(app)
    assert "unanswered_new_account" in cb.reasons
    assert cb.status == "unreachable"
    assert cb.compliance_flag is True


async def test_unreachable_other_callback_is_not_flagged(app: App) -> None:
    await setup(app, ("A", "SH01", "P2", 1))  # reasons ["negative"], no new-account touch
    async with app.sessions() as s:
        agent = (await s.exec(select(Staff).where(Staff.username == "agent_sh"))).one()
    cb = await _three_no_answers(app, agent, NOW)
    assert cb.status == "unreachable" and cb.compliance_flag is False


def _client(app: App) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(app), raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def _token(app: App, user: str) -> dict[str, str]:
    async with app.sessions() as s:
        token = (await issue_token(s, user, actor="t"))[1]
        await s.commit()
    return {"Authorization": f"Bearer {token}"}


async def test_agent_cannot_look_up_own_customers_callbacks(app: App) -> None:
    await setup(app, ("A", "SH01", "P2", 1), rep="agent_sh")
    async with app.sessions() as s:  # a customer of another rep stays visible
        from bot.db.models import Customer
        s.add(Customer(id="B", name="李四", branch_code="SH01", phone="+8613900000000",
                       sales_rep="someone_else"))
        await s.flush()
        s.add(Callback(customer_id="B", branch_code="SH01", priority="P2", reasons='["negative"]',
                       sla_due_at=NOW + timedelta(hours=2)))
        await s.commit()
    agent, hq = await _token(app, "agent_sh"), await _token(app, "hq")
    async with _client(app) as client:
        listed = (await client.get("/api/v1/callbacks", headers=agent)).json()
        timeline = await client.get("/api/v1/customers/A", headers=agent)
        other = await client.get("/api/v1/customers/B", headers=agent)
        hq_listed = (await client.get("/api/v1/callbacks", headers=hq)).json()
        hq_timeline = await client.get("/api/v1/customers/A", headers=hq)
    assert [c["customer_id"] for c in listed] == ["B"]
    assert timeline.status_code == 403 and "独立性" in timeline.json()["detail"]
    assert other.status_code == 200
    assert sorted(c["customer_id"] for c in hq_listed) == ["A", "B"]
    assert hq_timeline.status_code == 200


async def test_naive_follow_up_time_via_api_is_422(app: App) -> None:
    await setup(app, ("A", "SH01", "P2", 1))
    head = await _token(app, "agent_sh")
    async with _client(app) as client:
        cid = (await client.post("/api/v1/callbacks/claim-next", headers=head)).json()["callback_id"]
        r = await client.post(f"/api/v1/callbacks/{cid}/outcome", headers=head, json={
            "outcome": "follow_up", "recording_ref": "R", "dialled": "13812345678",
            "follow_up_at": "2030-03-04T10:00:00"})
        listed = await client.get("/api/v1/callbacks", headers=head)
        ok = await client.post(f"/api/v1/callbacks/{cid}/outcome", headers=head, json={
            "outcome": "follow_up", "recording_ref": "R", "dialled": "13812345678",
            "follow_up_at": (utcnow() + timedelta(days=7)).isoformat()})
    assert r.status_code == 422 and "time zone" in r.text
    assert listed.status_code == 200
    assert ok.status_code == 200 and ok.json()["status"] == "open"


async def test_implausible_api_input_is_422_not_a_server_error(app: App) -> None:
    await setup(app, ("A", "SH01", "P2", 1))
    head = await _token(app, "agent_sh")
    async with _client(app) as client:
        cid = (await client.post("/api/v1/callbacks/claim-next", headers=head)).json()["callback_id"]
        answers = [await client.post(f"/api/v1/callbacks/{cid}/outcome", headers=head, json={
            "outcome": "follow_up", "recording_ref": "R", "dialled": "13812345678", **extra})
            for extra in (
                {"follow_up_at": "9999-12-31T23:00:00+08:00"},
                {"follow_up_at": "0001-01-01T00:30:00+08:00"},
                {"follow_up_at": (utcnow() + timedelta(days=7)).isoformat(), "notes": "a\x00b"})]
        huge = await client.post("/api/v1/callbacks/99999999999999999999/release", headers=head)
        held = await client.get("/api/v1/callbacks", headers=head)
    assert [a.status_code for a in answers] == [422, 422, 422]
    assert huge.status_code == 422
    assert held.json()[0]["status"] == "claimed"  # nothing was recorded


async def test_naive_follow_up_time_is_refused_by_the_service(app: App) -> None:
    people = await setup(app, ("A", "SH01", "P2", 1))
    cid = await claim_next(app.engine, people["agent_sh"], app.settings, NOW)
    assert cid is not None
    async with app.sessions() as s:
        with pytest.raises(QueueError, match="time zone"):
            await record_outcome(s, cid, people["agent_sh"],
                                 CallOutcome("follow_up", recording_ref="R", dialled="138",
                                             follow_up_at=NOW.replace(tzinfo=None)),
                                 app.settings, NOW)


@pytest.mark.skipif(not PG_URL, reason="concurrent claims need PostgreSQL")
async def test_concurrent_claims_respect_max_held(app: App) -> None:
    people = await setup(app, *((f"C{i}", "SH01", "P2", i) for i in range(12)))
    agent = people["agent_sh"]
    for _ in range(app.settings.agent_max_held - 1):
        assert await claim_next(app.engine, agent, app.settings, NOW) is not None

    async def one() -> int | str | None:
        try:
            return await claim_next(app.engine, agent, app.settings, NOW)
        except QueueError:
            return "refused"

    for _ in range(3):  # races are probabilistic: try a few times
        results = await asyncio.gather(*(one() for _ in range(6)))
        async with app.sessions() as s:
            held = (await s.exec(select(func.count()).select_from(Callback).where(
                Callback.status == "claimed", Callback.assignee_id == agent.id))).one()
        assert held == app.settings.agent_max_held, results
        assert results.count("refused") >= 5
        async with app.sessions() as s:  # give one back and race again
            last = (await s.exec(select(Callback).where(Callback.status == "claimed")
                                 .order_by(Callback.id.desc()))).first()  # type: ignore[union-attr]
            assert last is not None
            last.status, last.assignee_id, last.claimed_at = "open", None, None
            s.add(last)
            await s.commit()


async def test_an_agreed_follow_up_is_due_then_with_a_working_hour_to_do_it(app: App) -> None:
    """The customer asked to be called on Friday at 15:00: the callback is not breached
    before then (its first-contact SLA was met by the call) but is one working hour after."""
    people = await setup(app, ("A", "SH01", "P2", 1))
    cid = await claim_next(app.engine, people["agent_sh"], app.settings, NOW)
    assert cid is not None
    friday = datetime.fromisoformat("2026-03-06T15:00:00+08:00")
    async with app.sessions() as s:
        cb = await record_outcome(s, cid, people["agent_sh"],
                                  CallOutcome("follow_up", recording_ref="R", dialled="138",
                                              follow_up_at=friday),
                                  app.settings, NOW)
        await s.commit()
    assert cb.due_at == friday
    assert cb.sla_due_at == friday + timedelta(hours=1)
    async with app.sessions() as s:
        [item] = await queue_view(s, "SH01", now=NOW + timedelta(hours=3))
    assert item["breached"] is False and item["sla_due_at"] == "2026-03-06T16:00:00+08:00"


async def test_the_queue_shows_times_and_call_windows_in_the_branch_time_zone(app: App) -> None:
    """A branch abroad (London) sees its own clock and call windows by its own office hours."""
    await setup(app, ("A", "SH01", "P2", 1), ("B", "GZ01", "P2", 1))
    async with app.sessions() as s:
        branch = await s.get(Branch, "GZ01")
        assert branch is not None
        branch.timezone = "Europe/London"
        s.add(branch)
        await s.commit()
    async with app.sessions() as s:
        items = {i["branch"]: i for i in await queue_view(s, None, now=NOW, call_windows=True)}
    assert items["SH01"]["sla_due_at"].endswith("+08:00")
    assert items["GZ01"]["sla_due_at"].endswith("+00:00")  # London in March: GMT
    # Tuesday 10:00 in Shanghai is 02:00 in London: its next window opens at 09:30 there.
    assert items["SH01"]["call_window"] == "2026-03-03 10:00–11:00"
    assert items["GZ01"]["call_window"] == "2026-03-03 09:30–11:00"
