"""Benchmark: the console's queue and callback pages on a big PostgreSQL database.

Usage:
    python bench/console.py [--customers 1000000] [--callbacks 100000] [--requests 200]
                            [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/x]

A database of its own (`outreach_bench_console`, created and dropped through the `postgres`
maintenance db) is migrated by `open_app`; N customers over 20 branches, M open callbacks
spread over them (a P0 in every 50th), and two messages per callback customer are written
with set-based `INSERT … SELECT generate_series` (seconds, not minutes). An agent of branch
B00 signs in through the real login form; then R requests each of `/console/queue` and
`/console/callbacks/{id}` (ids of B00's callbacks) go through the app in process (ASGI, no
network). Printed: p50 / p95 / max milliseconds per page.

The baseline, in the same run, is the bare SQL the queue page needs: the 200 most urgent open
callbacks of the branch joined with their customers, ordered by priority and SLA; the
callback page's baseline is its customer's messages by `ix_message_customer`. A page that
renders within 2× its bare query (and under 200 ms p95) spends its time on the work itself.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BENCH_DB = "outreach_bench_console"
PASSWORD = "bench-password-1"


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return (f"p50 {statistics.median(ordered) * 1000:7.1f} ms  p95 {p95 * 1000:7.1f} ms  "
            f"max {ordered[-1] * 1000:7.1f} ms")


async def _admin(url: str, statement: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from bot.db.engine import make_engine

    engine = make_engine(make_url(url).set(database="postgres").render_as_string(
        hide_password=False), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


SEED = """
INSERT INTO branch (code, name, timezone, send_window, working_hours, recording_ref_required,
                    festival_offset_working_days, created_at, updated_at)
SELECT 'B' || lpad(b::text, 2, '0'), '营业部' || b, 'Asia/Shanghai', '09:00-20:00',
       '09:00-17:30', false, 0, now(), now() FROM generate_series(0, 19) b;
INSERT INTO customer (id, name, branch_code, phone, tier, locale, status, telegram_bound,
                      created_at, updated_at)
SELECT 'C' || lpad(i::text, 7, '0'), '客户' || i, 'B' || lpad((i % 20)::text, 2, '0'),
       '+86139' || lpad(i::text, 8, '0'), 'standard', 'zh-CN', 'active', false, now(), now()
FROM generate_series(0, :customers - 1) i;
INSERT INTO callback (customer_id, branch_code, priority, reasons, sla_due_at, status,
                      attempts, compliance_flag, created_at, updated_at)
SELECT 'C' || lpad((i * 10)::text, 7, '0'), 'B' || lpad(((i * 10) % 20)::text, 2, '0'),
       CASE WHEN i % 50 = 0 THEN 'P0' WHEN i % 7 = 0 THEN 'P1' ELSE 'P2' END,
       '["negative"]', now() + (i % 4000) * interval '1 minute', 'open', 0, false, now(), now()
FROM generate_series(0, :callbacks - 1) i;
INSERT INTO message (id, direction, customer_id, channel, address, body, status, attempts,
                     needs_review, created_at, updated_at)
SELECT 'm' || d || '-' || i, CASE WHEN d = 0 THEN 'out' ELSE 'in' END,
       'C' || lpad((i * 10)::text, 7, '0'), 'sms', '+86139' || lpad((i * 10)::text, 8, '0'),
       CASE WHEN d = 0 THEN '【演示证券】您好，请问开户顺利吗？' ELSE '你们的APP太卡了' END,
       CASE WHEN d = 0 THEN 'delivered' ELSE 'received' END, 0, false,
       now() - (2 - d) * interval '1 hour', now()
FROM generate_series(0, :callbacks - 1) i, generate_series(0, 1) d;
ANALYZE;
"""


async def run(url: str, customers: int, callbacks: int, requests: int) -> None:
    import httpx
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from bot.bootstrap import open_app
    from bot.service.admin.staff import add_staff
    from bot.settings import load_settings
    from bot.web.app import create_app

    db_url = make_url(url).set(database=BENCH_DB).render_as_string(hide_password=False)
    await _admin(url, f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
    await _admin(url, f"CREATE DATABASE {BENCH_DB}")
    settings = load_settings(_env_file=None, database_url=db_url, secret_key="bench")
    try:
        async with open_app(settings) as app:
            started = time.perf_counter()
            async with app.engine.begin() as conn:
                for statement in SEED.split(";"):
                    if statement.strip():
                        await conn.execute(text(statement), {"customers": customers,
                                                             "callbacks": callbacks})
            print(f"seed: {customers:,} customers, {callbacks:,} open callbacks, "
                  f"{2 * callbacks:,} messages in {time.perf_counter() - started:.1f} s")
            async with app.sessions() as s:
                await add_staff(s, "agent", "agent", "B00", False, PASSWORD, actor="bench")
                await s.commit()
            async with app.engine.connect() as conn:
                ids = [r[0] for r in (await conn.execute(text(
                    "SELECT id FROM callback WHERE branch_code = 'B00' ORDER BY id LIMIT :n"),
                    {"n": requests})).all()]
            web = create_app(app)
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web),
                                         base_url="http://bench") as client:
                page = (await client.get("/console/login")).text
                token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]  # type: ignore[index]
                signed = await client.post("/console/login", data={
                    "csrf_token": token, "username": "agent", "password": PASSWORD})
                assert signed.status_code == 303, signed.text
                queue = await _time(client, ["/console/queue"] * requests)
                pages = await _time(client, [f"/console/callbacks/{i}" for i in ids])
            bare_queue, bare_page = await _bare(app, ids)
            print(f"queue page      ({requests} requests): {_ms(queue)}")
            print(f"  bare query    (same count):     {_ms(bare_queue)}")
            print(f"callback page   ({len(ids)} requests): {_ms(pages)}")
            print(f"  bare query    (same count):     {_ms(bare_page)}")
            print(f"ratio p95: queue {sorted(queue)[int(len(queue) * .95) - 1] / sorted(bare_queue)[int(len(bare_queue) * .95) - 1]:.1f}, "
                  f"callback {sorted(pages)[int(len(pages) * .95) - 1] / sorted(bare_page)[int(len(bare_page) * .95) - 1]:.1f}")
    finally:
        await _admin(url, f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")


async def _time(client: Any, paths: list[str]) -> list[float]:
    samples = []
    for path in paths:
        started = time.perf_counter()
        response = await client.get(path)
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200, (path, response.status_code)
    return samples


async def _bare(app: Any, ids: list[int]) -> tuple[list[float], list[float]]:
    from sqlalchemy import text

    queue_sql = text("""
        SELECT cb.*, cu.phone, cu.sales_rep FROM callback cb JOIN customer cu ON cu.id = cb.customer_id
        WHERE cb.status IN ('open', 'claimed') AND cb.branch_code = 'B00'
        ORDER BY cb.priority,
                 cb.sla_due_at, cb.id LIMIT 200""")
    page_sql = text("""SELECT m.* FROM message m JOIN callback cb ON cb.customer_id = m.customer_id
                       WHERE cb.id = :id ORDER BY m.created_at, m.id""")
    queue, page = [], []
    async with app.engine.connect() as conn:
        for _ in ids:
            started = time.perf_counter()
            (await conn.execute(queue_sql)).all()
            queue.append(time.perf_counter() - started)
        for callback_id in ids:
            started = time.perf_counter()
            (await conn.execute(page_sql, {"id": callback_id})).all()
            page.append(time.perf_counter() - started)
    return queue, page


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--callbacks", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database-url",
                        default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    asyncio.run(run(args.database_url, args.customers, args.callbacks, args.requests))


if __name__ == "__main__":
    main()
