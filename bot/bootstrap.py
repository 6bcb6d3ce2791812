"""The composition root: settings, engine and sessions are built here, once, never at import."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.engine import make_engine, make_sessionmaker
from bot.db.migrate import upgrade
from bot.settings import Settings, load_settings


class StartupError(RuntimeError):
    """The product cannot start (database unreachable…); the message is one line."""


@dataclass
class App:
    """What every entry point needs; built by `open_app`."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]


def safe_url(url: str) -> str:
    """The database URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


class _CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is at the time (tests and CLIs swap it)."""

    def __init__(self) -> None:
        super().__init__()

    @property  # type: ignore[override]
    def stream(self) -> object:
        import sys

        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def configure_logging(settings: Settings) -> None:
    """Text or JSON lines; personal data never reaches a log call (callers mask)."""
    fmt = (
        '{"at": "%(asctime)s", "level": "%(levelname)s", "logger": "%(name)s", "msg": "%(message)s"}'
        if settings.log_format == "json"
        else "%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    handler = _CurrentStderr()
    handler.setFormatter(logging.Formatter(fmt))
    logging.basicConfig(level=settings.log_level, handlers=[handler], force=True)
    for noisy in ("alembic", "apscheduler", "aiosmtpd", "mail.log"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@asynccontextmanager
async def open_app(settings: Settings | None = None, *, migrate: bool = True) -> AsyncIterator[App]:
    """Build the app, bring the schema to head, and dispose of the engine afterwards."""
    settings = settings or load_settings()
    engine = make_engine(settings.database_url)
    try:
        if migrate:
            try:
                await upgrade(engine)
            except (OperationalError, OSError) as exc:
                raise StartupError(
                    f"database {safe_url(settings.database_url)}: cannot open it ({exc.__class__.__name__})"
                ) from exc
        yield App(settings=settings, engine=engine, sessions=make_sessionmaker(engine))
    finally:
        await engine.dispose()
