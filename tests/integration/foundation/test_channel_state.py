"""A channel is live or in log mode in one place: `/healthz`, `outreach check` and sending agree,
and `check` says what a half-configured channel is missing."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest
from typer.testing import CliRunner

from bot.bootstrap import build_channels, open_app
from bot.cli import app as cli
from bot.settings import Settings, load_settings
from bot.web.app import create_app


@pytest.fixture
def listening_port() -> Iterator[int]:
    """A TCP port that accepts connections (all `check` does with an SMTP server)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _check(monkeypatch: pytest.MonkeyPatch, **env: str) -> tuple[int, list[str]]:
    for key, value in env.items():
        monkeypatch.setenv(f"OUTREACH_{key}", value)
    result = CliRunner().invoke(cli, ["check"])
    return result.exit_code, result.output.splitlines()


def test_smtp_host_without_sender_is_log_in_check_and_sending(
    cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, lines = _check(monkeypatch, SMTP_HOST="127.0.0.1")
    assert code == 0
    assert "email: log (SMTP_HOST is set but EMAIL_FROM is not: messages are recorded as logged)" in lines
    channels = build_channels(load_settings(_env_file=None, smtp_host="127.0.0.1"))
    assert channels.mode("email") == "log" and channels.notes["email"]


async def test_smtp_host_without_sender_is_log_in_healthz(settings: Settings) -> None:
    half = settings.model_copy(update={"smtp_host": "127.0.0.1"})
    async with open_app(half) as opened:
        transport = httpx.ASGITransport(app=create_app(opened))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            body = (await client.get("/healthz")).json()
    assert body["channels"] == {"sms": "log", "email": "log", "telegram": "log"}


def test_check_asks_a_live_channel_whether_its_server_answers(
    cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, listening_port: int
) -> None:
    code, lines = _check(monkeypatch, SMTP_HOST="127.0.0.1", SMTP_PORT=str(listening_port),
                         EMAIL_FROM="care@example.com")
    assert code == 0 and "email: live (reachable)" in lines
    code, lines = _check(monkeypatch, SMTP_PORT=str(_closed_port()))
    assert code == 2
    assert "email: live (NOT reachable (ConnectionRefusedError))" in lines


def test_check_names_half_given_twilio_credentials(
    cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, lines = _check(monkeypatch, TWILIO_ACCOUNT_SID="AC" + "1" * 32)
    assert code == 0
    [sms] = [line for line in lines if line.startswith("sms:")]
    assert sms.startswith("sms: log (Twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN")


def test_check_says_the_console_needs_a_secret_key(
    cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OUTREACH_SECRET_KEY")
    code, lines = _check(monkeypatch)
    assert code == 2 and any(line.startswith("console: OUTREACH_SECRET_KEY is not set")
                             for line in lines)
    code, lines = _check(monkeypatch, SERVE="webhooks,api")
    assert code == 0 and not any(line.startswith("console:") for line in lines)
