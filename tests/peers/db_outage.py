"""A database that goes away and comes back, for tests of what happens meanwhile.

PostgreSQL: the app connects through a TCP relay on 127.0.0.1 that the test can cut
(connections in flight are aborted, new ones closed at once) and restore. SQLite has no
socket: another connection holds the write lock (`BEGIN EXCLUSIVE`), so the app's writes
fail with "database is locked" once its busy timeout runs out, as they do while a long
planning run or a backup holds the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3

from sqlalchemy.engine import make_url


class TcpRelay:
    """Forwards 127.0.0.1:<port> to a real server until cut."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.port = 0
        self._down = False
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def cut(self) -> None:
        self._down = True
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()

    def restore(self) -> None:
        self._down = False

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._down:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()
            return
        self._open |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer),
                             return_exceptions=True)
        self._open -= {writer, up_writer}

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            with contextlib.suppress(Exception):
                writer.transport.abort()


class DatabaseOutage:
    """`url` is what the app should connect to; `down()` / `up()` switch the outage."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.url = database_url
        self._relay: TcpRelay | None = None
        self._lock: sqlite3.Connection | None = None

    async def start(self) -> None:
        if self.database_url.startswith("sqlite"):
            return
        parsed = make_url(self.database_url)
        self._relay = TcpRelay(parsed.host or "127.0.0.1", parsed.port or 5432)
        await self._relay.start()
        self.url = parsed.set(host="127.0.0.1", port=self._relay.port).render_as_string(
            hide_password=False)

    async def stop(self) -> None:
        self.up()
        if self._relay is not None:
            await self._relay.stop()

    def down(self) -> None:
        if self._relay is not None:
            self._relay.cut()
            return
        path = make_url(self.database_url).database
        assert path
        self._lock = sqlite3.connect(path, isolation_level=None)
        self._lock.execute("BEGIN EXCLUSIVE")

    def up(self) -> None:
        if self._relay is not None:
            self._relay.restore()
        if self._lock is not None:
            self._lock.execute("ROLLBACK")
            self._lock.close()
            self._lock = None
