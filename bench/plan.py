"""Benchmark: planning a day for N synthetic customers, against a bare INSERT … SELECT.

Usage: python bench/plan.py [--customers 1000000] [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/postgres]

SQLite always runs, on a fresh file; PostgreSQL runs when --database-url names a server
(the script creates and drops its own database `outreach_bench` there). Each database
runs in a subprocess of its own, so peak RSS is per database.

Phases, each `plan_day(app, day)` in one transaction, as the scheduler runs it:
  first run   Mon 2026-09-14, the installation's first day (long-dormant → skipped_backfill)
  ordinary    Tue 2026-09-15: birthdays, new accounts, dormancy crossings
  holiday     Thu 2026-10-01 国庆: a greeting for every customer (consent for all)
  replan      2026-10-01 again, same moment: every row conflicts, nothing new
  tick        the scheduler's catch-up tick five minutes later (`catch_up`): the day is
              planned, so only its tidy-up runs; "bundles" counts the bundle rows rewritten
Three baselines per phase, in the same process on the same data just before it: bare
INSERT … SELECT statements of the same touch rows with the same per-rule predicates (the
dedupe key checked with NOT EXISTS), with no gates, no conflict handling, no callbacks,
  bare        into an unindexed scratch table: the floor of reading and writing the rows;
  bare→touch  into `touch` itself (its unique key, four indexes, three foreign keys), then
              rolled back: what storing the touch rows costs at all;
  bare→touch+bundle
              what storing the rows the planner stores costs at all: one `bundle` row per
              customer and day (in customer order) and each touch in it, then rolled back.
              PostgreSQL: one statement per branch group, the bundle ids from INSERT …
              RETURNING in a data-modifying CTE; SQLite (no INSERT in WITH): the rules'
              rows into an unindexed temporary table, bundles from it, then the touches,
              each looking its bundle up by (customer_id, local_date). Without gates it
              bundles every customer with a touch (except the backfill rule's rows, which
              the planner always writes as skipped_backfill), so it writes a bundle for
              customers the planner suppresses (on 国庆 the 20,000 frozen ones).
ratio = plan seconds / baseline seconds (replan and tick: against the holiday's). Row
counts are checked: each baseline's touches against the planner's, and the bundles against
the customers of the planner's new touches (a warning when they differ).

On PostgreSQL the bench database gets `statement_timeout` (--statement-timeout, 300 s):
a planning statement that goes quadratic is recorded as "timeout" and ends that run.
Default run (1 M customers, both databases): about 5 minutes when planning is linear.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.exc import DBAPIError  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncConnection  # noqa: E402
from sqlmodel.sql.sqltypes import UTCDateTime  # noqa: E402

from bot.bootstrap import App, open_app  # noqa: E402
from bot.calendars import lunar_to_solar  # noqa: E402
from bot.db.engine import make_engine  # noqa: E402
from bot.domain.calendar import WorkingCalendar  # noqa: E402
from bot.domain.festivals import greetings_due_on  # noqa: E402
from bot.domain.kinds import MARKETING_KINDS, REPLY_EXPECTED_KINDS  # noqa: E402
from bot.domain.rules import birthday_key, holiday_key  # noqa: E402
from bot.service.calendar import load_calendar  # noqa: E402
from bot.service.planning.bundling import BU  # noqa: E402
from bot.service.planning.context import BranchGroup, load_groups  # noqa: E402
from bot.service.planning.rules_sql import TOUCH_COLUMNS, C, T  # noqa: E402
from bot.service.planning.service import catch_up, plan_day  # noqa: E402
from bot.service.planning.sqlbits import date_text, month_day  # noqa: E402
from bot.settings import Settings, load_settings  # noqa: E402

SH = ZoneInfo("Asia/Shanghai")
BRANCHES = 20
BENCH_DB = "outreach_bench"
PHASES = (("first run", date(2026, 9, 14)), ("ordinary", date(2026, 9, 15)),
          ("holiday", date(2026, 10, 1)), ("replan", date(2026, 10, 1)),
          ("tick", date(2026, 10, 1)))
REPEATS = ("replan", "tick")  # nothing new to plan: measured against the holiday's bare
SEED_DAY = date(2026, 9, 15)

# One synthetic population for both databases: ids C00000000…, 20 branches, birthdays
# over 40 years, accounts opened over ~5.5 years (≈ N/2000 a day), last trades over
# 400 days (about half dormant), consent for all, every 50th customer frozen.
CUSTOMER_COLUMNS = ("id, name, branch_code, phone, telegram_bound, birthday, opened_on, "
                    "last_trade_on, tier, locale, marketing_consent, status, created_at, updated_at")
SQLITE_CUSTOMERS = f"""
WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < :n - 1)
INSERT INTO customer ({CUSTOMER_COLUMNS})
SELECT printf('C%08d', i), '客户' || i, printf('B%02d', i % {BRANCHES}),
       printf('+86138%08d', i), 0,
       date('1960-01-01', '+' || ((i * 37) % 14600) || ' days'),
       date(:seed, '-' || (1 + i % 2000) || ' days'),
       date(:seed, '-' || ((i * 7) % 400) || ' days'),
       'standard', 'zh-CN', 1, CASE WHEN i % 50 = 0 THEN 'frozen' ELSE 'active' END,
       :now, :now
FROM seq
"""
PG_CUSTOMERS = f"""
INSERT INTO customer ({CUSTOMER_COLUMNS})
SELECT 'C' || lpad(i::text, 8, '0'), '客户' || i, 'B' || lpad((i % {BRANCHES})::text, 2, '0'),
       '+86138' || lpad(i::text, 8, '0'), false,
       date '1960-01-01' + (i * 37) % 14600,
       CAST(:seed AS date) - (1 + i % 2000),
       CAST(:seed AS date) - (i * 7) % 400,
       'standard', 'zh-CN', true, CASE WHEN i % 50 = 0 THEN 'frozen' ELSE 'active' END,
       :now, :now
FROM generate_series(0, :n - 1) AS i
"""


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def at(day: date, hh: int = 0, mm: int = 5) -> datetime:
    """Just after local midnight, when the scheduler plans a day."""
    return datetime.combine(day, dtime(hh, mm), SH)


async def seed(app: App, customers: int) -> float:
    """Branches and customers, set-based; returns seconds."""
    now = datetime.now(UTC)
    dialect = app.engine.dialect.name
    started = time.perf_counter()
    async with app.engine.begin() as conn:
        await conn.execute(
            sa.text("INSERT INTO branch (code, name, timezone, send_window, working_hours, "
                    "recording_ref_required, festival_offset_working_days, created_at, "
                    "updated_at) VALUES (:code, :code, 'Asia/Shanghai', '09:00-20:00', "
                    "'09:00-17:30', :yes, 0, :now, :now)")
            .bindparams(sa.bindparam("now", type_=UTCDateTime())),
            [{"code": f"B{b:02d}", "now": now, "yes": True} for b in range(BRANCHES)])
        statement = sa.text(PG_CUSTOMERS if dialect == "postgresql" else SQLITE_CUSTOMERS)
        await conn.execute(
            statement.bindparams(sa.bindparam("now", type_=UTCDateTime()),
                                 sa.bindparam("seed", type_=sa.Date()) if dialect == "postgresql"
                                 else sa.bindparam("seed", type_=sa.String())),
            {"n": customers, "now": now,
             "seed": SEED_DAY if dialect == "postgresql" else SEED_DAY.isoformat()})
    if dialect == "postgresql":  # autovacuum would have by the time anyone plans
        async with app.engine.connect() as conn:
            await conn.execute(sa.text("ANALYZE"))
            await conn.commit()
    return time.perf_counter() - started


# -- the bare baseline ------------------------------------------------------------

SCRATCH = sa.Table("bench_scratch", sa.MetaData(),
                   *(sa.Column(c.name, c.type) for c in T.c if c.name in TOUCH_COLUMNS))


def rule_selects(day: date, cal: WorkingCalendar, group: BranchGroup, settings: Settings,
                 dialect: str, now: datetime) -> list[tuple[sa.Select[Any], bool]]:
    """The planner's candidate rows for `day`, rule by rule, without any gate, each with
    whether the planner bundles that rule's rows (all but the backfill rule, whose rows it
    writes as `skipped_backfill` whatever the customer)."""
    activity = sa.func.coalesce(C.c.last_trade_on, C.c.opened_on)
    dormancy_key = sa.literal("dormancy:") + date_text(dialect, activity)
    rules: list[tuple[str, Any, list[Any], str | None, bool]] = []
    md = [day.strftime("%m-%d")]
    if (day.month, day.day) == (2, 28) and day.year % 4 != 0:
        md.append("02-29")
    rules.append(("birthday", sa.literal(birthday_key(day.year)),
                  [C.c.birthday.is_not(None), month_day(dialect, C.c.birthday).in_(md)], None,
                  True))
    for code, year in sorted(greetings_due_on(day, group.festivals, cal, lunar_to_solar,
                                              group.offset).items()):
        rules.append(("holiday", sa.literal(holiday_key(code, year)), [], code, True))
    old_activity = day - timedelta(days=settings.dormancy_backfill_days + settings.dormancy_days)
    rules.append(("dormancy", dormancy_key, [activity < old_activity], None, False))
    if cal.is_working_day(day):
        opened, candidate = [], day - timedelta(days=1)
        while cal.add_working_days(candidate, settings.new_account_sla_working_days) >= day:
            opened.append(candidate)
            candidate -= timedelta(days=1)
        if opened:
            rules.append(("new_account", sa.literal("new_account"),
                          [C.c.opened_on >= min(opened), C.c.opened_on <= max(opened)], None,
                          True))
        rules.append(("dormancy", dormancy_key, [
            activity >= old_activity,
            activity <= day - timedelta(days=settings.dormancy_days + 1)], None, True))
    stamp = sa.literal(now, UTCDateTime())
    due_at = sa.literal(group.window_utc(day)[0], UTCDateTime())
    selects = []
    for kind, key, where, festival, bundled in rules:
        done = sa.exists().where(T.c.customer_id == C.c.id, T.c.dedupe_key == key)
        no_time = sa.cast(sa.null(), UTCDateTime())  # typed: PostgreSQL's UNION needs it
        values = (C.c.id, sa.literal(kind), key, sa.literal("planned"), sa.null(),
                  sa.literal(day, sa.Date()), due_at, no_time, no_time,
                  sa.literal(festival, sa.String) if festival else sa.null(), stamp, stamp)
        selects.append((
            sa.select(*(v.label(name) for v, name in zip(values, TOUCH_COLUMNS, strict=True)))
            .where(C.c.branch_code.in_(group.codes), *where, sa.not_(done)), bundled))
    return selects


BUNDLE_COLUMNS = ["customer_id", "local_date", "status", "due_at", "expects_reply",
                  "reply_deadline", "marketing", "attempts", "created_at", "updated_at"]


def per_customer(rows: Any, day: date, now: datetime) -> sa.Select[Any]:
    """One bundle row per customer of `rows` (the columns the planner fills in), in
    customer order: ids then follow the customers, and the touches' key lookups stay
    local (in hash order, PostgreSQL's foreign-key checks took twice as long at 1 M)."""
    def flag(kinds: frozenset[str]) -> Any:
        return sa.func.max(sa.case((rows.c.kind.in_(sorted(kinds)), 1), else_=0)) == 1

    stamp = sa.literal(now, UTCDateTime())
    return (sa.select(rows.c.customer_id, sa.literal(day, sa.Date()), sa.literal("planned"),
                      sa.func.min(rows.c.due_at), flag(REPLY_EXPECTED_KINDS),
                      sa.func.min(rows.c.reply_deadline), flag(MARKETING_KINDS), sa.literal(0),
                      stamp, stamp)
            .group_by(rows.c.customer_id).order_by(rows.c.customer_id))


#: SQLite's bare→touch+bundle: the bundled rules' rows, read once (no indexes).
BARE_ROWS = sa.Table("bench_rows", sa.MetaData(),
                     *(sa.Column(c.name, c.type) for c in T.c if c.name in TOUCH_COLUMNS),
                     prefixes=["TEMPORARY"])


async def insert_bundled(conn: AsyncConnection, selects: list[sa.Select[Any]], day: date,
                         now: datetime) -> int:
    """The bundled rules' rows into `touch`, each in its customer's new bundle for `day`,
    the bare way, the rules read once; returns the touch rows. PostgreSQL: one statement,
    the bundles' ids from INSERT … RETURNING in a data-modifying CTE. SQLite has no INSERT
    in WITH: the rows go to an unindexed temporary table, the bundles are made from it,
    then the touches, each bundle id looked up through the (customer_id, local_date) key."""
    if not selects:
        return 0
    if conn.dialect.name == "postgresql":
        rows = sa.union_all(*selects).cte("bare_rows")
        made = (BU.insert().from_select(BUNDLE_COLUMNS, per_customer(rows, day, now),
                                        include_defaults=False)
                .returning(BU.c.id, BU.c.customer_id).cte("bare_bundles"))
        touches = sa.select(*(rows.c[name] for name in TOUCH_COLUMNS), made.c.id).join_from(
            rows, made, made.c.customer_id == rows.c.customer_id)
        result = await conn.execute(T.insert().from_select(
            [*TOUCH_COLUMNS, "bundle_id"], touches, include_defaults=False).add_cte(made))
        return int(result.rowcount)
    await conn.run_sync(BARE_ROWS.create)
    for select in selects:
        await conn.execute(BARE_ROWS.insert().from_select(TOUCH_COLUMNS, select))
    await conn.execute(BU.insert().from_select(
        BUNDLE_COLUMNS, per_customer(BARE_ROWS, day, now), include_defaults=False))
    bundle_id = (sa.select(BU.c.id)
                 .where(BU.c.customer_id == BARE_ROWS.c.customer_id, BU.c.local_date == day)
                 .scalar_subquery())
    result = await conn.execute(T.insert().from_select(
        [*TOUCH_COLUMNS, "bundle_id"],
        sa.select(*(BARE_ROWS.c[name] for name in TOUCH_COLUMNS), bundle_id),
        include_defaults=False))
    await conn.run_sync(BARE_ROWS.drop)
    return int(result.rowcount)


@dataclass
class Baseline:
    """The three bare runs of one phase: seconds each, and the rows they wrote."""

    bare: float = 0.0
    touch: float = 0.0
    bundle: float = 0.0
    rows: int = 0
    touch_rows: int = 0
    bundle_touches: int = 0
    bundles: int = 0


async def bare_insert(app: App, day: date, now: datetime) -> Baseline:
    """The bare INSERT … SELECT statements for `day`, three times: into an unindexed scratch
    table (the floor); into `touch` itself, with its indexes and foreign keys, rolled back
    (what storing these rows costs at all); and into `touch` and `bundle`, one bundle per
    customer and day with each touch in it, rolled back (what storing the planner's rows
    costs at all)."""
    async with app.sessions() as session:
        cal, groups = await load_calendar(session), await load_groups(session)
    dialect = app.engine.dialect.name
    async with app.engine.begin() as conn:
        await conn.run_sync(SCRATCH.metadata.create_all)
    out = Baseline()
    for target in (SCRATCH, T):
        rows = 0
        started = time.perf_counter()
        async with app.engine.connect() as conn, conn.begin() as transaction:
            for group in groups:
                for select, _ in rule_selects(day, cal, group, app.settings, dialect, now):
                    result = await conn.execute(
                        target.insert().from_select(TOUCH_COLUMNS, select))
                    rows += result.rowcount
            if target is T:
                out.touch, out.touch_rows = time.perf_counter() - started, rows
                await transaction.rollback()
            else:
                out.bare, out.rows = time.perf_counter() - started, rows
    async with app.engine.begin() as conn:
        await conn.run_sync(SCRATCH.metadata.drop_all)
    async with app.engine.connect() as conn, conn.begin() as transaction:
        bundles_before = await count(conn, "bundle")
        started = time.perf_counter()
        for group in groups:
            selects = rule_selects(day, cal, group, app.settings, dialect, now)
            for select, bundled in selects:
                if not bundled:
                    out.bundle_touches += (await conn.execute(
                        T.insert().from_select(TOUCH_COLUMNS, select))).rowcount
            out.bundle_touches += await insert_bundled(
                conn, [select for select, bundled in selects if bundled], day, now)
        out.bundle = time.perf_counter() - started
        out.bundles = await count(conn, "bundle") - bundles_before
        await transaction.rollback()
    if dialect == "postgresql":  # the rolled-back rows must not slow the planner down
        async with app.engine.connect() as conn:
            await (await conn.execution_options(isolation_level="AUTOCOMMIT")).execute(
                sa.text("VACUUM touch, bundle"))
    return out


class StatementClock:
    """--profile: seconds per SQL statement shape, printed per phase (slowest first)."""

    def __init__(self, engine: Any) -> None:
        self.totals: dict[str, list[float]] = {}
        sa.event.listen(engine.sync_engine, "before_cursor_execute", self._before)
        sa.event.listen(engine.sync_engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def _after(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        shape = " ".join(statement.split())[:110]
        entry = self.totals.setdefault(shape, [0.0, 0])
        entry[0] += time.perf_counter() - conn.info.pop("bench_started", time.perf_counter())
        entry[1] += 1

    def report(self, phase: str, top: int = 8) -> None:
        rows = sorted(self.totals.items(), key=lambda kv: -kv[1][0])[:top]
        print(f"  -- {phase}: slowest statements", file=sys.stderr)
        for shape, (seconds, calls) in rows:
            print(f"  {seconds:7.2f} s {calls:4d}x  {shape}", file=sys.stderr)
        self.totals.clear()


async def count(conn: AsyncConnection, table: str) -> int:
    """Rows in a table."""
    return int((await conn.execute(sa.text(f"SELECT count(*) FROM {table}"))).scalar_one())


async def run_phases(settings: Settings, customers: int, profile: bool = False
                     ) -> dict[str, Any]:
    """Seed, then each phase: bare baselines, then the planner; rows, seconds, RSS."""
    out: dict[str, Any] = {"customers": customers, "phases": []}
    async with open_app(settings) as app:
        out["seed_seconds"] = await seed(app, customers)
        out["seed_rss_mb"] = peak_rss_mb()
        clock = StatementClock(app.engine) if profile else None
        holiday_bare = Baseline()
        for name, day in PHASES:
            now = at(day, 0, 10) if name == "tick" else at(day)
            bare = Baseline() if name in REPEATS else await bare_insert(app, day, now)
            if name == "holiday":
                holiday_bare = bare
            if clock:
                clock.totals.clear()
            async with app.engine.connect() as conn:
                before = (await count(conn, "touch"), await count(conn, "bundle"))
                last_touch = (await conn.execute(
                    sa.select(sa.func.coalesce(sa.func.max(T.c.id), 0)))).scalar_one()
            started = time.perf_counter()
            try:
                if name == "tick":
                    if await catch_up(app, now=now):
                        raise RuntimeError("the tick planned a day: the bench's days moved?")
                else:
                    await plan_day(app, day, now=now)
            except DBAPIError as exc:  # PostgreSQL statement_timeout: record it, stop here
                if "statement timeout" not in str(exc):
                    raise
                out["phases"].append({
                    "phase": name, "day": day.isoformat(), "timeout": True,
                    "seconds": time.perf_counter() - started, "bare_seconds": bare.bare,
                    "bare_touch_seconds": bare.touch, "bare_bundle_seconds": bare.bundle,
                    "bare_rows": bare.rows, "peak_rss_mb": peak_rss_mb()})
                print(f"  {name}: statement timeout", file=sys.stderr)
                break
            seconds = time.perf_counter() - started
            if clock:
                clock.report(name)
            async with app.engine.connect() as conn:
                after = (await count(conn, "touch"), await count(conn, "bundle"))
                touches, bundles = after[0] - before[0], after[1] - before[1]
                # What the bare bundles hold: every customer of the new touches, the gates
                # ignored (a suppressed customer gets no bundle from the planner).
                bundled_customers = int((await conn.execute(
                    sa.select(sa.func.count(sa.distinct(T.c.customer_id)))
                    .where(T.c.id > last_touch, T.c.status != "skipped_backfill"))).scalar_one())
                if name == "tick":
                    bundles = int((await conn.execute(
                        sa.select(sa.func.count()).select_from(BU)
                        .where(BU.c.updated_at == sa.literal(now, UTCDateTime())))).scalar_one())
            if name not in REPEATS:
                for what, made, planned in (
                        ("bare", bare.rows, touches),
                        ("bare→touch", bare.touch_rows, touches),
                        ("bare→touch+bundle touch", bare.bundle_touches, touches),
                        ("bare→touch+bundle bundle", bare.bundles, bundled_customers)):
                    if made != planned:
                        print(f"warning: {name}: {what} statements made {made} rows, the "
                              f"planner {planned}", file=sys.stderr)
            base = holiday_bare if name in REPEATS else bare
            out["phases"].append({
                "phase": name, "day": day.isoformat(), "seconds": seconds, "touches": touches,
                "bundles": bundles, "bare_seconds": base.bare, "bare_rows": base.rows,
                "ratio": seconds / base.bare if base.bare else None,
                "bare_touch_seconds": base.touch,
                "ratio_touch": seconds / base.touch if base.touch else None,
                "bare_bundle_seconds": base.bundle, "bare_bundles": base.bundles,
                "ratio_bundle": seconds / base.bundle if base.bundle else None,
                "peak_rss_mb": peak_rss_mb()})
            print(f"  {settings.database_url.split(':')[0]} {name}: {seconds:.1f} s",
                  file=sys.stderr)
    return out


# -- databases --------------------------------------------------------------------

async def _admin(url: str, statement: str) -> None:
    engine = make_engine(make_url(url).set(database="postgres").render_as_string(
        hide_password=False), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text(statement))
    finally:
        await engine.dispose()


def worker(kind: str, customers: int, database_url: str | None, timeout: int,
           profile: bool = False) -> dict[str, Any]:
    """One database: a fresh SQLite file, or `outreach_bench` created and dropped."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="bench-plan-") as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            result = asyncio.run(run_phases(load_settings(_env_file=None, database_url=url),
                                            customers, profile))
    else:
        assert database_url
        url = make_url(database_url).set(database=BENCH_DB).render_as_string(hide_password=False)
        asyncio.run(_admin(database_url, f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)"))
        asyncio.run(_admin(database_url, f"CREATE DATABASE {BENCH_DB}"))
        # A planning statement that goes quadratic ends the run instead of hanging it.
        asyncio.run(_admin(database_url,
                           f"ALTER DATABASE {BENCH_DB} SET statement_timeout = '{timeout}s'"))
        try:
            result = asyncio.run(run_phases(load_settings(_env_file=None, database_url=url),
                                            customers, profile))
        finally:
            asyncio.run(_admin(database_url, f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)"))
    result["db"] = kind
    return result


def table(results: list[dict[str, Any]]) -> str:
    """A Markdown table, ready for BENCHMARKS.md."""
    lines = ["| db | customers | phase | day | seconds | touches | bundles | bare s | ratio "
             "| bare→touch s | ratio | bare→touch+bundle s | ratio | peak RSS MB |",
             "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r['db']} | {r['customers']:,} | seed customers | | "
                     f"{r['seed_seconds']:.1f} | | | | | | | | | {r['seed_rss_mb']:.0f} |")
        for p in r["phases"]:
            if p.get("timeout"):
                lines.append(f"| {r['db']} | {r['customers']:,} | {p['phase']} | {p['day']} | "
                             f"timeout > {p['seconds']:.0f} | | | {p['bare_seconds']:.2f} | "
                             f"| {p['bare_touch_seconds']:.2f} | "
                             f"| {p['bare_bundle_seconds']:.2f} | | {p['peak_rss_mb']:.0f} |")
                continue
            ratios = [f"{p[k]:.2f}" if p[k] is not None else ""
                      for k in ("ratio", "ratio_touch", "ratio_bundle")]
            lines.append(f"| {r['db']} | {r['customers']:,} | {p['phase']} | {p['day']} | "
                         f"{p['seconds']:.2f} | {p['touches']:,} | {p['bundles']:,} | "
                         f"{p['bare_seconds']:.2f} | {ratios[0]} | {p['bare_touch_seconds']:.2f} | "
                         f"{ratios[1]} | {p['bare_bundle_seconds']:.2f} | {ratios[2]} | "
                         f"{p['peak_rss_mb']:.0f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL server (postgresql+asyncpg://USER@HOST/DB); the "
                             f"script creates and drops its own database {BENCH_DB} there")
    parser.add_argument("--only", choices=("sqlite", "postgresql"), default=None)
    parser.add_argument("--statement-timeout", type=int, default=300,
                        help="PostgreSQL statement_timeout in seconds (default 300)")
    parser.add_argument("--profile", action="store_true",
                        help="print each phase's slowest SQL statements to stderr")
    parser.add_argument("--worker", choices=("sqlite", "postgresql"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.customers, args.database_url,
                                args.statement_timeout, args.profile)))
        return
    kinds = ["sqlite"] + (["postgresql"] if args.database_url else [])
    if args.only:
        kinds = [args.only]
    results = []
    for kind in kinds:
        cmd = [sys.executable, __file__, "--worker", kind, "--customers", str(args.customers),
               "--statement-timeout", str(args.statement_timeout)]
        if args.profile:
            cmd.append("--profile")
        if args.database_url:
            cmd += ["--database-url", args.database_url]
        started = time.perf_counter()
        done = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True)
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(f"{kind}: {time.perf_counter() - started:.0f} s in all", file=sys.stderr)
    print(table(results))


if __name__ == "__main__":
    main()
