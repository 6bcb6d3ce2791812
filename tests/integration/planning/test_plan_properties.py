"""Property tests (hypothesis) of the SQL planner on random customers and day sequences.

- replanning a planned day (the same moment, later that day, or a past day again)
  writes nothing new and changes nothing but `updated_at`;
- one proactive message a day: every planned touch due up to today sits in the one
  bundle of its customer and day, and each bundle sums up its members;
- the SQL gates agree with the pure rule `bot.domain.rules.gate`;
- the SQL due dates and deadlines agree with the pure date rules of bot.domain.rules;
- sweeps, sends and catch-ups never strand a planned touch (in a closed bundle, loose on a
  gone day, or still waiting after its window closed).
Plus regressions the sequences led to (catch-up, daily limit, moved touches).

One database per test; each example clears the planning tables (the `event` table is
append-only by trigger and keeps its rows) and runs its async body with asyncio.run.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import time
from collections import defaultdict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from bot.bootstrap import App, open_app
from bot.db.models import AddressStatus, Branch, Bundle, Callback, Customer, PlanRun, Touch
from bot.domain.kinds import MARKETING_KINDS, REPLY_EXPECTED_KINDS
from bot.domain.rules import birthday_greeting_date, dormancy_episode, gate, new_account_dates
from bot.service.calendar import load_calendar
from bot.service.planning.service import catch_up, plan_day
from bot.service.planning.sweep import sweep
from bot.settings import load_settings
from tests.integration.planning.helpers import at, bundles, seed, touches

PROPERTY = hyp_settings(
    max_examples=int(os.environ.get("PLAN_PROPERTY_EXAMPLES", "30")),
    deadline=None,
    derandomize=bool(os.environ.get("CI")),  # CI replays fixed examples; local runs explore
    database=None,  # no .hypothesis/ directory in the working tree
    # One database per test function on purpose: each example clears the tables it uses.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink),  # no slow "explain"
)

CLEARED = ("touch", "bundle", "callback", "consentchange", "addressstatus", "customer",
           "planrun", "branch")
BRANCH_CODES = ("PA", "PB")
STATUSES = ("active", "active", "active", "frozen", "closed", "deceased")
CONTACTS = ("sms", "sms", "email", "telegram", "sms_email_pref", "blocked_sms", "none")
# Windows worth planning: 调休 Saturday and 春节, 中秋 and 国庆, 29 February, 元旦,
# 中秋 on 国庆 (2031), 端午 (on for branch PB), 28 February off a leap year.
ANCHORS = (date(2026, 2, 11), date(2026, 9, 22), date(2027, 9, 13), date(2028, 2, 25),
           date(2027, 2, 24), date(2026, 12, 29), date(2031, 9, 28), date(2026, 6, 16))
_serial = itertools.count()


def run(body: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run one example's async body on a loop of its own (hypothesis drives sync tests)."""
    asyncio.run(body())


async def reset(app: App) -> None:
    """Empty the planning tables in FK order; events stay (append-only)."""
    async with app.engine.begin() as conn:
        for table in CLEARED:
            await conn.execute(sa.text(f"DELETE FROM {table}"))


# -- populations ---------------------------------------------------------------

OLD = -3000  # an offset far in the past: accounts opened years ago
LEAP = (10_000, 1992)  # a birthday on 29 February (1992)


@dataclass(frozen=True)
class Person:
    """One random customer; dates are day offsets from the example's anchor day."""

    branch: int = 0
    status: str = "active"
    consent: bool | None = True
    opted_out: bool = False
    contact: str = "sms"
    birthday: tuple[int, int] | None = None  # (offset, birth year)
    opened: int | None = None
    traded: int | None = None  # last trade, offset from anchor - 180 days

    def dates(self, anchor: date) -> dict[str, Any]:
        """birthday, opened_on and last_trade_on for an anchor day."""
        birthday = None
        if self.birthday == LEAP:
            birthday = date(1992, 2, 29)
        elif self.birthday is not None:
            day = anchor + timedelta(days=self.birthday[0])
            try:
                birthday = day.replace(year=self.birthday[1])
            except ValueError:  # 29 February
                birthday = date(1992, 2, 29)
        return {
            "birthday": birthday,
            "opened_on": None if self.opened is None else anchor + timedelta(days=self.opened),
            "last_trade_on": None if self.traded is None
            else anchor - timedelta(days=180 - self.traded),
        }


def people(dated: bool = True, min_size: int = 1, max_size: int = 10
           ) -> st.SearchStrategy[list[Person]]:
    """Customers whose birthdays, openings and dormancy crossings fall near the anchor."""
    birthday = st.one_of(st.none(), st.just(LEAP),
                         st.tuples(st.integers(-3, 20), st.integers(1940, 2005)))
    opened = st.one_of(st.none(), st.integers(-15, 20), st.just(OLD))
    traded = st.one_of(st.none(), st.integers(-60, 20))
    person = st.builds(
        Person,
        branch=st.integers(0, len(BRANCH_CODES) - 1),
        status=st.sampled_from(STATUSES),
        consent=st.sampled_from((None, True, False)),
        opted_out=st.booleans(),
        contact=st.sampled_from(CONTACTS),
        birthday=birthday if dated else st.none(),
        opened=opened if dated else st.none(),
        traded=traded if dated else st.none(),
    )
    return st.lists(person, min_size=min_size, max_size=max_size)


def _contact_fields(contact: str, n: int) -> dict[str, Any]:
    phone, email = f"+8529{n:07d}", f"c{n}@example.com"
    return {
        "sms": {"phone": phone},
        "blocked_sms": {"phone": phone},
        "email": {"email": email},
        "telegram": {"telegram_chat_id": str(9000 + n)},
        "sms_email_pref": {"phone": phone, "channels": "email"},  # prefers a channel it lacks
        "none": {},
    }[contact]


async def seed_people(app: App, people_: list[Person], consent: tuple[bool | None, ...],
                      anchor: date) -> list[str]:
    """Branches PA (defaults) and PB (端午 on, the working day before), then the customers."""
    serial = next(_serial)
    ids = []
    async with app.sessions() as s:
        s.add(Branch(code="PA", name="PA", assume_consent=consent[0]))
        s.add(Branch(code="PB", name="PB", assume_consent=consent[1],
                     festival_offset_working_days=-1,
                     festivals_json=json.dumps({"switches": {"dragon_boat": True}})))
        await s.flush()
        for i, p in enumerate(people_):
            cid = f"P{serial}-{i}"
            ids.append(cid)
            fields = _contact_fields(p.contact, serial * 100 + i)
            s.add(Customer(id=cid, name="李四", branch_code=BRANCH_CODES[p.branch],
                           status=p.status, marketing_consent=p.consent,
                           opted_out_at=at(date(2020, 1, 1)) if p.opted_out else None,
                           **p.dates(anchor), **fields))
            if p.contact == "blocked_sms":
                s.add(AddressStatus(channel="sms", address=fields["phone"], status="unusable"))
        await s.commit()
    return ids


# -- snapshots and invariants --------------------------------------------------

TABLES: dict[str, sa.Table] = {
    "touch": Touch.__table__,  # type: ignore[attr-defined]
    "bundle": Bundle.__table__,  # type: ignore[attr-defined]
    "callback": Callback.__table__,  # type: ignore[attr-defined]
    "planrun": PlanRun.__table__,  # type: ignore[attr-defined]
}


async def snapshot(app: App) -> dict[str, list[Any]]:
    """Every planning row, ordered by key; `updated_at` left out (a replan may touch it)."""
    found: dict[str, list[Any]] = {}
    async with app.engine.connect() as conn:
        for name, table in TABLES.items():
            cols = [c for c in table.c if c.name not in ("updated_at", "planned_at")]
            rows = await conn.execute(sa.select(*cols).order_by(*table.primary_key.columns))
            found[name] = list(rows.mappings())
    return found


def assert_same(before: dict[str, list[Any]], after: dict[str, list[Any]], what: str) -> None:
    for name in TABLES:
        new = [r for r in after[name] if r not in before[name]]
        gone = [r for r in before[name] if r not in after[name]]
        assert not new and not gone, f"{what}: {name} changed\n  new/changed: {new}\n  was: {gone}"


def assert_one_message_a_day(snap: dict[str, list[Any]], today: date) -> None:
    """Planned touches due up to today are bundled per (customer, day); bundles sum them up."""
    bundles = {b["id"]: b for b in snap["bundle"]}
    members: dict[int, list[Any]] = defaultdict(list)
    per_day: dict[tuple[str, date], set[int | None]] = defaultdict(set)
    for t in snap["touch"]:
        if t["bundle_id"] is not None:
            b = bundles[t["bundle_id"]]
            assert (b["customer_id"], b["local_date"]) == (t["customer_id"], t["due_on"]), t
            members[b["id"]].append(t)
        if t["status"] == "planned":
            assert t["due_at"] == at(t["due_on"], 9, 0), t  # the window start of its day
        if t["status"] == "planned" and t["due_on"] <= today:
            per_day[(t["customer_id"], t["due_on"])].add(t["bundle_id"])
    for (customer, day), ids in per_day.items():
        assert None not in ids, f"{customer}: planned touch due {day} (today {today}) in no bundle"
        assert len(ids) == 1, f"{customer}: {len(ids)} bundles on {day}"
    for b in bundles.values():
        group = members[b["id"]]
        kinds = {t["kind"] for t in group}
        assert group, f"bundle {b['customer_id']} {b['local_date']} has no touch"
        assert all(t["status"] == "planned" for t in group), group
        assert b["expects_reply"] == bool(kinds & REPLY_EXPECTED_KINDS), (b, kinds)
        assert b["marketing"] == bool(kinds & MARKETING_KINDS), (b, kinds)
        deadlines = [t["reply_deadline"] for t in group if t["reply_deadline"] is not None]
        assert b["reply_deadline"] == min(deadlines, default=None), (b, deadlines)
        assert b["due_at"] == at(b["local_date"], 9, 0), b  # both branches: 09:00 Shanghai


# -- (a) and (b): random day sequences ----------------------------------------

@PROPERTY
@given(anchor=st.sampled_from(ANCHORS), first=st.integers(0, 3),
       gaps=st.lists(st.integers(1, 4), max_size=4),
       replans=st.lists(st.integers(0, 1000), min_size=5, max_size=5),
       population=people(),
       consent=st.tuples(st.sampled_from((None, True, False)), st.sampled_from((None, True))),
       assume=st.booleans())
def test_replanning_creates_nothing_and_one_message_a_day(
    database_url: str, anchor: date, first: int, gaps: list[int], replans: list[int],
    population: list[Person], consent: tuple[bool | None, ...], assume: bool,
) -> None:
    """Catch up day by day (gaps are outages); replans write nothing; bundles stay one a day."""
    todays = list(itertools.accumulate(gaps, lambda d, g: d + timedelta(days=g),
                                       initial=anchor + timedelta(days=first)))

    async def body() -> None:
        config = load_settings(_env_file=None, database_url=database_url, assume_consent=assume)
        async with open_app(config, migrate=False) as app:
            await reset(app)
            await seed_people(app, population, consent, anchor)
            planned: list[date] = []
            for today, pick in zip(todays, replans, strict=False):
                results = await catch_up(app, now=at(today))
                expected = [today] if not planned else [
                    planned[-1] + timedelta(days=i + 1) for i in range((today - planned[-1]).days)]
                assert [r.day for r in results] == expected
                planned.extend(expected)
                after = await snapshot(app)
                assert [r["day"] for r in after["planrun"]] == planned
                # Replanning creates nothing: today again, later in the day (an import
                # re-plans at 23:00), and an earlier day picked at random.
                again = await plan_day(app, today, now=at(today, 23, 0))
                assert again.by_kind == results[-1].by_kind
                assert_same(after, await snapshot(app), f"replan {today}")
                earlier = planned[pick % len(planned)]
                await plan_day(app, earlier, now=at(today, 23, 30))
                assert_same(after, await snapshot(app), f"replan {earlier} on {today}")
                assert await catch_up(app, now=at(today, 23, 45)) == []  # a later tick
                assert_same(after, await snapshot(app), f"catch-up tick on {today}")
                assert_one_message_a_day(after, today)
                async with app.sessions() as s:
                    cal = await load_calendar(s)
                for t in after["touch"]:  # caught-up days too: replies counted from the message
                    if t["kind"] in REPLY_EXPECTED_KINDS and t["status"] == "planned":
                        assert t["reply_deadline"] == at(cal.add_working_days(t["due_on"], 2),
                                                         17, 30), t

    run(body)


def assert_nothing_stranded(snap: dict[str, list[Any]], today: date, window_closed: bool
                            ) -> None:
    """Every planned touch can still go: its bundle (if any) is waiting, nothing loose is
    due before today, and once today's window closed nothing of today is still waiting."""
    bundles = {b["id"]: b for b in snap["bundle"]}
    for t in snap["touch"]:
        if t["status"] != "planned":
            continue
        if t["bundle_id"] is not None:
            assert bundles[t["bundle_id"]]["status"] == "planned", (t, bundles[t["bundle_id"]])
        else:
            assert t["due_on"] >= today, f"loose planned touch due {t['due_on']} (today {today})"
        if window_closed:
            assert t["due_on"] > today, f"still waiting after today's window closed: {t}"
    if window_closed:
        assert not [b for b in bundles.values()
                    if b["status"] == "planned" and b["local_date"] <= today]


@PROPERTY
@given(anchor=st.sampled_from(ANCHORS), first=st.integers(0, 3),
       gaps=st.lists(st.integers(1, 3), min_size=2, max_size=4),
       sweeps=st.lists(st.sampled_from((12, 20, 23)), min_size=5, max_size=5),
       sends=st.lists(st.sampled_from(("none", "half", "all")), min_size=5, max_size=5),
       population=people())
def test_sweeps_sends_and_catch_ups_strand_nothing(
    database_url: str, anchor: date, first: int, gaps: list[int], sweeps: list[int],
    sends: list[str], population: list[Person],
) -> None:
    """Days go by with outages between them; on each some of the day's bundles go out (as
    the dispatcher would mark them), the sweep runs at noon or after the 20:00 window end,
    and the next tick tidies: no planned touch is ever left where it cannot go."""
    todays = list(itertools.accumulate(gaps, lambda d, g: d + timedelta(days=g),
                                       initial=anchor + timedelta(days=first)))
    bundle_table, touch_table = TABLES["bundle"], TABLES["touch"]

    async def send_some(app: App, today: date, how: str) -> None:
        if how == "none":
            return
        async with app.engine.begin() as conn:
            ids = (await conn.execute(sa.select(bundle_table.c.id).where(
                bundle_table.c.status == "planned", bundle_table.c.local_date == today)
                .order_by(bundle_table.c.id))).scalars().all()
            chosen = ids[::2] if how == "half" else ids
            if chosen:
                await conn.execute(sa.update(touch_table).where(
                    touch_table.c.bundle_id.in_(chosen), touch_table.c.status == "planned")
                    .values(status="sent"))
                await conn.execute(sa.update(bundle_table).where(
                    bundle_table.c.id.in_(chosen)).values(status="sent"))

    async def body() -> None:
        config = load_settings(_env_file=None, database_url=database_url)
        async with open_app(config, migrate=False) as app:
            await reset(app)
            await seed_people(app, population, (True, True), anchor)
            for today, hour, how in zip(todays, sweeps, sends, strict=False):
                await catch_up(app, now=at(today))
                await send_some(app, today, how)
                async with app.sessions() as s:
                    await sweep(s, at(today, hour))
                    await s.commit()
                await catch_up(app, now=at(today, hour, 5))
                assert_nothing_stranded(await snapshot(app), today, window_closed=hour >= 20)

    run(body)


async def test_touch_due_on_a_missed_day_is_not_stranded(app: App) -> None:
    """A touch due on a day the planner was down for still goes out (moved), never stranded.

    Thu 2026-03-05 planned; a restart on Sat 03-07 catches up Fri, whose new_account
    (opened Thu) is due Mon 03-09; down again until Tue 03-10, which catches up Mon as a
    past day. Today the touch stays `planned`, due Mon, in no bundle: nothing sends it.
    """
    await seed(app, {"opened_on": date(2026, 3, 5)})
    for today in (date(2026, 3, 5), date(2026, 3, 7), date(2026, 3, 10)):
        await catch_up(app, now=at(today))
    (touch,) = await touches(app)
    assert (touch.kind, touch.status) == ("new_account", "planned")
    (bundle,) = await bundles(app)
    assert touch.bundle_id == bundle.id
    assert touch.due_on == bundle.local_date == date(2026, 3, 10)


async def test_planning_a_future_day_does_not_stop_catch_up(app: App) -> None:
    """`outreach plan --date` for a later day must not mark the days before it as planned.

    Today catch_up returns [] while the last plan_run day is after today, so 03-06..03-09
    are never planned (the birthday on 03-06 gets no touch at all), and a customer
    imported before 03-10 misses a greeting on a day that was "planned" in advance.
    """
    await seed(app, {"birthday": date(1990, 3, 6)})
    await catch_up(app, now=at(date(2026, 3, 5)))
    await plan_day(app, date(2026, 3, 10), now=at(date(2026, 3, 5), 10))  # a preview, not dry
    assert [r.day for r in await catch_up(app, now=at(date(2026, 3, 6)))] == [date(2026, 3, 6)]
    assert [(t.kind, t.due_on) for t in await touches(app)] == [("birthday", date(2026, 3, 6))]
    async with app.sessions() as s:
        s.add(Customer(id="C2", name="赵六", branch_code="SH01", phone="+85291234568",
                       marketing_consent=True, birthday=date(1991, 3, 10)))
        await s.commit()
    for today in (date(2026, 3, 9), date(2026, 3, 10)):
        await catch_up(app, now=at(today))
    assert ("C2", date(2026, 3, 10)) in {(t.customer_id, t.due_on) for t in await touches(app)}


async def test_a_touch_moved_past_the_days_message_keeps_due_at_with_due_on(app: App) -> None:
    """The day's message already went: a callback-type touch moves to the next working day,
    and its due time (the start of that day's window) moves with it."""
    await seed(app, {"birthday": date(1990, 3, 3)})
    await plan_day(app, date(2026, 3, 3), now=at(date(2026, 3, 3)))
    async with app.sessions() as s:
        await (await s.connection()).execute(sa.update(Bundle).values(status="sent"))
        s.add(Touch(customer_id="C1", kind="dormancy", dedupe_key="dormancy:2025-09-03",
                    due_on=date(2026, 3, 3), due_at=at(date(2026, 3, 3), 9, 0)))
        await s.commit()
    await plan_day(app, date(2026, 3, 3), now=at(date(2026, 3, 3), 23))
    (moved,) = [t for t in await touches(app) if t.kind == "dormancy"]
    assert (moved.status, moved.due_on) == ("planned", date(2026, 3, 4))
    assert moved.due_at == at(date(2026, 3, 4), 9, 0)


# -- SQL due dates agree with the pure date rules --------------------------------

@PROPERTY
@given(anchor=st.sampled_from(ANCHORS), first=st.integers(-5, 5), span=st.integers(3, 10),
       population=people())
def test_sql_due_dates_agree_with_the_pure_rules(
    database_url: str, anchor: date, first: int, span: int, population: list[Person],
) -> None:
    """Every day planned in turn: exactly the birthday, new_account and dormancy touches the
    rules ask for, on their days, with their deadlines; due dates inside the span are those
    of bot.domain.rules, earlier ones (first run) follow the lookbacks of issue 4."""
    days = [anchor + timedelta(days=first + i) for i in range(span)]

    async def body() -> None:
        config = load_settings(_env_file=None, database_url=database_url)
        async with open_app(config, migrate=False) as app:
            await reset(app)
            ids = await seed_people(app, population, (None, None), anchor)
            for day in days:
                await plan_day(app, day, now=at(day))
            async with app.sessions() as s:
                cal = await load_calendar(s)
            snap = await snapshot(app)
        got = {(t["customer_id"], t["dedupe_key"]): (
            t["due_on"], t["reply_deadline"], t["sla_due_at"], t["status"] == "skipped_backfill")
            for t in snap["touch"] if t["kind"] != "holiday"}
        want = {}
        for cid, p in zip(ids, population, strict=True):
            want.update({(cid, k): v for k, v in expected_touches(p.dates(anchor), days, cal)})
        assert got == want

    run(body)


Expected = tuple[str, tuple[date, Any, Any, bool]]


def expected_touches(person: dict[str, Any], days: list[date], cal: Any
                     ) -> list[Expected]:
    """Touches (key, (due_on, reply_deadline, sla_due_at, skipped_backfill)) for one
    customer when `days` are planned in turn, each as today."""
    def eod(day: date) -> Any:
        return at(day, 17, 30)

    found: list[Expected] = []
    birthday, opened = person["birthday"], person["opened_on"]
    for day in days:
        if birthday and birthday_greeting_date(birthday, day.year) == day:
            found.append((f"birthday:{day.year}", (day, None, None, False)))
    working = [d for d in days if cal.is_working_day(d)]
    if opened:
        rule = new_account_dates(opened, cal)
        # Due the first working day after opening; opened before the first run but
        # still inside the SLA period (opened + 5 working days): the first working day.
        due = next((d for d in working if opened < d <= rule.sla_on), None)
        if days[0] <= rule.due_on <= days[-1]:
            assert due == rule.due_on
        if due:
            found.append(("new_account", (due, eod(cal.add_working_days(due, 2)),
                                          eod(rule.sla_on), False)))
    episode = dormancy_episode(opened, person["last_trade_on"], cal)
    if episode:
        crossing = episode.crossing_on
        for day in days:  # crossed more than 30 days back: skipped_backfill, any day
            if crossing < day - timedelta(days=30):
                found.append((episode.dedupe_key, (day, None, None, True)))
                break
            if day in working and crossing < day:
                if days[0] <= episode.dates.due_on <= days[-1]:
                    assert day == episode.dates.due_on
                found.append((episode.dedupe_key, (day, eod(cal.add_working_days(day, 2)),
                                                   eod(episode.dates.sla_on), False)))
                break
    return found


# -- (c): the SQL gates agree with the pure rule --------------------------------

GATE_DAY = date(2026, 3, 3)  # Tuesday, a working day


def expected_touch(kind: str, p: Person, assume: bool) -> tuple[str, str | None]:
    """The pure rule, then the channel check (SQL order: status, opt-out, consent, channel)."""
    verdict = gate(kind, p.status, p.consent, assume_consent=assume, opted_out=p.opted_out)
    if verdict.status == "planned" and p.contact in ("none", "blocked_sms", "sms_email_pref"):
        return "no_channel", "no_channel"
    return verdict.status, verdict.reason


@PROPERTY
@given(population=people(dated=False, min_size=4, max_size=24),
       consent=st.tuples(st.sampled_from((None, True, False)), st.sampled_from((None, True, False))),
       assume=st.booleans())
def test_sql_gates_agree_with_the_pure_rule(
    database_url: str, population: list[Person], consent: tuple[bool | None, ...], assume: bool,
) -> None:
    """Birthday (marketing) and new_account (mandatory) touches get `gate`'s status and reason."""
    dated = [replace(p, birthday=(0, 1985), opened=-1) for p in population]

    async def body() -> None:
        config = load_settings(_env_file=None, database_url=database_url, assume_consent=assume)
        async with open_app(config, migrate=False) as app:
            await reset(app)
            ids = await seed_people(app, dated, consent, GATE_DAY)
            await plan_day(app, GATE_DAY, now=at(GATE_DAY))
            snap = await snapshot(app)
            got = {(t["customer_id"], t["kind"]): (t["status"], t["reason"]) for t in snap["touch"]}
            want = {}
            for cid, p in zip(ids, dated, strict=True):
                branch_default = consent[p.branch]
                effective = assume if branch_default is None else branch_default
                for kind in ("birthday", "new_account"):
                    want[(cid, kind)] = expected_touch(kind, p, effective)
            assert got == want
            to_a_person = {t["customer_id"] for t in snap["touch"] if t["kind"] == "new_account"
                           and t["status"] in ("escalated", "no_channel")}
            assert {c["customer_id"] for c in snap["callback"]} == to_a_person
            assert_one_message_a_day(snap, GATE_DAY)

    run(body)


async def test_a_touch_moved_after_an_outage_gets_a_reply_window_from_its_new_day(
    app: App,
) -> None:
    """Reply windows run from the message: a new_account moved from Mon 03-09 (the planner
    was down) to Fri 03-13 expects its reply by Tue 03-17, not by Wed 03-11 - else the
    sweep calls it unanswered the minute it is sent."""
    await seed(app, {"opened_on": date(2026, 3, 5)})
    for today in (date(2026, 3, 5), date(2026, 3, 7), date(2026, 3, 13)):
        await catch_up(app, now=at(today))
    (touch,) = await touches(app)
    (bundle,) = await bundles(app)
    assert (touch.status, touch.due_on, touch.bundle_id) == ("planned", date(2026, 3, 13), bundle.id)
    async with app.sessions() as s:  # sent at 09:00; the sweep a minute later
        await (await s.connection()).execute(sa.update(Touch).values(status="sent"))
        assert (await sweep(s, at(date(2026, 3, 13), 9, 1)))["unanswered"] == 0
        await s.rollback()
    assert touch.reply_deadline == bundle.reply_deadline == at(date(2026, 3, 17), 17, 30)


async def test_a_touch_moved_past_the_days_message_gets_a_reply_window_from_its_new_day(
    app: App,
) -> None:
    """The day's message went; a new_account that arrives later (an import at 23:00 with
    the opening date) moves to Wed 03-04 and expects its reply by Fri 03-06."""
    await seed(app, {"birthday": date(1990, 3, 3)})
    await plan_day(app, date(2026, 3, 3), now=at(date(2026, 3, 3)))
    async with app.sessions() as s:
        await (await s.connection()).execute(sa.update(Bundle).values(status="sent"))
        customer = await s.get(Customer, "C1")
        assert customer is not None
        customer.opened_on = date(2026, 3, 2)
        s.add(customer)
        await s.commit()
    await plan_day(app, date(2026, 3, 3), now=at(date(2026, 3, 3), 23))
    (moved,) = [t for t in await touches(app) if t.kind == "new_account"]
    assert (moved.status, moved.due_on, moved.due_at) == (
        "planned", date(2026, 3, 4), at(date(2026, 3, 4), 9, 0))
    assert moved.reply_deadline == at(date(2026, 3, 6), 17, 30)


async def test_a_catch_up_tick_with_nothing_new_rewrites_no_bundle(app: App) -> None:
    """The scheduler's catch-up tick (every 5 minutes) completes today's bundles; with no
    new touch it must not rewrite them: on a holiday that is every customer's bundle
    (980,000 rows, 4.7 s holding SQLite's write lock at 1 M customers, bench/plan.py)."""
    await seed(app, {}, {"birthday": date(1990, 10, 1)})
    await catch_up(app, now=at(date(2026, 10, 1)))
    before = {b.id: b.updated_at for b in await bundles(app)}
    assert len(before) == 2
    assert await catch_up(app, now=at(date(2026, 10, 1), 0, 10)) == []
    assert {b.id: b.updated_at for b in await bundles(app)} == before


@pytest.mark.slow
async def test_a_holiday_for_20000_customers_plans_in_linear_time(app: App) -> None:
    """Budget 8 s for 20,000 greetings and bundles (about 1 s when linear). On PostgreSQL
    the statistics predate the transaction's own rows, so attaching touches to bundles
    became a nested loop over the whole day (20 s at 20 k, hours at 1 M)."""
    now = at(date(2026, 9, 1))
    async with app.sessions() as s:
        s.add(Branch(code="SH01", name="SH01"))
        await s.commit()
    rows = [{"id": f"L{i:05d}", "name": "客户", "branch_code": "SH01",
             "phone": f"+8529{i:07d}", "telegram_bound": False, "tier": "standard",
             "locale": "zh-CN", "marketing_consent": True, "status": "active",
             "opened_on": date(2020, 1, 6), "last_trade_on": date(2026, 9, 1),
             "created_at": now, "updated_at": now} for i in range(20_000)]
    async with app.engine.begin() as conn:
        await conn.execute(sa.insert(Customer.__table__), rows)  # type: ignore[attr-defined]
    await plan_day(app, date(2026, 9, 30), now=at(date(2026, 9, 30)))
    started = time.perf_counter()
    result = await plan_day(app, date(2026, 10, 1), now=at(date(2026, 10, 1)))
    seconds = time.perf_counter() - started
    assert result.by_kind == {"holiday": {"planned": 20_000}}
    assert len(await bundles(app)) == 20_000
    assert seconds < 8, f"{seconds:.1f} s"


@pytest.mark.slow
async def test_greetings_the_working_day_before_and_dormancy_plan_in_linear_time(
    app: App,
) -> None:
    """Budget 8 s. A branch greeting the working day before (offset -1) plans 国庆 on Wed
    2026-09-30 together with that day's dormancy crossings. The cap's per-customer count of
    this quarter's touches must not scan the greetings just inserted once per candidate
    (on PostgreSQL, statistics without this transaction's rows chose exactly that); the
    installation's first run, with its skipped_backfill rows, is the same case."""
    now = at(date(2026, 9, 1))
    async with app.sessions() as s:
        s.add(Branch(code="SH01", name="SH01", festival_offset_working_days=-1))
        await s.commit()
    # Last trades 2026-03-04 … 2026-04-02: every customer crossed 180 days within the last 30.
    rows = [{"id": f"L{i:05d}", "name": "客户", "branch_code": "SH01",
             "phone": f"+8529{i:07d}", "telegram_bound": False, "tier": "standard",
             "locale": "zh-CN", "marketing_consent": True, "status": "active",
             "opened_on": date(2020, 1, 6), "last_trade_on": date(2026, 3, 4) + timedelta(i % 30),
             "created_at": now, "updated_at": now} for i in range(30_000)]
    async with app.engine.begin() as conn:
        await conn.execute(sa.insert(Customer.__table__), rows)  # type: ignore[attr-defined]
    started = time.perf_counter()
    result = await plan_day(app, date(2026, 9, 30), now=at(date(2026, 9, 30)))
    seconds = time.perf_counter() - started
    assert result.by_kind == {"holiday": {"planned": 30_000}, "dormancy": {"planned": 30_000}}
    assert seconds < 8, f"{seconds:.1f} s"
