"""Log mode (no credentials, the demo): messages are recorded `logged`, nobody is called."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from bot.bootstrap import App, build_channels
from bot.db.models import Bundle, Callback, Message, Touch
from bot.service.dispatch.dispatcher import Dispatcher
from tests.integration.dispatch.conftest import Clock
from tests.integration.planning.helpers import at, plan, seed


async def test_all_channels_in_log_mode_end_logged_without_callback(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    await seed(app, {"opened_on": date(2026, 3, 2), "phone": "+8613812345678",
                     "email": "zhang@example.com"}, sms_signature="华东证券")
    await plan(app, date(2026, 3, 3))
    channels = build_channels(app.settings)
    stats = await Dispatcher(app, channels, clock=Clock(at(date(2026, 3, 3), 10))).tick()
    assert stats.steps == {"logged": 1}
    async with app.sessions() as s:
        messages = (await s.exec(select(Message))).all()
        assert sorted((m.channel, m.status) for m in messages) == [("email", "logged"), ("sms", "logged")]
        assert [t.status for t in (await s.exec(select(Touch))).all()] == ["logged"]
        assert [b.status for b in (await s.exec(select(Bundle))).all()] == ["logged"]
        assert (await s.exec(select(Callback))).all() == []
    assert "13812345678" not in caplog.text and "zhang@" not in caplog.text


def test_dispatch_and_pause_commands(cli_env: dict[str, str]) -> None:
    runner = CliRunner()
    from bot.cli import app as cli

    result = runner.invoke(cli, ["pause", "--channel", "fax"])
    assert result.exit_code == 2 and "--channel" in result.output
    assert "paused: branch:SH01" in runner.invoke(cli, ["pause", "--branch", "SH01"]).output
    assert "already paused" in runner.invoke(cli, ["pause", "--branch", "SH01"]).output
    assert "resumed" in runner.invoke(cli, ["resume", "--branch", "SH01"]).output
    result = runner.invoke(cli, ["dispatch", "--once"])
    assert result.exit_code == 0 and "dispatched 0 bundle(s)" in result.output
