"""The redacting log filter and the logging set-up: what an operator reading the log sees."""

from __future__ import annotations

import io
import json
import logging

import pytest

from bot.logs import RedactingFilter, configure_logging, frames_only, redact
from bot.settings import load_settings


@pytest.mark.parametrize(("raw", "shown"), [
    ("to +85291234567", "to +852****4567"),
    ("to +8613912341129", "to 139****1129"),
    ("GET /Messages.json?To=%2B85291234567&PageSize=50",
     "GET /Messages.json?To=+852****4567&PageSize=50"),
    ("national 13912341129.", "national 139****1129."),
    ("电话13912341129请回电", "电话139****1129请回电"),
    ("spaced +86 139 1234 1129 and 139-1234-1129", "spaced 139****1129 and 139****1129"),
    ("Hong Kong 9123 4567", "Hong Kong ****4567"),
    ("chat 777000333 blocked", "chat 7****0333 blocked"),
    ("from ouyang.xiaoyan@example.com", "from o***@example.com"),
    ("q=ouyang%40example.com&x=1", "q=o***%40example.com&x=1"),
    ("rcpt reply+AbC123xyz_-9@replies.localhost", "rcpt r***@replies.localhost"),
    ('"GET /u/AbC123xyz_-9 HTTP/1.1" 200', '"GET /u/[token] HTTP/1.1" 200'),
    ("http://bot.example.com/t/Zz_9-abcDEF1", "http://bot.example.com/t/[token]"),
    ("next=%2Fu%2FAbC123xyz_-9", "next=%2Fu%2F[token]"),
    ("https://t.me/outreach_bot?start=AbC123xyz_-9", "https://t.me/outreach_bot?start=[token]"),
    ("text /start AbC123xyz_-9", "text /start [token]"),
    ("POST https://api.telegram.org/bot123456789:AAH-peer-token_for-tests/sendMessage",
     "POST https://api.telegram.org/bot[token]/sendMessage"),
])
def test_personal_data_and_link_tokens_are_masked(raw: str, shown: str) -> None:
    assert redact(raw) == shown


@pytest.mark.parametrize("kept", [
    "2026-12-08 00:19:07,010 INFO outreach.run: web server on http://127.0.0.1:54239",
    "log mode: sms message o8qmX9GhFx4b to 139****1129 not sent (83 characters)",
    "customer C000123, bundle 42, message SM0123456789abcdef0123456789abcdef",
    "dispatch: {'sent': 2, 'unknown': 1} in 1250 ms",
    "due 2026-12-08T09:00:00+08:00",
    "127.0.0.1:46770 - \"POST /webhooks/twilio/status?m=xC5nqCkG3J2Q HTTP/1.1\" 200",
    "database postgresql+asyncpg://postgres@127.0.0.1:5432/outreach: cannot open it",
])
def test_ids_times_and_counts_stay_readable(kept: str) -> None:
    assert redact(kept) == kept


def _logger(name: str) -> tuple[logging.Logger, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger(name)
    logger.handlers[:] = [handler]
    logger.propagate = False
    return logger, out


def test_the_filter_masks_arguments_and_tracebacks() -> None:
    logger, out = _logger("test.logs.filter")
    logger.warning("reply to %s failed", "+85291234567")
    try:
        raise ValueError("550 <zhang.san@example.com>: recipient rejected")
    except ValueError:
        logger.exception("sending failed for %s", "/u/AbC123xyz_-9")
    logger.warning("a bad format %d", "+85291234567")  # the line stays, the argument does not
    text = out.getvalue()
    assert "reply to +852****4567 failed" in text
    assert "sending failed for /u/[token]" in text and "z***@example.com>" in text
    assert "ValueError" in text and "a bad format %d [arguments not shown" in text
    assert "91234567" not in text and "zhang.san" not in text and "AbC123" not in text


def test_frames_only_says_what_and_where_but_not_the_words() -> None:
    def read_time(text: str) -> int:
        return int(text)

    words = "欧阳女士明天下午三点"
    try:
        read_time(words)
    except ValueError as exc:
        shown = frames_only(exc)
    assert shown.startswith("ValueError\n") and "read_time" in shown and "欧阳" not in shown


def test_at_debug_our_loggers_speak_and_libraries_keep_quiet(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(load_settings(_env_file=None, log_level="DEBUG"))
    logging.getLogger("outreach.test").debug("our debug line for +85291234567")
    logging.getLogger("aiosqlite").debug("executing INSERT … ('欧阳晓燕', '+85291234567')")
    logging.getLogger("sqlalchemy.engine.Engine").debug("Row ('欧阳晓燕',)")
    logging.getLogger("httpx").info("HTTP Request: GET …?To=%2B85291234567")
    logging.getLogger("uvicorn.access").info('%s - "%s %s HTTP/%s" %d',
                                             "127.0.0.1:1", "GET", "/t/AbC123xyz_-9", "1.1", 302)
    logging.getLogger("some.library").debug("a library's debug line")
    err = capsys.readouterr().err
    assert "DEBUG outreach.test: our debug line for +852****4567" in err
    assert 'INFO uvicorn.access: 127.0.0.1:1 - "GET /t/[token] HTTP/1.1" 302' in err
    assert "欧阳晓燕" not in err and "To=" not in err and "library's debug" not in err


def test_json_lines_are_json_whatever_the_message_holds(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(load_settings(_env_file=None, log_format="json"))
    logging.getLogger("outreach.test").warning('a "quoted" line\nand a second for %s',
                                               "+85291234567")
    [line] = capsys.readouterr().err.splitlines()
    record = json.loads(line)
    assert record["level"] == "WARNING" and record["logger"] == "outreach.test"
    assert record["msg"] == 'a "quoted" line\nand a second for +852****4567'
