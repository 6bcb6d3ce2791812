"""SIGTERM mid-batch, to the real processes: the sends in flight finish, the rest go back
unsent, and the next run sends each of them once. Before the fix 12 of 32 (`outreach run`)
and 25 of 32 (`outreach dispatch`) were never sent."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from bot.bootstrap import App, open_app
from bot.db.models import Bundle, Message, Touch, utcnow
from bot.service.admin.demo import DEMO_SEND_WINDOW
from bot.settings import load_settings
from tests.integration.planning.helpers import plan, seed
from tests.peers.twilio_api import TwilioPeer

CUSTOMERS = 12
OUTREACH = str(Path(sys.executable).parent / "outreach")


def env_for(database_url: str, twilio: TwilioPeer, rate: float) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTREACH_")}
    env.update(OUTREACH_DATABASE_URL=database_url, OUTREACH_SECRET_KEY="test-secret",
               OUTREACH_TWILIO_ACCOUNT_SID=twilio.account_sid,
               OUTREACH_TWILIO_AUTH_TOKEN=twilio.auth_token,
               OUTREACH_TWILIO_FROM="+15005550006", OUTREACH_TWILIO_API_BASE=twilio.base_url,
               OUTREACH_SMS_ROUTES="*:twilio", OUTREACH_TWILIO_RATE_PER_SECOND=str(rate),
               OUTREACH_SHUTDOWN_GRACE_SECONDS="10", OUTREACH_LOG_LEVEL="INFO")
    return env


async def due_now(app: App) -> None:
    """New-account touches planned, then moved to today with an all-day window, so the
    processes (on the wall clock) find them due."""
    opened = (utcnow() - timedelta(days=400)).date()
    await seed(app, *({"id": f"C{i:02}", "phone": f"+8529100{i:04}", "opened_on": opened}
                      for i in range(CUSTOMERS)), send_window=DEMO_SEND_WINDOW)
    day = opened + timedelta(days=1)
    while not (await plan(app, day)).by_kind:  # the first working day after opening
        day += timedelta(days=1)
    today = utcnow().astimezone(ZoneInfo("Asia/Shanghai")).date()
    async with app.sessions() as s:
        for bundle in (await s.exec(select(Bundle))).all():
            bundle.local_date, bundle.due_at = today, utcnow() - timedelta(minutes=1)
            s.add(bundle)
        await s.commit()


async def statuses(app: App, model: type) -> list[str]:
    async with app.sessions() as s:
        return sorted((await s.exec(select(col(model.status)))).all())  # type: ignore[attr-defined]


@pytest.mark.parametrize("command", [["dispatch"], ["run", "--only", "scheduler"]])
async def test_sigterm_mid_batch_loses_nothing_and_doubles_nothing(
        database_url: str, twilio_peer: TwilioPeer, tmp_path: Path, command: list[str]) -> None:
    twilio = twilio_peer
    settings = load_settings(_env_file=None, database_url=database_url)
    async with open_app(settings) as app:
        await due_now(app)
        assert await statuses(app, Bundle) == ["planned"] * CUSTOMERS
        proc = await asyncio.create_subprocess_exec(
            OUTREACH, *command, cwd=tmp_path, env=env_for(database_url, twilio, rate=2),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        for _ in range(600):  # up to a minute for the process to start and send
            if len(twilio.messages) >= 2 or proc.returncode is not None:
                break
            await asyncio.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 0, output.decode()  # a clean stop, not killed by the signal
        sent = len(twilio.messages)
        assert 2 <= sent < CUSTOMERS, output.decode()
        messages = await statuses(app, Message)
        assert messages.count("queued") == sent, messages  # every send out was recorded
        assert set(messages) <= {"queued", "retry"}, messages  # the rest went back unsent
        assert "sending" not in await statuses(app, Touch)

        again = await asyncio.create_subprocess_exec(
            OUTREACH, "dispatch", "--once", cwd=tmp_path,
            env=env_for(database_url, twilio, rate=1000),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        output, _ = await asyncio.wait_for(again.communicate(), 60)
        assert again.returncode == 0, output.decode()
        assert sorted(m["to"] for m in twilio.messages) == [
            f"+8529100{i:04}" for i in range(CUSTOMERS)]  # each customer once
        assert await statuses(app, Message) == ["queued"] * CUSTOMERS
