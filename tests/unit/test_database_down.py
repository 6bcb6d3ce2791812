"""Which errors mean "the database is down" (keep the request, retry later) and which are
bugs that a retry would only repeat."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from bot.service.inbound.spool import database_down


class DriverError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"SQLSTATE {sqlstate}")
        self.sqlstate = sqlstate


def wrapped(cls: type[DBAPIError], sqlstate: str = "XX000") -> DBAPIError:
    return cls("INSERT …", None, DriverError(sqlstate))


@pytest.mark.parametrize("exc", [
    ConnectionRefusedError(), ConnectionResetError(), TimeoutError(),
    PoolTimeout("QueuePool limit reached"),
    wrapped(OperationalError), wrapped(DBAPIError, "57P03"),  # the server is starting up
    wrapped(DBAPIError, "53300"),  # too many connections
    wrapped(DBAPIError, "08006"),  # connection failure
    wrapped(DBAPIError, "25006"),  # read-only transaction: a replica after a failover
    wrapped(DBAPIError, "40P01"),  # deadlock: the same write succeeds when repeated
    wrapped(DBAPIError, "40001"),  # serialization failure: likewise
], ids=repr)
def test_outages(exc: BaseException) -> None:
    assert database_down(exc)


@pytest.mark.parametrize("exc", [
    wrapped(IntegrityError, "23505"), wrapped(ProgrammingError, "42P01"),
    wrapped(DBAPIError, "22001"), wrapped(DBAPIError, "22021"),  # too long; a NUL in text
    UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"),
    KeyError("x"), ValueError("bad"),
], ids=repr)
def test_bugs(exc: BaseException) -> None:
    assert not database_down(exc)
