"""Logging for every process: one stderr handler with a redacting filter, libraries kept quiet.

No phone number, email address, name, message text or link token may appear in any log line,
ours or a library's (issue 13). Names and message texts cannot be recognised by pattern, so
they must never reach a log call: our calls log ids and masked addresses, and the libraries
whose output holds SQL parameters, result rows, request URLs or bodies (aiosqlite, SQLAlchemy,
httpx, aiogram, twilio, the SMTP libraries…) stay at WARNING. What a pattern can recognise is
masked by `RedactingFilter` on every handler, as the last line of defence: phone numbers
(E.164, national, URL-encoded), email addresses, the tokens of /u/ and /t/ links (whoever reads
them could unsubscribe or bind someone else) and Telegram bot tokens. Lines are masked, never
dropped, and keep their ids.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback

from bot.domain.masking import mask_email, mask_phone
from bot.settings import Settings

__all__ = ["OWN_LOGGERS", "QUIET_LOGGERS", "RedactingFilter", "configure_logging",
           "frames_only", "guard_last_resort", "redact"]

#: Our loggers: they follow LOG_LEVEL, DEBUG included.
OWN_LOGGERS = ("outreach", "channels")
#: Libraries whose INFO or DEBUG lines carry personal data or noise: WARNING at least.
QUIET_LOGGERS = (
    "sqlalchemy", "aiosqlite", "asyncpg",  # SQL, parameters, result rows
    "httpx", "httpcore", "hpack", "h2",  # request lines with the number in the query
    "aiogram", "aiohttp", "twilio", "aiosmtplib", "aiosmtpd", "mail.log",  # updates, bodies
    "python_multipart", "multipart", "charset_normalizer",  # form fields, CSV contents
    "apscheduler", "alembic",
)

_TOKEN = r"[A-Za-z0-9_-]+"
_LINK_PATH = re.compile(rf"((?:/|%2F)[ut](?:/|%2F)){_TOKEN}", re.IGNORECASE)
_START = re.compile(rf"([?&]start=|/start\s+){_TOKEN}")
_BOT_TOKEN = re.compile(r"\bbot\d{5,}:[A-Za-z0-9_-]{20,}")
_EMAIL = re.compile(r"([A-Za-z0-9._%+-]+)(@|%40)((?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,})",
                    re.IGNORECASE)
# +852 9123 4567, +8613912341129, %2B85291234567 (URL-encoded).
_INTERNATIONAL = re.compile(r"(?:\+|%2B)\d{1,4}(?:[ -]?\d{2,5}){1,4}(?!\d)", re.IGNORECASE)
# 139 1234 1129, 139-1234-1129, 9123 4567 (national forms with separators).
_NATIONAL_SPACED = re.compile(r"(?<![\d+:.-])(?:\d{3,4}[ -]\d{4}[ -]\d{4}|[2-9]\d{3} \d{4})"
                              r"(?![\d:.])")
# 13912341129, 91234567, a Telegram chat id: any bare run of 8-15 digits (ours ids are mixed).
_DIGITS = re.compile(r"(?<![A-Za-z0-9_])\d{8,15}(?![A-Za-z0-9_])")


def _email(m: re.Match[str]) -> str:
    return mask_email(f"{m[1]}@{m[3]}").replace("@", m[2], 1)


def _phone(m: re.Match[str]) -> str:
    text = re.sub(r"%2B", "+", m[0], flags=re.IGNORECASE)
    return mask_phone(text) if sum(c.isdigit() for c in text) >= 7 else m[0]


def redact(text: str) -> str:
    """Mask every phone number, email address and link token `text` holds."""
    text = _LINK_PATH.sub(r"\1[token]", text)
    text = _START.sub(r"\1[token]", text)
    text = _BOT_TOKEN.sub("bot[token]", text)
    text = _EMAIL.sub(_email, text)
    text = _INTERNATIONAL.sub(_phone, text)
    text = _NATIONAL_SPACED.sub(_phone, text)
    return _DIGITS.sub(_phone, text)


def frames_only(exc: BaseException) -> str:
    """The exception's type and where it was raised, not its message: where code reads a
    customer's words or mail, the message may quote them (and no pattern finds a name)."""
    return f"{type(exc).__name__}\n" + "".join(traceback.format_tb(exc.__traceback__))


class RedactingFilter(logging.Filter):
    """Redacts a record's message, traceback and stack before any handler formats it."""

    _tracebacks = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep the line, not its arguments
            message = f"{record.msg} [arguments not shown: they did not format]"
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._tracebacks.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class _CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is at the time (tests and CLIs swap it)."""

    def __init__(self) -> None:
        super().__init__()

    @property  # type: ignore[override]
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


class _JsonFormatter(logging.Formatter):
    """One JSON object per line, whatever quotes or newlines the message holds."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"at": self.formatTime(record), "level": record.levelname,
                "logger": record.name, "msg": record.getMessage()}
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exc"] = record.exc_text
        return json.dumps(line, ensure_ascii=False)


def configure_logging(settings: Settings) -> None:
    """Text or JSON lines on stderr, redacted. LOG_LEVEL applies to our loggers; libraries
    log INFO at most (their DEBUG holds SQL parameters, rows and request details) and the
    ones in QUIET_LOGGERS WARNING. Uvicorn is started without a log config of its own, so
    its access lines pass through the same handler and filter."""
    level = logging.getLevelName(settings.log_level)
    handler = _CurrentStderr()
    handler.setFormatter(_JsonFormatter() if settings.log_format == "json"
                         else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    logging.basicConfig(level=max(level, logging.INFO), handlers=[handler], force=True)
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    guard_last_resort()


def guard_last_resort() -> None:
    """Commands that configure no logging print warnings through `logging.lastResort`:
    it gets the same filter."""
    last = logging.lastResort
    if last is not None and not any(isinstance(f, RedactingFilter) for f in last.filters):
        last.addFilter(RedactingFilter())
