"""SIGTERM and SIGINT end a worker gently: stop claiming, finish the sends in flight within
SHUTDOWN_GRACE_SECONDS, hand the rest back unsent (`Dispatcher.drain`).

The handler is installed with `signal.signal`, not the loop's, so uvicorn (which sets its own
while it serves, then restores ours and raises the signal again) passes the signal on to it.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger("outreach.run")

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextmanager
def stop_on_signals() -> Iterator[asyncio.Event]:
    """An event set on the first SIGTERM or SIGINT (a second one is ignored: the grace
    period already bounds the wait). The previous handlers are put back afterwards."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def handle(signum: int, _frame: object) -> None:
        if not stop.is_set():
            log.info("%s: finishing the sends in flight, then stopping",
                     signal.Signals(signum).name)
        loop.call_soon_threadsafe(stop.set)

    previous = {sig: signal.signal(sig, handle) for sig in STOP_SIGNALS}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
