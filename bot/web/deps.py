"""What the web routes share: the App, the channel adapters (built on first use) and the
inbound processor; kept on `app.state` so tests can hand in their own adapters."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from fastapi import HTTPException, Request

from bot.bootstrap import App, build_channels, build_inbound
from bot.service.inbound.acting import Handled
from bot.service.inbound.inbox import Drainer, Writer
from bot.service.inbound.processor import SQLITE_LOCK_WAIT_SECONDS, InboundProcessor
from bot.service.inbound.spool import Spool
from channels.registry import Channels


@dataclass
class WebContext:
    """One per web app; `close` releases adapters it built itself."""

    app: App
    given: Channels | None = None
    _built: Channels | None = field(default=None, init=False)
    processor: InboundProcessor = field(init=False)
    spool: Spool = field(init=False)
    drainer: Drainer = field(init=False)  # set by create_app (the handler is the webhooks')
    inbox: Writer = field(init=False)
    to_deliver: list[Handled] = field(default_factory=list, init=False)
    answering: int = field(default=0, init=False)  # webhook requests being answered now
    sending: set[asyncio.Task[None]] = field(default_factory=set, init=False)  # answers going out

    def __post_init__(self) -> None:
        self.processor = build_inbound(self.app, self.channels)
        self.spool = Spool(self.app.settings.spool_dir)
        # SQLite: the same bounded wait for the file as every inbound write, then the spool.
        self.inbox = Writer(self.app.engine, self.processor.sqlite_writer,
                            SQLITE_LOCK_WAIT_SECONDS if self.app.settings.is_sqlite else None)

    async def deliver_pending(self) -> None:
        """Send what acting on stored requests decided (the outbox rows stay if this fails)."""
        while self.to_deliver:  # in the order decided: a customer's answers stay in order
            waiting, self.to_deliver = self.to_deliver, []
            for handled in waiting:
                await self.processor.deliver(handled)

    def channels(self) -> Channels:
        """The adapters replies go through; built lazily so a web app that never answers
        opens no client sessions."""
        if self.given is not None:
            return self.given
        if self._built is None:
            self._built = build_channels(self.app.settings)
        return self._built

    async def close(self) -> None:
        if self._built is not None:
            await self._built.close()
            self._built = None


def context(request: Request) -> WebContext:
    """The WebContext of the app serving this request."""
    ctx: WebContext = request.app.state.ctx
    return ctx


async def read_limited(request: Request, limit: int) -> bytes:
    """The body, or 413 when it is (or claims to be) over `limit` bytes.

    Content-Length is checked first; the stream is counted too, since chunked
    bodies carry no length.
    """
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            too_big = int(declared) > limit
        except ValueError:
            raise HTTPException(400, "bad Content-Length") from None
        if too_big:
            raise HTTPException(413, "request body too large")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, "request body too large")
        chunks.append(chunk)
    return b"".join(chunks)
