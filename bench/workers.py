"""The several-workers scenario of bench/faults.py: three `outreach run --only scheduler` and two
`outreach run --only web` on one PostgreSQL, with the local Twilio peer, for some minutes of
sending and reply traffic. Each message must be sent once, each reply stored once, and each
customer must have at most one open callback.

Usage (also `bench/faults.py --scenarios workers`):
    python bench/workers.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/postgres
                            [--bundles 2000] [--minutes 10] [--replies-per-second 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from faults import OUTREACH, child_env, fresh_database, seed_due  # noqa: E402

REPLIES = ["收到，谢谢", "好的", "我要投诉你们，打12386", "不是我本人操作的", "在开会，下午三点后再打",
           "请给我回个电话", "谢谢祝福", "TD", "ok thanks", "嗯"]


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def reply_traffic(ports: list[int], public: str, peer: Any, customers: int, rate: float,
                        until: float) -> tuple[set[str], int]:
    """Signed inbound SMS to both web processes; one in ten is a retry (the same MessageSid
    again, to the other process). Returns the MessageSids sent and how many got a non-200."""
    import httpx

    from tests.peers.twilio_api import twilio_signature

    sent: set[str] = set()
    failed = 0
    path = "/webhooks/twilio/sms"
    async with httpx.AsyncClient(timeout=15) as client:
        while time.monotonic() < until:
            sid = "SM" + secrets.token_hex(16)
            params = {"AccountSid": peer.account_sid, "Body": random.choice(REPLIES),
                      "From": f"+8529{random.randrange(customers):07d}", "To": "+15005550006",
                      "MessageSid": sid, "NumMedia": "0", "SmsStatus": "received"}
            headers = {"X-Twilio-Signature": twilio_signature(peer.auth_token, public + path,
                                                              params),
                       "Content-Type": "application/x-www-form-urlencoded"}
            targets = [random.choice(ports)]
            if random.random() < 0.1:
                targets = ports  # Twilio's retry reaches the other process
            for port in targets:
                response = await client.post(f"http://127.0.0.1:{port}{path}",
                                             content=urlencode(params), headers=headers)
                failed += response.status_code != 200
            sent.add(sid)
            await asyncio.sleep(1 / rate)
    return sent, failed


async def wait_up(ports: list[int]) -> None:
    import httpx

    async with httpx.AsyncClient() as client:
        for port in ports:
            for _ in range(600):
                try:
                    await client.get(f"http://127.0.0.1:{port}/healthz")
                    break
                except httpx.HTTPError:
                    await asyncio.sleep(0.1)
            else:
                raise RuntimeError(f"the web process on port {port} did not start")


async def check(database_url: str, peer: Any, replies: set[str]) -> dict[str, int]:
    import sqlalchemy as sa

    from bot.db.engine import make_engine

    ours = Counter(parse_qs(urlsplit(url).query).get("m", [""])[0]
                   for url in peer.callback_urls.values())
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            recorded = {r[0] for r in await conn.execute(sa.text(
                "SELECT id FROM message WHERE direction = 'out' AND provider_id IS NOT NULL "
                "AND channel = 'sms'"))}
            stored = Counter(r[0] for r in await conn.execute(sa.text(
                "SELECT provider_id FROM message WHERE direction = 'in'")))
            open_twice = (await conn.execute(sa.text(
                "SELECT count(*) FROM (SELECT customer_id FROM callback WHERE status IN "
                "('open', 'claimed') GROUP BY customer_id HAVING count(*) > 1) AS t"))).scalar_one()
            unknown = (await conn.execute(sa.text(
                "SELECT count(*) FROM message WHERE status = 'unknown'"))).scalar_one()
    finally:
        await engine.dispose()
    return {"sms sent by the peer": sum(ours.values()),
            "sent twice": sum(1 for n in ours.values() if n > 1),
            "sent, not recorded": len(set(ours) - recorded),
            "replies sent": len(replies),
            "replies stored": sum(1 for sid in replies if stored.get(sid)),
            "replies stored twice": sum(1 for n in stored.values() if n > 1),
            "customers with two open callbacks": int(open_twice), "left unknown": int(unknown)}


async def run_workers(base_url: str, bundles: int, minutes: float, rate: float,
                      workdir: Path) -> dict[str, int]:
    from tests.peers.twilio_api import TwilioPeer

    database_url = await fresh_database(base_url, workdir, "workers")
    await seed_due(database_url, bundles)
    peer = TwilioPeer()
    await peer.start()
    ports = [free_port(), free_port()]
    public = f"http://127.0.0.1:{ports[0]}"  # what Twilio signs; both processes check it
    env = {**child_env(database_url, peer, rate=10), "OUTREACH_PUBLIC_URL": public,
           "OUTREACH_SERVE": "webhooks"}
    procs = [await asyncio.create_subprocess_exec(
        OUTREACH, "run", "--only", "scheduler", cwd=workdir, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL) for _ in range(3)]
    procs += [await asyncio.create_subprocess_exec(
        OUTREACH, "run", "--only", "web", cwd=workdir,
        env={**env, "OUTREACH_HTTP_PORT": str(port), "OUTREACH_HTTP_HOST": "127.0.0.1"},
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL) for port in ports]
    try:
        await wait_up(ports)
        replies, failed = await reply_traffic(ports, public, peer, bundles, rate,
                                              time.monotonic() + minutes * 60)
        await asyncio.sleep(10)  # the last replies acted on, the last sends recorded
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            await asyncio.wait_for(proc.wait(), 60)
        await peer.stop()
    return {**await check(database_url, peer, replies), "webhook non-200": failed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="PostgreSQL base URL")
    parser.add_argument("--bundles", type=int, default=2000)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--replies-per-second", type=float, default=20)
    args = parser.parse_args()
    random.seed(5)
    with tempfile.TemporaryDirectory(prefix="outreach-workers-") as tmp:
        found = asyncio.run(run_workers(args.database_url, args.bundles, args.minutes,
                                        args.replies_per_second, Path(tmp)))
    for key, value in found.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
