"""Two dispatcher processes on one database: no bundle twice, one shared rate limit."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.bootstrap import build_channels, open_app
from bot.service.dispatch.dispatcher import Dispatcher
from tests.conftest import PG_URL
from tests.integration.dispatch.conftest import Rig, planned


@pytest.mark.skipif(not PG_URL, reason="two processes on one database need PostgreSQL")
@pytest.mark.parametrize("rig", [{"twilio_rate_per_second": 20}], indirect=True)
async def test_two_dispatchers_never_send_twice_and_share_the_rate(rig: Rig) -> None:
    count = 24
    await planned(rig, *({"id": f"C{i:02d}", "phone": f"+852912345{i:02d}"} for i in range(count)))
    async with open_app(rig.app.settings) as other:
        channels = build_channels(rig.app.settings)
        second = Dispatcher(other, channels, clock=rig.clock, batch=8)
        first = Dispatcher(rig.app, rig.channels, clock=rig.clock, batch=8)
        started = time.perf_counter()
        while len(rig.twilio.messages) < count:
            stats = await asyncio.gather(first.tick(), second.tick())
            if not any(s.claimed for s in stats):
                break
        elapsed = time.perf_counter() - started
        await channels.close()
    sent = [m["to"] for m in rig.twilio.messages]
    assert sorted(sent) == sorted(set(sent)) and len(sent) == count
    # 24 sends at 20/s shared by both processes take at least ~1.1 s (23 intervals).
    assert elapsed >= (count - 1) / 20 * 0.95
