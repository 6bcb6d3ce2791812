"""STARTTLS and login against an aiosmtpd peer that requires TLS, as a provider's
submission port does; the peer's certificate comes from a test CA the client is told to
trust through SSL_CERT_FILE, the way an installation adds a private CA."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme

from channels.base import ChannelError, TransientDeliveryError
from channels.email_smtp import SmtpEmailChannel
from tests.integration.channels.test_email_send import config, mail
from tests.peers.smtp_server import SmtpPeer


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def tls_peer(ca: trustme.CA) -> AsyncIterator[SmtpPeer]:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    peer = SmtpPeer("mailer", "s3cret", tls_context=server_context)
    await peer.start()
    yield peer
    await peer.stop()


def trust(ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    monkeypatch.setenv("SSL_CERT_FILE", str(pem))


async def test_starttls_then_login_then_send(
        tls_peer: SmtpPeer, ca: trustme.CA, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    trust(ca, tmp_path, monkeypatch)
    channel = SmtpEmailChannel(config(tls_peer, starttls=True, username="mailer",
                                      password="s3cret"))
    result = await channel.send(mail())
    [captured] = tls_peer.mails
    assert captured.tls  # the message went over the encrypted session
    assert captured.rcpt_tos == ["zhang.san@example.com"]
    assert result.provider_id == captured.message["Message-ID"]


async def test_a_certificate_nobody_vouches_for_sends_nothing(
        tls_peer: SmtpPeer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The password never goes to a server that cannot prove who it is."""
    trust(trustme.CA(), tmp_path, monkeypatch)  # some other CA
    channel = SmtpEmailChannel(config(tls_peer, starttls=True, username="mailer",
                                      password="s3cret"))
    with pytest.raises(TransientDeliveryError, match=r"(?i)certificate"):
        await channel.send(mail())  # retried, and degrades the channel until fixed
    assert tls_peer.mails == []


async def test_without_starttls_the_server_refuses_and_nothing_is_sent(
        tls_peer: SmtpPeer, ca: trustme.CA, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    trust(ca, tmp_path, monkeypatch)
    channel = SmtpEmailChannel(config(tls_peer, starttls=False))
    with pytest.raises(ChannelError):
        await channel.send(mail())
    assert tls_peer.mails == []
