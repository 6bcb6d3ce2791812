"""Two planners racing for the same day end with exactly the rows one planner makes.

Each planner has its own App (engine, pool) on the test's database, as two processes
would. On PostgreSQL the loser waits on the transaction-level advisory lock; on SQLite
it waits on the write lock (busy_timeout) and must not fail with "database is locked".
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from bot.bootstrap import App, open_app
from bot.db.models import Branch, Bundle, Callback, Customer, Event, PlanRun, Touch
from bot.service.planning.planner import PlanResult
from bot.service.planning.service import catch_up, plan_day
from bot.settings import load_settings
from tests.integration.planning.helpers import at

T: sa.Table = Touch.__table__  # type: ignore[attr-defined]
BU: sa.Table = Bundle.__table__  # type: ignore[attr-defined]
CB: sa.Table = Callback.__table__  # type: ignore[attr-defined]
PR: sa.Table = PlanRun.__table__  # type: ignore[attr-defined]
EV: sa.Table = Event.__table__  # type: ignore[attr-defined]

# Wed 2026-09-30 (working: new accounts, dormancy, birthdays), Thu 10-01 (国庆: everyone).
DAYS = (date(2026, 9, 30), date(2026, 10, 1))
CUSTOMERS = 400


def population(n: int = CUSTOMERS) -> list[dict[str, Any]]:
    """Every rule and gate: birthdays, new accounts, dormancy (recent and old), opt-outs,
    no consent, no channel, inactive customers; two branches."""
    rnd = random.Random(20260930)
    rows = []
    for i in range(n):
        opened = rnd.choice([date(2026, 9, 29), date(2026, 9, 25), date(2019, 5, 6)])
        rows.append({
            "id": f"R{i:04d}", "name": "王五", "branch_code": ("RA", "RB")[i % 2],
            "phone": None if i % 11 == 0 else f"+8529{i:07d}",
            "email": f"r{i}@example.com" if i % 3 == 0 else None,
            "birthday": rnd.choice([None, date(1980, 9, 30), date(1975, 10, 1)]),
            "opened_on": opened,
            "last_trade_on": rnd.choice([None, date(2026, 3, 30), date(2026, 3, 20),
                                         date(2025, 1, 2), date(2026, 9, 1)]),
            "marketing_consent": rnd.choice([True, True, False, None]),
            "opted_out_at": at(date(2025, 1, 1)) if i % 13 == 0 else None,
            "status": "frozen" if i % 17 == 0 else "active",
        })
    return rows


async def seed_population(app: App) -> None:
    async with app.sessions() as s:
        s.add(Branch(code="RA", name="RA"))
        s.add(Branch(code="RB", name="RB", assume_consent=True))
        await s.flush()
        for row in population():
            s.add(Customer(**row))
        await s.commit()


def reasons(raw: str) -> tuple[str, ...]:
    """A callback's reasons, sorted."""
    return tuple(sorted(json.loads(raw)))


async def planning_rows(app: App) -> dict[str, Counter[tuple[Any, ...]]]:
    """The planning tables without surrogate ids (bundle and callback named by customer)."""
    async with app.engine.connect() as conn:
        bundles = {r.id: (r.customer_id, r.local_date) for r in await conn.execute(sa.select(BU))}
        # Reasons as a sorted list: the order they joined in follows the query plan (no
        # ORDER BY), which differs between two runs; duplicates would still show.
        callbacks = {r.id: (r.customer_id, reasons(r.reasons))
                     for r in await conn.execute(sa.select(CB))}
        touch = Counter(
            (r.customer_id, r.dedupe_key, r.kind, r.status, r.reason, r.due_on, r.due_at,
             r.reply_deadline, r.sla_due_at, r.festival, bundles.get(r.bundle_id),
             callbacks.get(r.callback_id), r.created_at, r.updated_at)
            for r in await conn.execute(sa.select(T)))
        bundle = Counter(tuple(v for k, v in r._mapping.items() if k != "id")
                         for r in await conn.execute(sa.select(BU)))
        # Callbacks stamp created_at with the wall clock, not the planner's `now`.
        callback = Counter(
            (r.customer_id, r.branch_code, r.priority, reasons(r.reasons), r.sla_due_at, r.status)
            for r in await conn.execute(sa.select(CB)))
        planrun = Counter((r.day, r.first_run) for r in await conn.execute(sa.select(PR)))
        opened = (await conn.execute(
            sa.select(sa.func.count()).where(EV.c.type == "callback.opened"))).scalar_one()
    return {"touch": touch, "bundle": bundle, "callback": callback, "planrun": planrun,
            "callback.opened events": Counter({("count",): opened})}


async def clear_planning(app: App) -> None:
    """Back to the seeded customers; events are append-only and stay."""
    async with app.engine.begin() as conn:
        for table in ("touch", "bundle", "callback", "planrun"):
            await conn.execute(sa.text(f"DELETE FROM {table}"))


@asynccontextmanager
async def two_apps(database_url: str) -> AsyncIterator[tuple[App, App]]:
    """Two independent applications (engines) on one database, like two processes."""
    async with AsyncExitStack() as stack:
        apps = [await stack.enter_async_context(
            open_app(load_settings(_env_file=None, database_url=database_url)))
            for _ in range(2)]
        yield apps[0], apps[1]


Step = Callable[[App], Awaitable[Any]]


async def race_then_alone(database_url: str, steps: list[Step]) -> None:
    """Run each step twice at once, then (after clearing) once alone: same rows."""
    async with two_apps(database_url) as (a, b):
        await seed_population(a)
        before = await planning_rows(a)
        for step in steps:
            left, right = await asyncio.gather(step(a), step(b))
            if isinstance(left, PlanResult):  # both see every row of the day, made once
                assert left.by_kind == right.by_kind
        raced = await planning_rows(a)
        await clear_planning(a)
        for step in steps:
            await step(a)
        alone = await planning_rows(a)
    assert sum(raced["touch"].values()) > 0 and sum(raced["bundle"].values()) > 0
    assert sum(raced["callback"].values()) > 0
    for table in ("touch", "bundle", "callback", "planrun"):
        assert raced[table] == alone[table], table
        assert max(alone[table].values()) == 1, f"{table}: duplicate rows"
    events = [rows["callback.opened events"][("count",)] for rows in (before, raced, alone)]
    raced_events, alone_events = events[1] - events[0], events[2] - events[1]
    assert raced_events == alone_events == sum(alone["callback"].values())


def _plan(day: date) -> Step:
    return lambda app: plan_day(app, day, now=at(day))


async def test_two_planners_racing_for_the_same_day(database_url: str) -> None:
    await race_then_alone(database_url, [_plan(day) for day in DAYS])


async def test_two_schedulers_catching_up_at_once(database_url: str) -> None:
    """Two `outreach run` processes restart after an outage and catch up the same days."""
    def catching_up(today: date) -> Step:
        return lambda app: catch_up(app, now=at(today))

    await race_then_alone(database_url, [catching_up(DAYS[0] - timedelta(days=3)),
                                         catching_up(DAYS[1])])


@pytest.mark.parametrize("day", DAYS)
async def test_a_planner_waits_for_the_other_instead_of_failing(
    database_url: str, day: date
) -> None:
    """While another transaction holds the planning lock (PostgreSQL: the advisory lock;
    SQLite: the write lock), a planner waits, then plans as if alone."""
    from bot.db.locks import hold_xact_lock
    from bot.service.planning.sqlbits import PLANNING_LOCK

    async with two_apps(database_url) as (holder, planner):
        await seed_population(holder)
        async with holder.engine.connect() as conn:
            if holder.engine.dialect.name == "postgresql":
                await hold_xact_lock(conn, PLANNING_LOCK)
            else:
                await conn.exec_driver_sql("BEGIN IMMEDIATE")
            task = asyncio.create_task(plan_day(planner, day, now=at(day)))
            await asyncio.sleep(0.5)
            assert not task.done(), "the planner did not wait for the lock"
            await conn.commit()
        result = await task
        assert result.by_kind
        async with planner.sessions() as s:
            assert (await s.get(PlanRun, day)) is not None


async def test_the_sweep_waits_for_a_planner_holding_the_lock(database_url: str) -> None:
    """A bundle the sweep closes can never gain a member from a planner half-way: on
    PostgreSQL the sweep takes the planning lock (SQLite serializes every writer anyway)."""
    from bot.db.locks import hold_xact_lock
    from bot.service.planning.sqlbits import PLANNING_LOCK
    from bot.service.planning.sweep import sweep

    async with two_apps(database_url) as (holder, sweeper):
        if holder.engine.dialect.name != "postgresql":
            pytest.skip("SQLite has one writer at a time by design")
        async with holder.engine.connect() as conn:
            await hold_xact_lock(conn, PLANNING_LOCK)

            async def tick() -> dict[str, int]:
                async with sweeper.sessions() as s:
                    result = await sweep(s, at(DAYS[0], 20, 0))
                    await s.commit()
                return result

            task = asyncio.create_task(tick())
            await asyncio.sleep(0.5)
            assert not task.done(), "the sweep did not wait for the planning lock"
            await conn.commit()
        assert await task == {"unanswered": 0, "expired_bundles": 0}


async def test_a_sqlite_planner_outwaits_the_usual_busy_timeout(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another planner may hold SQLite's write lock for as long as a big day takes (a
    million customers' holiday: ~25 s), longer than other writers wait: a planner waits
    it out instead of failing with "database is locked"."""
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL planners wait on the advisory lock without a timeout")
    from bot.db import engine

    monkeypatch.setattr(engine, "SQLITE_BUSY_TIMEOUT_MS", 200)  # the lock is held 5x longer
    day = DAYS[0]
    async with two_apps(database_url) as (holder, planner):
        await seed_population(holder)
        async with holder.engine.connect() as conn:
            await conn.exec_driver_sql("BEGIN IMMEDIATE")
            task = asyncio.create_task(plan_day(planner, day, now=at(day)))
            await asyncio.sleep(1.0)
            assert not task.done(), "the planner gave up instead of waiting"
            await conn.commit()
        assert (await task).by_kind
