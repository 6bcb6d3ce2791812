"""Hostile text is the client's error, never a server error.

Routes check their own input first, so the answer says what is wrong (a link that is not
one of ours is the "link not valid" page, a bad branch code a 422 naming it). This is the
net under them: a NUL or a lone surrogate that still reaches the database (PostgreSQL
refuses NUL in text, UTF-8 cannot encode a lone surrogate) is answered 422, and FastAPI's
own 422, which echoes the input, is written as ASCII JSON so a lone surrogate in a JSON
body can be written at all.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DBAPIError

log = logging.getLogger("outreach.web")

#: PostgreSQL: character not in repertoire (a NUL in text), untranslatable character.
_TEXT_SQLSTATES = ("22021", "22P05")


class AsciiJSON(JSONResponse):
    """JSON with every non-ASCII character escaped: valid whatever the strings hold."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def refused_text(exc: BaseException) -> bool:
    """Whether `exc` is the database or its driver refusing text (a NUL, a lone surrogate),
    looking through SQLAlchemy's wrapper and the driver's cause."""
    seen: BaseException | None = exc
    for _ in range(5):  # the wrapper, the driver's error, its cause: never a long chain
        if seen is None:
            return False
        if isinstance(seen, UnicodeEncodeError):
            return True
        code = getattr(seen, "sqlstate", None) or getattr(seen, "pgcode", None)
        if code in _TEXT_SQLSTATES:
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__
    return False


async def _unstorable_text(request: Request, exc: Exception) -> Response:
    if not refused_text(exc):
        raise exc  # a real server error: logged and answered 500 as before
    route = getattr(request.scope.get("route"), "path", "?")  # the template: no values logged
    log.warning("%s %s: text the database cannot store (%s); answered 422", request.method,
                route, type(exc).__name__)
    return AsciiJSON({"detail": "the request holds text that cannot be stored "
                                "(a NUL character or a lone surrogate)"}, status_code=422)


async def _invalid_request(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return AsciiJSON({"detail": jsonable_encoder(exc.errors())}, status_code=422)


def install(web: FastAPI) -> None:
    """Register the handlers on the app."""
    web.add_exception_handler(RequestValidationError, _invalid_request)
    web.add_exception_handler(DBAPIError, _unstorable_text)
    web.add_exception_handler(UnicodeEncodeError, _unstorable_text)
