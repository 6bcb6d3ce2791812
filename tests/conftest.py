"""Test databases: a migrated template per session, one fresh copy per test.

SQLite by default; PostgreSQL when OUTREACH_TEST_DATABASE_URL is set (CI runs both).
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.bootstrap import App, open_app
from bot.db.engine import make_engine
from bot.db.migrate import upgrade
from bot.settings import Settings, load_settings

pytest_plugins = ["tests.peers.fixtures"]

PG_URL = os.environ.get("OUTREACH_TEST_DATABASE_URL")


def _pg_admin_url(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


async def _pg_exec(url: str, statement: str) -> None:
    engine = make_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def _migrate(url: str) -> None:
    engine = make_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def _template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Migrate once; each test copies the result (file copy or CREATE DATABASE … TEMPLATE)."""
    if PG_URL:
        name = f"outreach_tpl_{os.getpid()}"
        asyncio.run(_pg_exec(PG_URL, f"DROP DATABASE IF EXISTS {name}"))
        asyncio.run(_pg_exec(PG_URL, f"CREATE DATABASE {name}"))
        asyncio.run(_migrate(_pg_admin_url(PG_URL, name)))
        yield name
        asyncio.run(_pg_exec(PG_URL, f"DROP DATABASE IF EXISTS {name}"))
    else:
        path = tmp_path_factory.mktemp("template") / "template.db"
        asyncio.run(_migrate(f"sqlite+aiosqlite:///{path}"))
        yield str(path)


@pytest.fixture
def database_url(_template: str, tmp_path: Path) -> Iterator[str]:
    """A database of our own, migrated to head, for this test only."""
    if PG_URL:
        name = f"outreach_t_{uuid.uuid4().hex[:12]}"
        asyncio.run(_pg_exec(PG_URL, f"CREATE DATABASE {name} TEMPLATE {_template}"))
        yield _pg_admin_url(PG_URL, name)
        asyncio.run(_pg_exec(PG_URL, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    else:
        path = tmp_path / "outreach.db"
        shutil.copyfile(_template, path)
        yield f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings for tests: defaults, our database, no .env from the working directory."""
    return load_settings(_env_file=None, database_url=database_url, secret_key="test-secret")


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[App]:
    """The opened application (engine and sessions) on the test's database."""
    async with open_app(settings) as opened:
        yield opened


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Run CLI commands in an empty directory against the test's database."""
    monkeypatch.chdir(tmp_path)
    for key in list(os.environ):
        if key.startswith("OUTREACH_") and key != "OUTREACH_TEST_DATABASE_URL":
            monkeypatch.delenv(key)
    monkeypatch.setenv("OUTREACH_DATABASE_URL", database_url)
    monkeypatch.setenv("OUTREACH_SECRET_KEY", "test-secret")
    return {"OUTREACH_DATABASE_URL": database_url}


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """For tests that call configure_logging, which changes the process's root logger and
    library loggers' levels: everything is put back afterwards."""
    root, manager = logging.getLogger(), logging.Logger.manager
    handlers, level = root.handlers[:], root.level
    levels = {name: lg.level for name, lg in manager.loggerDict.items()
              if isinstance(lg, logging.Logger)}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, lg in manager.loggerDict.items():
        if isinstance(lg, logging.Logger):
            lg.setLevel(levels.get(name, logging.NOTSET))
