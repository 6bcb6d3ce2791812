"""Fault script: interrupt the real sending processes and count what each customer got.

Usage:
    python bench/faults.py [--database-url URL] [--bundles 500] [--rounds 26]
                           [--scenarios kill9,sigterm,hang,close_before,close_after,db_outage]

Each scenario gets a fresh database (a SQLite file in a temporary directory, or with
`--database-url postgresql+asyncpg://…` its own database `outreach_bench_faults`), N due SMS
bundles (one per customer, as `bench/dispatch.py` seeds them, with an all-day send window)
and the local Twilio peer in this process. The real `outreach dispatch` runs as a child
process, on the wall clock, while the fault happens:

- kill9 / sigterm: R rounds of starting `outreach dispatch` and killing it (SIGKILL or SIGTERM)
  after a random 1.5 to 4 s;
- hang: 5% of Twilio creates are held unanswered past the adapter's 30 s time-out (not stored);
- close_before / close_after: 5% of creates have their connection closed before or after
  Twilio stores the message;
- db_outage: the database goes away for 25 s mid-run (PostgreSQL: a TCP relay is cut;
  SQLite: another connection holds the write lock).

Then a clean `outreach dispatch` runs until everything is settled (with
RECONCILE_GRACE_MINUTES=0.1 so absent sends go again quickly; on PostgreSQL a cut-off send
waits the two-minute call time-out first). For each scenario it prints: due, delivered once,
doubled, lost, left `unknown`, and the seconds it took. Goal: 0 doubled, 0 lost, 0 unknown.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

BENCH_DB = "outreach_bench_faults"
TZ = ZoneInfo("Asia/Shanghai")
OUTREACH = str(Path(sys.executable).parent / "outreach")
SCENARIOS = ("kill9", "sigterm", "hang", "close_before", "close_after", "db_outage")
SETTLE_TIMEOUT = 600.0  # seconds for the clean run to settle everything


async def fresh_database(base_url: str | None, workdir: Path, name: str) -> str:
    if not base_url:
        return f"sqlite+aiosqlite:///{workdir / f'{name}.db'}"
    from dispatch import _pg_admin  # bench/dispatch.py
    from sqlalchemy.engine import make_url

    await _pg_admin(base_url, f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
    await _pg_admin(base_url, f"CREATE DATABASE {BENCH_DB}")
    return make_url(base_url).set(database=BENCH_DB).render_as_string(hide_password=False)


async def seed_due(database_url: str, count: int) -> None:
    """N customers with one due SMS bundle each, sendable now on the wall clock."""
    import sqlalchemy as sa
    from dispatch import seed  # bench/dispatch.py

    from bot.bootstrap import open_app
    from bot.db.models import Branch, table
    from bot.service.admin.demo import DEMO_SEND_WINDOW
    from bot.settings import load_settings

    today = datetime.now(TZ).date()
    async with open_app(load_settings(_env_file=None, database_url=database_url)) as app:
        await seed(app, count, today, datetime.now(UTC) - timedelta(minutes=1))
        async with app.engine.begin() as conn:
            await conn.execute(sa.update(table(Branch)).values(send_window=DEMO_SEND_WINDOW))


async def tally(database_url: str) -> dict[str, int]:
    import sqlalchemy as sa

    from bot.bootstrap import open_app
    from bot.db.models import Bundle, Message, table
    from bot.settings import load_settings

    async with open_app(load_settings(_env_file=None, database_url=database_url),
                        migrate=False) as app, app.engine.connect() as conn:
        messages = Counter(dict((await conn.execute(sa.select(
            table(Message).c.status, sa.func.count()).group_by(table(Message).c.status))).all()))
        bundles = Counter(dict((await conn.execute(sa.select(
            table(Bundle).c.status, sa.func.count()).group_by(table(Bundle).c.status))).all()))
    return {"unknown": messages["unknown"],
            "open": sum(messages[s] for s in ("sending", "prepared", "retry"))
            + sum(bundles[s] for s in ("planned", "claimed", "unknown"))}


def child_env(database_url: str, peer: Any, rate: float) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTREACH_")}
    env.update(OUTREACH_DATABASE_URL=database_url, OUTREACH_SECRET_KEY="bench-secret",
               OUTREACH_TWILIO_ACCOUNT_SID=peer.account_sid,
               OUTREACH_TWILIO_AUTH_TOKEN=peer.auth_token, OUTREACH_TWILIO_FROM="+15005550006",
               OUTREACH_TWILIO_API_BASE=peer.base_url, OUTREACH_SMS_ROUTES="*:twilio",
               OUTREACH_TWILIO_RATE_PER_SECOND=str(rate), OUTREACH_RECONCILE_GRACE_MINUTES="0.1",
               OUTREACH_SHUTDOWN_GRACE_SECONDS="10", OUTREACH_LOG_LEVEL="WARNING")
    return env


async def start(env: dict[str, str], workdir: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        OUTREACH, "dispatch", cwd=workdir, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)


async def stop(proc: asyncio.subprocess.Process, sig: int) -> None:
    if proc.returncode is None:
        proc.send_signal(sig)
    await asyncio.wait_for(proc.wait(), 60)


async def settle(database_url: str, env: dict[str, str], workdir: Path) -> None:
    """A clean worker until nothing is left to send or settle."""
    proc = await start(env, workdir)
    deadline = time.monotonic() + SETTLE_TIMEOUT
    try:
        while time.monotonic() < deadline:
            await asyncio.sleep(2)
            left = await tally(database_url)
            if not left["open"] and not left["unknown"]:
                return
    finally:
        await stop(proc, signal.SIGTERM)


async def scenario(name: str, base_url: str | None, count: int, rounds: int,
                   workdir: Path) -> dict[str, Any]:
    from tests.peers.db_outage import DatabaseOutage
    from tests.peers.twilio_api import TwilioPeer

    database_url = await fresh_database(base_url, workdir, name)
    await seed_due(database_url, count)
    peer = TwilioPeer()
    await peer.start()
    started = time.perf_counter()
    outage = DatabaseOutage(database_url)
    await outage.start()
    env = child_env(outage.url, peer, rate=20)
    try:
        if name in ("kill9", "sigterm"):
            sig = signal.SIGKILL if name == "kill9" else signal.SIGTERM
            for _ in range(rounds):
                proc = await start(env, workdir)
                await asyncio.sleep(random.uniform(1.5, 4.0))
                await stop(proc, sig)
        elif name == "db_outage":
            proc = await start(env, workdir)
            await asyncio.sleep(6)
            outage.down()
            await asyncio.sleep(25)
            outage.up()
            await asyncio.sleep(10)
            await stop(proc, signal.SIGTERM)
        else:
            peer.fault_rate = {name: 0.05}
            peer.hang_seconds = 35
            proc = await start(env, workdir)
            while len({m["to"] for m in peer.messages}) < count * 0.9:
                await asyncio.sleep(1)
            await stop(proc, signal.SIGTERM)
            peer.fault_rate = {}
        await settle(database_url, env, workdir)
        left = await tally(database_url)
    finally:
        await outage.stop()
        await peer.stop()
    per_customer = Counter(m["to"] for m in peer.messages)
    return {"scenario": name, "due": count,
            "once": sum(1 for n in per_customer.values() if n == 1),
            "doubled": sum(1 for n in per_customer.values() if n > 1),
            "lost": count - len(per_customer), "unknown": left["unknown"],
            "seconds": time.perf_counter() - started}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL base URL (default: SQLite)")
    parser.add_argument("--bundles", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=26)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS),
                        help="comma-separated; also `workers` (PostgreSQL only)")
    parser.add_argument("--workers-minutes", type=float, default=10)
    args = parser.parse_args()
    random.seed(11)
    names = [n.strip() for n in args.scenarios.split(",") if n.strip()]
    unknown = set(names) - set(SCENARIOS) - {"workers"}
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    database = "PostgreSQL" if args.database_url else "SQLite"
    if names != ["workers"]:
        print("| database | scenario | due | delivered once | doubled | lost | left unknown | s |")
        print("|---|---|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="outreach-faults-") as tmp:
        if "workers" in names:  # its own figures: sent, stored, opened once (bench/workers.py)
            names.remove("workers")
            if not args.database_url:
                parser.error("the workers scenario needs --database-url (PostgreSQL)")
            from workers import run_workers

            found = await run_workers(args.database_url, 2000, args.workers_minutes, 20,
                                      Path(tmp))
            print("workers (3 scheduler + 2 web processes, "
                  f"{args.workers_minutes:g} min): " + ", ".join(f"{k} {v}" for k, v in found.items()))
        for name in names:
            row = await scenario(name, args.database_url, args.bundles, args.rounds, Path(tmp))
            print(f"| {database} | {row['scenario']} | {row['due']} | {row['once']} | "
                  f"{row['doubled']} | {row['lost']} | {row['unknown']} | {row['seconds']:.0f} |",
                  flush=True)


if __name__ == "__main__":
    asyncio.run(main())
