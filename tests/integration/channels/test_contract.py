"""One contract, every adapter: what the dispatcher relies on from any channel.

Add the dispatcher's test fake to `ADAPTERS` so it is held to the same contract.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx
import pytest

from channels.base import Channel, OutboundMessage
from channels.email_smtp import SmtpConfig, SmtpEmailChannel
from channels.log import LogChannel
from channels.sms_twilio import TwilioConfig, TwilioSmsChannel
from channels.telegram import TelegramChannel
from tests.peers.smtp_server import SmtpPeer
from tests.peers.telegram_api import TelegramPeer
from tests.peers.twilio_api import TwilioPeer


@dataclass
class Peers:
    twilio: TwilioPeer
    smtp: SmtpPeer
    telegram: TelegramPeer
    http: httpx.AsyncClient


Factory = Callable[[Peers], tuple[Channel, str]]


def _twilio(peers: Peers) -> tuple[Channel, str]:
    peer = peers.twilio
    config = TwilioConfig(
        peer.account_sid,
        peer.auth_token,
        "https://bot.example.com",
        from_number="+15005550006",
        api_base=peer.base_url,
    )
    return TwilioSmsChannel(config, peers.http), "+85291234567"


def _smtp(peers: Peers) -> tuple[Channel, str]:
    config = SmtpConfig(
        peers.smtp.host,
        peers.smtp.port,
        "noreply@firm.example",
        "replies.localhost",
        starttls=False,
    )
    return SmtpEmailChannel(config), "zhang.san@example.com"


def _telegram(peers: Peers) -> tuple[Channel, str]:
    return TelegramChannel(peers.telegram.token, peers.telegram.base_url, timeout=2), "555123456"


def _log(peers: Peers) -> tuple[Channel, str]:
    return LogChannel("sms"), "+8613812345678"


ADAPTERS: dict[str, Factory] = {
    "twilio": _twilio,
    "smtp": _smtp,
    "telegram": _telegram,
    "log": _log,
}


@pytest.fixture(params=sorted(ADAPTERS))
async def adapter(
    request: pytest.FixtureRequest,
    twilio_peer: TwilioPeer,
    smtp_peer: SmtpPeer,
    telegram_peer: TelegramPeer,
    http_client: httpx.AsyncClient,
) -> AsyncIterator[tuple[Channel, str]]:
    peers = Peers(twilio_peer, smtp_peer, telegram_peer, http_client)
    channel, address = ADAPTERS[request.param](peers)
    yield channel, address
    await channel.close()


async def test_channel_contract(adapter: tuple[Channel, str]) -> None:
    channel, address = adapter
    assert isinstance(channel, Channel)
    assert channel.mode in ("live", "log") and channel.channel in ("sms", "email", "telegram")
    results = []
    for n in range(2):
        msg = OutboundMessage(
            message_id=f"contract-{n}",
            channel=channel.channel,
            to=address,
            body="您好，这是一条测试消息。",
            subject="测试",
            buttons=(("好的", "ok"),),
        )
        results.append(await channel.send(msg))
    for result in results:
        assert result.provider_id and result.sent_at.tzinfo is not None
        assert result.status in ({"logged"} if channel.mode == "log" else {"queued", "sent"})
    assert results[0].provider_id != results[1].provider_id
    await channel.close()  # closing twice is harmless
