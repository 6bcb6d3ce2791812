"""The callback queue: who may claim what, in which order, and what outcomes do."""

from __future__ import annotations

import asyncio
import json
from datetime import date, timedelta

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from bot.bootstrap import App, open_app
from bot.db.models import AddressStatus, Branch, Callback, CallbackAttempt, Customer, Event, Staff
from bot.service.callbacks.errors import QueueError
from bot.service.callbacks.outcomes import CallOutcome, record_outcome
from bot.service.callbacks.queue import claim_next, expire_claims, queue_view, release
from tests.conftest import PG_URL
from tests.integration.planning.helpers import at

NOW = at(date(2026, 3, 3), 10, 0)  # a Tuesday in a call window


async def setup(app: App, *callbacks: tuple[str, str, str, int], rep: str | None = None) -> dict[str, Staff]:
    """callbacks: (customer id, branch, priority, SLA hours from NOW)."""
    async with app.sessions() as s:
        for code in ("SH01", "GZ01"):
            s.add(Branch(code=code, name=code))
        await s.flush()
        people = {
            "agent_sh": Staff(username="agent_sh", role="agent", branch_code="SH01"),
            "agent_gz": Staff(username="agent_gz", role="agent", branch_code="GZ01"),
            "hq": Staff(username="hq", role="hq_agent"),
            "sales": Staff(username="sales", role="sales", branch_code="SH01", is_sales=True),
        }
        for person in people.values():
            s.add(person)
        for cid, branch, priority, hours in callbacks:
            s.add(Customer(id=cid, name="张三", branch_code=branch, phone="+8613812345678",
                           sales_rep=rep))
            await s.flush()
            s.add(Callback(customer_id=cid, branch_code=branch, priority=priority,
                           reasons=json.dumps(["negative"]), sla_due_at=NOW + timedelta(hours=hours)))
        await s.commit()
        return people


async def test_claims_most_urgent_first_within_the_agents_branch(app: App) -> None:
    people = await setup(app, ("A", "SH01", "P2", 1), ("B", "SH01", "P1", 8), ("C", "GZ01", "P0", 1),
                         ("D", "SH01", "P1", 4))
    order = []
    while (cid := await claim_next(app.engine, people["agent_sh"], app.settings, NOW)) is not None:
        async with app.sessions() as s:
            order.append((await s.get(Callback, cid)).customer_id)  # type: ignore[union-attr]
    assert order == ["D", "B", "A"]  # P1 (earlier SLA first), then P2; never GZ01's
    assert await claim_next(app.engine, people["hq"], app.settings, NOW) is not None  # C


async def test_sales_staff_and_own_customers_are_refused(app: App) -> None:
    people = await setup(app, ("A", "SH01", "P2", 1), rep="agent_sh")
    with pytest.raises(QueueError, match="independence rule"):
        await claim_next(app.engine, people["sales"], app.settings, NOW)
    assert await claim_next(app.engine, people["agent_sh"], app.settings, NOW) is None
    assert await claim_next(app.engine, people["hq"], app.settings, NOW) is not None


async def test_hold_limit_release_and_timeout(app: App) -> None:
    people = await setup(app, *((f"C{i}", "SH01", "P2", i) for i in range(7)))
    agent = people["agent_sh"]
    held = [await claim_next(app.engine, agent, app.settings, NOW) for _ in range(5)]
    with pytest.raises(QueueError, match="at most 5"):
        await claim_next(app.engine, agent, app.settings, NOW)
    async with app.sessions() as s:
        await release(s, held[0], agent)  # type: ignore[arg-type]
        await s.commit()
    assert await expire_claims(app.engine, app.settings, NOW + timedelta(minutes=29)) == 0
    assert await expire_claims(app.engine, app.settings, NOW + timedelta(minutes=31)) == 4
    async with app.sessions() as s:
        assert all(c.status == "open" for c in (await s.exec(select(Callback))).all())


async def test_no_answer_three_times_is_unreachable_and_flagged(app: App) -> None:
    people = await setup(app, ("A", "SH01", "P2", 1))
    async with app.sessions() as s:
        cb = (await s.exec(select(Callback))).one()
        cb.reasons = json.dumps(["new_account_unanswered"])
        s.add(cb)
        await s.commit()
    when = NOW
    for attempt in range(3):
        cid = await claim_next(app.engine, people["agent_sh"], app.settings, when)
        assert cid is not None, attempt
        async with app.sessions() as s:
            cb = await record_outcome(s, cid, people["agent_sh"], CallOutcome("no_answer", dialled="13812345678"),
                                      app.settings, when)
            await s.commit()
        if attempt < 2:
            assert cb.status == "open" and cb.due_at is not None and cb.due_at > when
            when = cb.due_at
    assert (cb.status, cb.compliance_flag) == ("unreachable", True)


async def test_outcome_records_and_rules(app: App) -> None:
    people = await setup(app, ("A", "SH01", "P2", 1), ("B", "SH01", "P2", 2))
    agent = people["agent_sh"]
    cid = await claim_next(app.engine, agent, app.settings, NOW)
    assert cid is not None
    async with app.sessions() as s:
        with pytest.raises(QueueError, match="recording reference"):
            await record_outcome(s, cid, agent, CallOutcome("resolved"), app.settings, NOW)
        with pytest.raises(QueueError, match="agreed time"):
            await record_outcome(s, cid, agent, CallOutcome("follow_up", recording_ref="R1",
                                                             dialled="13812345678"),
                                 app.settings, NOW)
        cb = await record_outcome(s, cid, agent, CallOutcome(
            "wrong_number", dialled="13812345678", recording_ref="REC-1", identity="not_verified",
            notes="接听者称不认识客户"), app.settings, NOW)
        await s.commit()
        assert cb.status == "done"
        attempt = (await s.exec(select(CallbackAttempt))).one()
        assert (attempt.recording_ref, attempt.dialled) == ("REC-1", "13812345678")
        assert await s.get(AddressStatus, ("sms", "+8613812345678")) is not None
        event = next(e for e in (await s.exec(select(Event))).all() if e.type == "callback.outcome")
        assert "13812345678" not in (event.payload or "")


async def test_queue_json_contract(app: App) -> None:
    await setup(app, ("A", "SH01", "P2", -1), ("B", "GZ01", "P0", 1))
    async with app.sessions() as s:
        rows = await queue_view(s, None, NOW)
    assert [r["customer_id"] for r in rows] == ["B", "A"]
    assert set(rows[0]) == {"callback_id", "customer_id", "branch", "priority", "reasons",
                            "sla_due_at", "breached", "status", "assignee", "phone",
                            "suggested_call_at", "asked_by_customer"}
    assert rows[1]["breached"] is True and rows[1]["phone"] == "138****5678"
    assert rows[0]["sla_due_at"].endswith("+08:00")


def test_queue_command(cli_env: dict[str, str]) -> None:
    from bot.cli import app as cli

    result = CliRunner().invoke(cli, ["queue", "--json"])
    assert result.exit_code == 0 and json.loads(result.output) == []


@pytest.mark.skipif(not PG_URL, reason="concurrent claims need PostgreSQL")
async def test_two_agents_claiming_at_once_get_different_callbacks(app: App) -> None:
    people = await setup(app, *((f"C{i}", "SH01", "P2", i) for i in range(6)))
    async with open_app(app.settings) as other, app.sessions() as s:
        second = (await s.exec(select(Staff).where(Staff.username == "hq"))).one()
        got = await asyncio.gather(*(
            claim_next(engine, person, app.settings, NOW)
            for engine, person in ((app.engine, people["agent_sh"]), (other.engine, second)) * 3))
    assert None not in got and len(set(got)) == 6
