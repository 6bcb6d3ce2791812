"""Real protocol peers on 127.0.0.1, one per test, in the test's own loop (shared fixtures)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.peers.http import WebhookSink
from tests.peers.smtp_server import SmtpPeer
from tests.peers.telegram_api import TelegramPeer
from tests.peers.twilio_api import TwilioPeer


@pytest.fixture
async def http_client() -> AsyncIterator[httpx.AsyncClient]:
    """The one shared client the app would build: ≤ 10 connections, no proxies from env."""
    limits = httpx.Limits(max_connections=10, max_keepalive_connections=10)
    async with httpx.AsyncClient(limits=limits, timeout=5.0, trust_env=False) as client:
        yield client


@pytest.fixture
async def twilio_peer() -> AsyncIterator[TwilioPeer]:
    peer = TwilioPeer()
    await peer.start()
    yield peer
    await peer.stop()


@pytest.fixture
async def telegram_peer() -> AsyncIterator[TelegramPeer]:
    peer = TelegramPeer()
    await peer.start()
    yield peer
    await peer.stop()


@pytest.fixture
async def smtp_peer() -> AsyncIterator[SmtpPeer]:
    peer = SmtpPeer()
    await peer.start()
    yield peer
    await peer.stop()


@pytest.fixture
async def webhook_sink() -> AsyncIterator[WebhookSink]:
    """Stands in for our web app when a peer calls back (status callbacks, updates)."""
    sink = WebhookSink()
    await sink.start()
    yield sink
    await sink.stop()
