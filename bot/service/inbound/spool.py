"""Twilio webhooks kept on disk while the database is down (`SPOOL_DIR`).

Twilio does not retry an inbound SMS or a status report that failed, so when storing
one fails because the database cannot be reached, the verified form is written here and
Twilio gets its 200. Each request is one file, written under a temporary name, fsynced and
renamed (a crash leaves either the whole file or none), mode 0600: it holds a phone number
and the customer's words. `replay` feeds the files, oldest first, through the same
handlers once the database answers and deletes each one after it is stored; the provider's
message id makes a replay that was cut short safe to repeat. A request the database refuses
for another reason (a bug, a value it cannot store) goes straight to `bad/` for a person: it
never waits in line, so it never holds up the requests after it. Telegram and email need no
spool: they retry until we answer (webhook 5xx, SMTP 451, getUpdates offset).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

log = logging.getLogger("outreach.spool")


def database_down(exc: BaseException) -> bool:
    """Whether `exc` means the database cannot be reached or cannot take the write now
    (a refused, cut or timed-out connection, "database is locked"), as opposed to a bug
    such as a constraint violation, which retrying later would only repeat."""
    if isinstance(exc, OSError | PoolTimeout):  # refused, reset, timed out; pool exhausted
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError):
            return True
        # PostgreSQL: connection exceptions (08), insufficient resources such as too many
        # connections (53), shutting down or starting up (57P), read-only after a failover,
        # a deadlock or serialization failure (40: the same write succeeds when repeated).
        code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        return isinstance(code, str) and (
            code[:2] in ("08", "53", "40") or code.startswith("57P") or code == "25006")
    return False

ROUTES = ("twilio_sms", "twilio_status")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class SpooledRequest:
    """One verified webhook request, as much as replaying it needs."""

    route: str  # one of ROUTES
    form: dict[str, str]
    received_at: datetime  # aware UTC: when Twilio called us
    our_id: str | None = None  # twilio_status: the ?m= of the status report URL

    def to_json(self) -> str:
        return json.dumps({"route": self.route, "form": self.form, "our_id": self.our_id,
                           "received_at": self.received_at.isoformat()}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> SpooledRequest:
        data = json.loads(text)
        received_at = datetime.fromisoformat(data["received_at"])
        if data["route"] not in ROUTES or received_at.tzinfo is None:
            raise ValueError(f"not a spooled webhook: route {data['route']!r}")
        form = {str(k): str(v) for k, v in dict(data["form"]).items()}
        return cls(data["route"], form, received_at, data.get("our_id"))


class Spool:
    """A directory of spooled requests; file names sort in arrival order."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def put(self, item: SpooledRequest, *, bad: bool = False) -> Path:
        """Write `item` durably, into `bad/` when it is `bad` (the database refused it: a
        replay would only fail again, so it must not wait in line); raises OSError when the
        disk cannot take it.

        Named by when the provider called, not when written: a request that waited longer
        for the database than a later one still replays first."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        directory = self.directory / "bad" if bad else self.directory
        directory.mkdir(exist_ok=True, mode=0o700)
        called = (item.received_at - _EPOCH) // timedelta(microseconds=1) * 1000
        name = f"{called:020d}-{uuid.uuid4().hex[:8]}.json"
        tmp = directory / f".{name}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, item.to_json().encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        path = directory / name
        os.replace(tmp, path)
        return path

    def pending(self) -> list[Path]:
        """Spooled files, oldest first (none when the directory does not exist)."""
        if not self.directory.is_dir():
            return []
        return sorted(p for p in self.directory.glob("*.json") if p.is_file())

    def set_aside(self, path: Path) -> Path:
        """Move a file that cannot be read to `bad/`, kept for a person to look at."""
        bad = self.directory / "bad"
        bad.mkdir(exist_ok=True, mode=0o700)
        target = bad / path.name
        os.replace(path, target)
        return target


async def spool_request(spool: Spool, item: SpooledRequest,
                        refused: BaseException | None = None) -> bool:
    """Keep `item` on disk: in line for replay, or in `bad/` when the database `refused` it
    (not an outage: replaying would fail the same way, and nothing may wait behind it).
    False (logged) when even that fails."""
    try:
        path = await asyncio.to_thread(spool.put, item, bad=refused is not None)
    except OSError:
        log.exception("%s: request not stored and the spool directory cannot be written: "
                      "this request is lost unless the provider retries", item.route)
        return False
    if refused is not None:
        log.error("%s: storing failed (%s); kept in %s for a person to look at", item.route,
                  type(refused).__name__, path, exc_info=refused)
    else:
        log.warning("%s: database down; request kept in the spool for replay", item.route)
    return True


async def replay(spool: Spool, handle: Callable[[SpooledRequest], Awaitable[None]]) -> int:
    """Feed spooled requests to `handle`, oldest first, deleting each once handled.

    Stops at the first database error (the rest wait for the next round); a file that
    cannot be read is set aside. Returns how many were replayed.
    """
    done = 0
    for path in spool.pending():
        try:
            item = SpooledRequest.from_json(path.read_text(encoding="utf-8"))
        except (ValueError, KeyError, TypeError) as exc:
            log.error("spooled file %s cannot be read (%s); moved to %s", path.name, exc,
                      spool.set_aside(path))
            continue
        try:
            await handle(item)
        except Exception as exc:
            if database_down(exc):
                log.warning("database still down: %d spooled webhook(s) wait",
                            len(spool.pending()))
                break
            # A bug, not an outage: keep the request for a person and go on.
            log.exception("replaying spooled %s failed; moved to %s", item.route,
                          spool.set_aside(path))
            continue
        path.unlink(missing_ok=True)
        done += 1
    if done:
        log.info("replayed %d spooled webhook(s)", done)
    return done
