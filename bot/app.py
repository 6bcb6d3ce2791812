"""What every use case needs: settings, the engine and a session factory (built by
`bot.bootstrap.open_app`, never at import)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.settings import Settings


@dataclass
class App:
    """The opened application: settings, engine and sessions."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
