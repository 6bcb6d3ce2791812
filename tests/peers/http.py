"""A tiny aiohttp host for the HTTP peers, plus a webhook sink that records calls."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import cast

from aiohttp import web


class LoopbackServer:
    """Serve an aiohttp app on 127.0.0.1 with a free port, inside the running loop."""

    def __init__(self) -> None:
        self.app = web.Application()
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def start(self) -> str:
        # handler_cancellation: a client that gave up (timeout test) frees the handler.
        self._runner = web.AppRunner(self.app, handler_cancellation=True, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        # aiohttp exposes no public getter for the bound port
        server = cast(asyncio.Server, site._server)
        port = server.sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


@dataclass
class RecordedRequest:
    method: str
    url: str  # as the client called it, with the query string
    headers: dict[str, str]
    form: dict[str, str]
    body: bytes


class WebhookSink(LoopbackServer):
    """Stands in for our web app: records every request and answers `status`."""

    def __init__(self, status: int = 200) -> None:
        super().__init__()
        self.status = status
        self.requests: list[RecordedRequest] = []
        self.arrived = asyncio.Event()
        self.app.router.add_route("*", "/{tail:.*}", self._handle)

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        form = (
            {k: str(v) for k, v in (await request.post()).items()}
            if request.method == "POST"
            else {}
        )
        self.requests.append(
            RecordedRequest(request.method, str(request.url), dict(request.headers), form, body)
        )
        self.arrived.set()
        return web.Response(status=self.status, text="<Response/>", content_type="text/xml")

    async def wait_for(self, count: int, timeout: float = 2.0) -> list[RecordedRequest]:
        """Wait until `count` requests arrived (callbacks are sent in the background)."""
        async with asyncio.timeout(timeout):
            while len(self.requests) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.requests
