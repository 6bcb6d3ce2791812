"""Benchmark: a storm of signed Twilio replies against `outreach run --only web`, with wrk.

Usage:
    python bench/inbound.py [--database-url URL] [--seconds 10] [--connections 16]

The real server runs as a child process on a free port (SQLite file in a temporary directory,
or with `--database-url postgresql+asyncpg://…` its own database `outreach_bench_inbound`),
with 1,000 customers to match replies to. wrk (Debian package `wrk`) drives it: replies are
deduplicated by MessageSid, so the script pre-signs enough unique bodies (X-Twilio-Signature
over PUBLIC_URL + path, as Twilio signs) and a Lua script hands each wrk thread its own slice.

Each server gets 2 s of the same traffic first, not measured (caches, pools). It checks that
the rows stored equal the 200s answered, waits until every stored reply has
been acted on (matched, classified, stored as a message), and prints requests/s and latency
percentiles. The baseline in the same run is a bare FastAPI app doing the same form parse,
signature check and one INSERT per request, served the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

BENCH_DB = "outreach_bench_inbound"
TOKEN, SID = "bench-auth-token", "AC" + "b" * 32
OUTREACH = str(Path(sys.executable).parent / "outreach")
CUSTOMERS = 1000
BODIES = ["收到，谢谢", "好的", "TD", "在开会，下午三点后再打", "我要投诉", "谢谢祝福，节日快乐",
          "ok thanks", "不是我本人操作的", "请回电", "嗯"]

BARE_APP = '''
import json, os
from urllib.parse import parse_qsl
import sqlalchemy as sa
from fastapi import FastAPI, Request, Response
from bot.db.engine import make_engine
from channels.sms_twilio import verify_twilio_signature
URL, TOKEN, PUBLIC = os.environ["BARE_URL"], os.environ["BARE_TOKEN"], os.environ["BARE_PUBLIC"]
engine = make_engine(URL)
meta = sa.MetaData()
raw = sa.Table("bare_inbox", meta, sa.Column("id", sa.Integer, primary_key=True),
               sa.Column("sid", sa.String(64), unique=True), sa.Column("form", sa.Text))
app = FastAPI()
lock = __import__("asyncio").Lock()  # SQLite has one writer: wait in line here, not in its busy loop

@app.on_event("startup")
async def create() -> None:
    async with engine.begin() as conn:
        await conn.run_sync(meta.create_all)

@app.post("/webhooks/twilio/sms")
async def sms(request: Request) -> Response:
    form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
    if not verify_twilio_signature(TOKEN, PUBLIC + "/webhooks/twilio/sms", form,
                                   request.headers.get("X-Twilio-Signature")):
        return Response(status_code=403)
    async with lock, engine.begin() as conn:
        await conn.execute(sa.insert(raw).values(sid=form["MessageSid"], form=json.dumps(form)))
    return Response('<?xml version="1.0" encoding="UTF-8"?><Response />',
                    media_type="application/xml")
'''

LUA = '''
local bodies, sigs = {}, {}
local counter = 0
local threads = {}
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
function init(args)
  local n, per = 0, tonumber(args[2])
  local start = id * per
  for line in io.lines(args[1]) do
    if n >= start and n < start + per then
      local sig, body = line:match("^(%S+) (.*)$")
      table.insert(sigs, sig)
      table.insert(bodies, body)
    end
    n = n + 1
  end
  i = 0
end
function request()
  i = i + 1
  if i > #bodies then i = 1 end
  return wrk.format("POST", "/webhooks/twilio/sms",
    {["Content-Type"] = "application/x-www-form-urlencoded", ["X-Twilio-Signature"] = sigs[i]},
    bodies[i])
end
'''


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_requests(path: Path, public: str, count: int, salt: str) -> None:
    from tests.peers.twilio_api import twilio_signature

    with path.open("w") as out:
        for n in range(count):
            params = {"AccountSid": SID, "Body": BODIES[n % len(BODIES)],
                      "From": f"+8529{n % CUSTOMERS:07d}", "To": "+15005550006",
                      "MessageSid": f"SM{salt}{n:024d}", "NumMedia": "0",
                      "SmsStatus": "received"}
            sig = twilio_signature(TOKEN, public + "/webhooks/twilio/sms", params)
            out.write(f"{sig} {urlencode(params)}\n")


def wrk(port: int, seconds: int, connections: int, data: Path, per_thread: int,
        workdir: Path) -> dict[str, Any]:
    script = workdir / "storm.lua"
    script.write_text(LUA)
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script),
         f"http://127.0.0.1:{port}", "--", str(data), str(per_thread)],
        capture_output=True, text=True, check=True).stdout
    total = int(re.search(r"(\d+) requests in", out)[1])  # type: ignore[index]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    timeouts = re.search(r"timeout (\d+)", out)

    def pct(p: str) -> float:
        found = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out)
        assert found, out
        value, unit = float(found[1]), found[2]
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    return {"requests": total, "ok": total - (int(non2xx[1]) if non2xx else 0),
            "timeouts": int(timeouts[1]) if timeouts else 0,
            "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1]),  # type: ignore[index]
            "p50": pct("50"), "p99": pct("99")}


async def wait_up(port: int, proc: subprocess.Popen[bytes], path: str = "/healthz") -> None:
    """Until the server on `port` answers anything at `path` (the bare app has no /healthz)."""
    import httpx

    async with httpx.AsyncClient() as client:
        for _ in range(300):
            if proc.poll() is not None:
                raise RuntimeError(f"the server on port {port} exited")
            try:
                await client.get(f"http://127.0.0.1:{port}{path}")
                return
            except httpx.HTTPError:
                await asyncio.sleep(0.1)
    raise RuntimeError(f"the server on port {port} did not start")


async def prepare_database(base_url: str | None, workdir: Path, name: str) -> str:
    from faults import fresh_database  # bench/faults.py

    return await fresh_database(base_url, workdir, name)


async def seed_customers(database_url: str) -> None:
    import sqlalchemy as sa

    from bot.bootstrap import open_app
    from bot.db.models import Branch, Customer, table, utcnow
    from bot.settings import load_settings

    now = utcnow()
    settings = load_settings(_env_file=None, database_url=database_url)
    async with open_app(settings) as app, app.engine.begin() as conn:
        await conn.execute(sa.insert(table(Branch)).values(
            code="HK01", name="香港营业部", timezone="Asia/Shanghai", send_window="09:00-20:00",
            working_hours="09:00-17:30", recording_ref_required=False,
            festival_offset_working_days=0, created_at=now, updated_at=now))
        await conn.execute(sa.insert(table(Customer)), [{
            "id": f"C{i:06d}", "name": "王伟", "branch_code": "HK01", "phone": f"+8529{i:07d}",
            "telegram_bound": False, "tier": "standard", "locale": "zh-CN", "channels": "sms",
            "marketing_consent": True, "status": "active", "created_at": now,
            "updated_at": now} for i in range(CUSTOMERS)])


async def counts(database_url: str) -> tuple[int, int, int]:
    """(inbox rows, of which not acted on yet, replies stored as messages)."""
    import sqlalchemy as sa

    from bot.db.engine import make_engine

    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(sa.text("SELECT count(*) FROM inbox"))).scalar_one()
            new = (await conn.execute(sa.text(
                "SELECT count(*) FROM inbox WHERE status = 'new'"))).scalar_one()
            messages = (await conn.execute(sa.text(
                "SELECT count(*) FROM message WHERE direction = 'in'"))).scalar_one()
    finally:
        await engine.dispose()
    return int(rows), int(new), int(messages)


async def bare_count(database_url: str) -> int:
    import sqlalchemy as sa

    from bot.db.engine import make_engine

    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(sa.text("SELECT count(*) FROM bare_inbox"))).scalar_one())
    finally:
        await engine.dispose()


def child_env(database_url: str, public: str, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTREACH_")}
    env.update(OUTREACH_DATABASE_URL=database_url, OUTREACH_SECRET_KEY="bench-secret",
               OUTREACH_TWILIO_ACCOUNT_SID=SID, OUTREACH_TWILIO_AUTH_TOKEN=TOKEN,
               OUTREACH_TWILIO_FROM="+15005550006", OUTREACH_TWILIO_API_BASE="http://127.0.0.1:9",
               OUTREACH_PUBLIC_URL=public, OUTREACH_HTTP_PORT=str(port),
               OUTREACH_HTTP_HOST="127.0.0.1", OUTREACH_SERVE="webhooks",
               OUTREACH_LOG_LEVEL="WARNING")
    return env


async def run(args: argparse.Namespace, workdir: Path) -> None:
    rate_guess = 6000
    per_thread = rate_guess * args.seconds
    database = "PostgreSQL" if args.database_url else "SQLite"

    # The product.
    url = await prepare_database(args.database_url, workdir, "inbound")
    await seed_customers(url)
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    data = workdir / "requests.txt"
    write_requests(data, public, per_thread * 2, "a")
    server = subprocess.Popen([OUTREACH, "run", "--only", "web"], cwd=workdir,
                              env=child_env(url, public, port), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        await wait_up(port, server)
        warm = workdir / "warm.txt"  # 2 s first, not measured: caches, pools, first batches
        write_requests(warm, public, 6000 * 2 * 2, "w")
        wrk(port, 2, args.connections, warm, 6000 * 2, workdir)
        before, _, _ = await counts(url)
        ours = wrk(port, args.seconds, args.connections, data, per_thread, workdir)
        rows = (await counts(url))[0] - before
        started = time.monotonic()
        while True:  # every stored reply acted on
            _, new, messages = await counts(url)
            if not new:
                break
            await asyncio.sleep(0.5)
        drained = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(30)

    # The bare baseline.
    bare_url = await prepare_database(args.database_url, workdir, "bare")
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    write_requests(data, public, per_thread * 2, "b")
    (workdir / "bare_app.py").write_text(BARE_APP)
    bare = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--app-dir", str(workdir), "bare_app:app",
         "--port", str(port), "--log-level", "warning", "--no-access-log"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), "BARE_URL": bare_url,
                       "BARE_TOKEN": TOKEN, "BARE_PUBLIC": public},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        await wait_up(port, bare, "/")
        warm = workdir / "warm.txt"
        write_requests(warm, public, 6000 * 2 * 2, "v")
        wrk(port, 2, args.connections, warm, 6000 * 2, workdir)
        before = await bare_count(bare_url)
        base = wrk(port, args.seconds, args.connections, data, per_thread, workdir)
        base_rows = await bare_count(bare_url) - before
    finally:
        bare.terminate()
        bare.wait(30)

    print("| database | app | requests/s | p50 ms | p99 ms | 200s | stored | lost | timeouts |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, r, stored in (("outreach", ours, rows), ("bare FastAPI", base, base_rows)):
        print(f"| {database} | {name} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p99']:.1f} | "
              f"{r['ok']} | {stored} | {max(0, r['ok'] - stored)} | {r['timeouts']} |")
    print(f"ratio {ours['rps'] / base['rps']:.2f}; every stored reply acted on "
          f"{drained:.1f} s after the storm ({messages} replies stored as messages)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL base URL (default: SQLite)")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="outreach-inbound-") as tmp:
        asyncio.run(run(args, Path(tmp)))


if __name__ == "__main__":
    main()
