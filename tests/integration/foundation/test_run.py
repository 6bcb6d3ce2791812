"""What `outreach run` stands on: health answer and the one-process-per-SQLite-file lock."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from bot.bootstrap import App
from bot.db.engine import make_engine
from bot.run.runner import AlreadyRunning, sqlite_run_lock
from bot.web.app import create_app


async def test_healthz_reports_database_and_log_mode_channels(app: App) -> None:
    transport = httpx.ASGITransport(app=create_app(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok", "db": "ok",
        "channels": {"sms": "log", "email": "log", "telegram": "log"},
    }


async def test_healthz_is_503_when_the_database_is_gone(app: App) -> None:
    nowhere = make_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    broken = App(settings=app.settings, engine=nowhere, sessions=app.sessions)
    web = create_app(broken)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web),
                                 base_url="http://test") as client:
        response = await client.get("/healthz")
    await broken.engine.dispose()
    assert response.status_code == 503
    assert response.json()["db"] == "down"


def test_second_run_on_one_sqlite_file_is_refused(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    with sqlite_run_lock(url), pytest.raises(AlreadyRunning, match="another `outreach run`"), \
            sqlite_run_lock(url):
        pass
    with sqlite_run_lock(url):  # released after the first process ends
        pass
