"""Benchmark: the real dispatcher sending N due SMS bundles to the local Twilio peer.

Usage:
    python bench/dispatch.py [--bundles 20000] [--database-url URL] [--batch 256]
                             [--peer process|inline] [--profile FILE]

A fresh database each run: a SQLite file in a temporary directory, or, with
`--database-url postgresql+asyncpg://…/anything`, its own database
`outreach_bench_dispatch` created and dropped through the `postgres` maintenance db.
The schema comes from `open_app` (migrations); N customers (+852 mobiles, SMS only),
N touches (birthday / new_account alternately, planned) and N bundles due this morning
are inserted with Core executemany. `Dispatcher.tick()` then runs until nothing is
claimed, with the rate limit effectively off (1e6/s) and concurrency 8. The peer must
hold exactly N messages, one per customer, and every bundle must end `sent`.

The baseline is a bare httpx loop in the same run: the same requests (same URL, basic
auth and form fields To/Body/From/StatusCallback, taken from the messages the
dispatcher stored) to the same peer, concurrency 8 through an asyncio.Semaphore, one
shared httpx.AsyncClient limited to 10 connections, as the Twilio adapter builds it.
The ratio is dispatcher messages/s ÷ baseline requests/s.

`--peer process` (default) serves the peer from a child process, so the dispatcher's
event loop is not also the HTTP server's; `--peer inline` runs it in the same loop.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import multiprocessing as mp
import pstats
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BENCH_DB = "outreach_bench_dispatch"
TZ = ZoneInfo("Asia/Shanghai")
FROM = "+15005550006"
CHUNK = 5000


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- the Twilio peer, inline or in a child process ------------------------------------


class Peer(Protocol):
    base_url: str
    account_sid: str
    auth_token: str

    async def recipients(self) -> list[str]: ...
    async def reset(self) -> None: ...
    async def stop(self) -> None: ...


class InlinePeer:
    """The peer in this event loop."""

    async def start(self) -> InlinePeer:
        from tests.peers.twilio_api import TwilioPeer

        self.peer = TwilioPeer()
        self.base_url = await self.peer.start()
        self.account_sid, self.auth_token = self.peer.account_sid, self.peer.auth_token
        return self

    async def recipients(self) -> list[str]:
        return [m["to"] for m in self.peer.messages]

    async def reset(self) -> None:
        self.peer.messages.clear()

    async def stop(self) -> None:
        await self.peer.stop()


def _peer_child(conn: Connection) -> None:
    """Child process: serve the peer until told to stop; answer commands on the pipe."""
    from tests.peers.twilio_api import TwilioPeer

    async def serve() -> None:
        peer = TwilioPeer()
        base_url = await peer.start()
        conn.send((base_url, peer.account_sid, peer.auth_token))
        loop = asyncio.get_running_loop()
        while True:
            command = await loop.run_in_executor(None, conn.recv)
            if command == "recipients":
                conn.send([m["to"] for m in peer.messages])
            elif command == "reset":
                peer.messages.clear()
                conn.send(None)
            else:
                await peer.stop()
                conn.send(None)
                return

    asyncio.run(serve())


class ProcessPeer:
    """The peer in a child process (spawned), driven over a pipe."""

    async def start(self) -> ProcessPeer:
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_peer_child, args=(child,), daemon=True)
        self.process.start()
        self.base_url, self.account_sid, self.auth_token = await asyncio.to_thread(self.conn.recv)
        return self

    async def _ask(self, command: str) -> Any:
        self.conn.send(command)
        return await asyncio.to_thread(self.conn.recv)

    async def recipients(self) -> list[str]:
        return list(await self._ask("recipients"))

    async def reset(self) -> None:
        await self._ask("reset")

    async def stop(self) -> None:
        await self._ask("stop")
        await asyncio.to_thread(self.process.join, 10)


# --- database ---------------------------------------------------------------------------


async def _pg_admin(url: str, statement: str) -> None:
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    from bot.db.engine import make_engine

    admin = make_url(url).set(database="postgres").render_as_string(hide_password=False)
    engine = make_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text(statement))
    finally:
        await engine.dispose()


async def seed(app: Any, count: int, day: Any, due_at: datetime) -> None:
    """N customers, touches and bundles, inserted with Core executemany in chunks."""
    import sqlalchemy as sa

    from bot.db.models import Branch, Bundle, Customer, Touch, table

    now = datetime.now(UTC)
    branch = table(Branch)
    customer = table(Customer)
    touch = table(Touch)
    bundle = table(Bundle)
    surnames, given = "王李张刘陈杨黄赵吴周", ("伟", "芳", "秀英", "敏", "静", "晓燕")
    async with app.engine.begin() as conn:
        await conn.execute(sa.insert(branch).values(
            code="HK01", name="香港营业部", sms_signature="华东证券", service_phone="95555",
            timezone="Asia/Shanghai", send_window="09:00-20:00", working_hours="09:00-17:30",
            recording_ref_required=True, festival_offset_working_days=0,
            created_at=now, updated_at=now))
        for start in range(0, count, CHUNK):
            ids = range(start, min(start + CHUNK, count))
            await conn.execute(sa.insert(customer), [{
                "id": f"C{i:08d}", "name": surnames[i % 10] + given[i % 6], "branch_code": "HK01",
                "phone": f"+8529{i:07d}", "email": None, "telegram_chat_id": None,
                "telegram_bound": False, "birthday": day.replace(year=1970 + i % 40),
                "opened_on": day - timedelta(days=1), "tier": "standard", "locale": "zh-CN",
                "channels": "sms", "salutation": ("先生", "女士", None)[i % 3],
                "marketing_consent": True, "status": "active",
                "created_at": now, "updated_at": now} for i in ids])
            await conn.execute(sa.insert(bundle), [{
                "id": i + 1, "customer_id": f"C{i:08d}", "local_date": day, "status": "planned",
                "due_at": due_at, "expects_reply": i % 2 == 1, "marketing": i % 2 == 0,
                "attempts": 0, "created_at": now, "updated_at": now} for i in ids])
            await conn.execute(sa.insert(touch), [{
                "customer_id": f"C{i:08d}", "kind": ("birthday", "new_account")[i % 2],
                "dedupe_key": (f"birthday:{day.year}", "new_account")[i % 2],
                "status": "planned", "due_on": day, "due_at": due_at, "bundle_id": i + 1,
                "created_at": now, "updated_at": now} for i in ids])
        if app.engine.dialect.name == "postgresql":
            await conn.execute(sa.text(
                "SELECT setval(pg_get_serial_sequence('bundle', 'id'), (SELECT max(id) FROM bundle))"))


# --- optional diagnostics: time per dispatcher phase, SQL statements per message -----------


class Phases:
    """`--phases`: wrap the dispatcher's steps with timers and count SQL statements.

    Diagnostic only (it adds a little overhead); names missing after a refactor are skipped.
    """

    #: (module under bot.service.dispatch, class or None for a module function, name)
    TARGETS = (
        ("dispatcher", "Dispatcher", "_prepare_batch"),
        ("dispatcher", "Dispatcher", "_send_batch"),
        ("dispatcher", "Dispatcher", "_record_batch"),
        ("dispatcher", None, "claim"),
        ("dispatcher", None, "release_stale"),
        ("dispatcher", None, "mark_interrupted"),
        ("prepare", "Preparer", "prepare"),
        ("prepare", None, "compose"),
        ("failures", "Failures", "failed"),
        ("record", None, "apply_early_batch"),
    )

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.statements = 0
        self.commits = 0

    def _wrap(self, owner: Any, name: str, label: str) -> None:
        inner = getattr(owner, name, None)
        if inner is None:
            return

        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await inner(*args, **kwargs)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - started
                self.calls[label] = self.calls.get(label, 0) + 1

        setattr(owner, name, timed)

    def install(self, engine: Any) -> None:
        import importlib

        from sqlalchemy import event

        from channels.sms_twilio import TwilioSmsChannel

        for module_name, owner_name, name in self.TARGETS:
            module = importlib.import_module(f"bot.service.dispatch.{module_name}")
            owner = getattr(module, owner_name) if owner_name else module
            self._wrap(owner, name, name)
        self._wrap(TwilioSmsChannel, "send", "http send")

        def count(*_: Any) -> None:
            self.statements += 1

        def commit(*_: Any) -> None:
            self.commits += 1

        event.listen(engine.sync_engine, "before_cursor_execute", count)
        event.listen(engine.sync_engine, "commit", commit)

    def lines(self, messages: int) -> list[str]:
        out = [f"SQL per message: {self.statements / messages:.1f} statements, "
               f"{self.commits / messages:.1f} commits"]
        for label, total in sorted(self.seconds.items(), key=lambda kv: -kv[1]):
            calls = self.calls[label]
            out.append(f"  {label:18s} {calls:7d} calls  mean {total / calls * 1000:8.2f} ms  "
                       f"(sum {total:7.1f} s)")
        return out


# --- the two measured loops -------------------------------------------------------------


async def run_dispatcher(app: Any, channels: Any, clock: datetime, batch: int,
                         expected: int) -> dict[str, Any]:
    from bot.service.dispatch.dispatcher import Dispatcher

    dispatcher = Dispatcher(app, channels, clock=lambda: clock, batch=batch)
    steps: dict[str, int] = {}
    ticks = 0
    started = time.perf_counter()
    while True:
        stats = await dispatcher.tick()
        ticks += 1
        for key, value in stats.steps.items():
            steps[key] = steps.get(key, 0) + value
        if not stats.claimed:
            break
        if ticks > expected:  # a stuck loop must not run forever
            break
    elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "ticks": ticks, "steps": steps}


async def run_baseline(peer: Peer, requests: list[tuple[str, str, str]],
                       concurrency: int) -> dict[str, Any]:
    """Bare httpx: the same POSTs, same concurrency, one shared client (≤ 10 connections)."""
    import httpx

    from channels.sms_twilio import status_report_url as status_callback_url

    url = f"{peer.base_url}/2010-04-01/Accounts/{peer.account_sid}/Messages.json"
    auth = httpx.BasicAuth(peer.account_sid, peer.auth_token)
    public = "http://127.0.0.1:8000"
    gate = asyncio.Semaphore(concurrency)
    failures = 0
    async with httpx.AsyncClient(
        timeout=httpx.Timeout(30.0, connect=10.0),
        limits=httpx.Limits(max_connections=10, max_keepalive_connections=10),
    ) as client:

        async def one(message_id: str, to: str, body: str) -> None:
            nonlocal failures
            form = {"To": to, "Body": body, "From": FROM,
                    "StatusCallback": status_callback_url(public, message_id)}
            async with gate:
                response = await client.post(url, data=form, auth=auth)
            if response.status_code != 201:
                failures += 1

        started = time.perf_counter()
        await asyncio.gather(*(one(*r) for r in requests))
        elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "failures": failures, "requests": len(requests)}


# --- one run ----------------------------------------------------------------------------


async def main(args: argparse.Namespace) -> dict[str, Any]:
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    from bot.bootstrap import build_channels, open_app
    from bot.db.models import Bundle, Message, table
    from bot.settings import load_settings

    tmp = tempfile.TemporaryDirectory(prefix="bench-dispatch-")
    if args.database_url:
        url = make_url(args.database_url).set(database=BENCH_DB).render_as_string(hide_password=False)
        await _pg_admin(args.database_url, f"DROP DATABASE IF EXISTS {BENCH_DB}")
        await _pg_admin(args.database_url, f"CREATE DATABASE {BENCH_DB}")
    else:
        url = f"sqlite+aiosqlite:///{tmp.name}/bench.db"

    peer: Peer = await (ProcessPeer() if args.peer == "process" else InlinePeer()).start()
    # Today in Shanghai, due at 09:00, dispatched at 10:00: inside the 09:00-20:00 window.
    day = datetime.now(TZ).date()
    due_at = datetime.combine(day, dtime(9, 0), TZ).astimezone(UTC)
    clock = datetime.combine(day, dtime(10, 0), TZ).astimezone(UTC)
    settings = load_settings(
        _env_file=None, database_url=url, twilio_account_sid=peer.account_sid,
        twilio_auth_token=peer.auth_token, twilio_from=FROM, twilio_api_base=peer.base_url,
        sms_routes="*:twilio", twilio_rate_per_second=1e6,
        dispatch_concurrency=args.concurrency)
    result: dict[str, Any] = {"database": "postgresql" if args.database_url else "sqlite",
                              "bundles": args.bundles, "peer": args.peer}
    try:
        async with open_app(settings) as app:
            started = time.perf_counter()
            await seed(app, args.bundles, day, due_at)
            result["seed_seconds"] = time.perf_counter() - started
            channels = build_channels(settings)
            phases = Phases() if args.phases else None
            if phases:
                phases.install(app.engine)
            try:
                profiler = cProfile.Profile() if args.profile else None
                if profiler:
                    profiler.enable()
                result["dispatch"] = await run_dispatcher(app, channels, clock, args.batch,
                                                          args.bundles)
                if profiler:
                    profiler.disable()
                    profiler.dump_stats(args.profile)
                    text = io.StringIO()
                    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(25)
                    result["profile_top"] = text.getvalue()
            finally:
                await channels.close()
            if phases:
                result["phases"] = phases.lines(args.bundles)
            result["dispatch_rss_mb"] = peak_rss_mb()

            sent_to = await peer.recipients()
            async with app.engine.connect() as conn:
                M, B = table(Message), table(Bundle)
                rows = (await conn.execute(
                    sa.select(M.c.id, M.c.address, M.c.body, M.c.status)
                    .where(M.c.direction == "out").order_by(M.c.created_at, M.c.id))).all()
                statuses = dict((await conn.execute(
                    sa.select(B.c.status, sa.func.count()).group_by(B.c.status))).all())
            expected = {f"+8529{i:07d}" for i in range(args.bundles)}
            checks = {
                "peer_messages": len(sent_to),
                "peer_unique": len(set(sent_to)),
                "peer_expected": len(set(sent_to) & expected),
                "db_messages": len(rows),
                "bundle_status": statuses,
            }
            result["checks"] = checks
            ok = (len(sent_to) == len(set(sent_to)) == len(set(sent_to) & expected) == args.bundles
                  and len(rows) == args.bundles and statuses == {"sent": args.bundles})

            await peer.reset()
            requests = [(r.id, r.address, r.body) for r in rows]
            result["baseline"] = await run_baseline(peer, requests, args.concurrency)
            baseline_count = len(await peer.recipients())
            ok = ok and baseline_count == len(requests) and not result["baseline"]["failures"]
            result["ok"] = ok
    finally:
        await peer.stop()
        if args.database_url:
            await _pg_admin(args.database_url, f"DROP DATABASE IF EXISTS {BENCH_DB}")
        tmp.cleanup()
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def report(result: dict[str, Any], args: argparse.Namespace) -> None:
    d, b = result["dispatch"], result["baseline"]
    n = result["bundles"]
    rate = n / d["seconds"]
    base = b["requests"] / b["seconds"]
    print(f"database:        {result['database']}  (peer: {result['peer']}, "
          f"batch {args.batch}, concurrency {args.concurrency})")
    print(f"seed:            {n} customers/touches/bundles in {result['seed_seconds']:.1f} s")
    print(f"dispatch:        {n} messages in {d['seconds']:.2f} s over {d['ticks']} ticks "
          f"= {rate:,.0f} messages/s  steps={d['steps']}")
    print(f"baseline httpx:  {b['requests']} requests in {b['seconds']:.2f} s = {base:,.0f} requests/s "
          f"(failures {b['failures']})")
    print(f"ratio:           {rate / base:.2f}  (goal ≥ 0.5)")
    print(f"peak RSS:        {result['dispatch_rss_mb']:.0f} MB after dispatch, "
          f"{result['peak_rss_mb']:.0f} MB at the end")
    print(f"checks:          {result['checks']}  -> {'OK' if result['ok'] else 'FAILED'}")
    for line in result.get("phases", []):
        print(line)
    if "profile_top" in result:
        print(result["profile_top"])
    print("| database | bundles | peer | dispatch s | messages/s | baseline req/s | ratio | peak RSS MB |")
    print(f"| {result['database']} | {n:,} | {result['peer']} | {d['seconds']:.1f} | "
          f"{rate:,.0f} | {base:,.0f} | {rate / base:.2f} | {result['dispatch_rss_mb']:.0f} |")


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundles", type=int, default=20000)
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL URL; the bench creates and drops its own database")
    parser.add_argument("--batch", type=int, default=256, help="bundles claimed per tick")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--peer", choices=("process", "inline"), default="process")
    parser.add_argument("--phases", action="store_true",
                        help="time each dispatcher step and count SQL statements per message")
    parser.add_argument("--profile", default=None, help="write cProfile stats of the dispatch phase")
    args = parser.parse_args()
    result = asyncio.run(main(args))
    report(result, args)
    if not result["ok"]:
        sys.exit(1)


if __name__ == "__main__":
    cli()
