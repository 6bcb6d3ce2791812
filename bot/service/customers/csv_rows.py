"""One customer CSV line → checked values, with `line N, column C: reason` errors."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from bot.domain.masking import mask_phone
from bot.domain.text import unstorable
from bot.service.customers.errors import CustomerError

REQUIRED = ("customer_id", "name", "branch")
OPTIONAL = (
    "phone",
    "email",
    "telegram_chat_id",
    "birthday",
    "opened_on",
    "last_trade_on",
    "tier",
    "sales_rep",
    "locale",
    "channels",
    "salutation",
    "marketing_consent",
    "consent_at",
    "status",
)
COLUMNS = REQUIRED + OPTIONAL
TIERS = ("diamond", "gold", "standard")
LOCALES = ("zh-CN", "en")
CHANNELS = ("sms", "email", "telegram")
SALUTATIONS = ("先生", "女士")
STATUSES = ("active", "closed", "deceased", "frozen")
CONSENT = {"yes": True, "no": False}

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_ID = re.compile(r"^\S{1,64}$")
_CHAT_ID = re.compile(r"^-?\d{1,20}$")
# Look-alikes of the middle dot in names (阿依古丽·买买提江) that Excel users type. An ASCII "."
# is not translated here (it also abbreviates Latin names); message_templates.honorific counts
# it as the middle dot between two Chinese characters.
_DOT_LOOKALIKES = str.maketrans(
    {"•": "·", "・": "·", "‧": "·", "･": "·", "∙": "·", "．": "·", "﹒": "·", "ꞏ": "·"}
)


class Cell(Enum):
    """An empty cell keeps the stored value; `-` clears it."""

    KEEP = "keep"
    CLEAR = "clear"


class RowError(CustomerError):
    """A bad cell; the whole line is skipped."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(f"column {column}: {reason}")
        self.column = column
        self.reason = reason


@dataclass
class CheckedRow:
    """A line's values: each optional field is a value, Cell.KEEP or Cell.CLEAR."""

    customer_id: str
    name: str
    branch: str
    values: dict[str, Any]


def _date(column: str, raw: str, today: date) -> date:
    if not _DATE.match(raw):
        raise RowError(column, f"date must be YYYY-MM-DD, got {raw!r}")
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        raise RowError(column, f"no such date {raw!r}") from None
    if value > today:
        raise RowError(column, f"{raw} is in the future")
    if value.year < 1900:
        raise RowError(column, f"{raw} is before 1900")
    return value


def _masked(raw: str) -> str:
    """An import error names the line and column; the value itself is personal data
    (the report may be saved or mailed), so only its masked form is shown."""
    return f"{len(raw)} characters, {mask_phone(raw) or 'no digits'}"


def _phone(raw: str) -> str:
    try:
        number = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException:
        raise RowError("phone", f"not a phone number ({_masked(raw)})") from None
    if not phonenumbers.is_valid_number(number):
        raise RowError("phone", f"not a valid phone number ({_masked(raw)})")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _email(raw: str) -> str:
    try:
        return validate_email(raw, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise RowError("email", f"not a valid email address: {exc}") from None


def _choice(column: str, raw: str, allowed: tuple[str, ...]) -> str:
    if raw not in allowed:
        raise RowError(column, f"{raw!r} is not one of {'|'.join(allowed)}")
    return raw


def _channels(raw: str) -> str:
    parts = [p.strip() for p in raw.split("|")]
    for part in parts:
        _choice("channels", part, CHANNELS)
    if len(set(parts)) != len(parts):
        raise RowError("channels", f"a channel is listed twice in {raw!r}")
    return "|".join(parts)


def _name(raw: str) -> str:
    name = " ".join(raw.translate(_DOT_LOOKALIKES).split())
    if len(name) > 64:
        raise RowError("name", "longer than 64 characters")
    bad = next((c for c in name if c.isdigit() or not c.isprintable() or c in "<>@"), None)
    if bad is not None:
        raise RowError("name", f"unexpected character {bad!r} in the name")
    return name


def _optional(column: str, raw: str, today: date) -> Any:
    if column == "phone":
        return _phone(raw)
    if column == "email":
        return _email(raw)
    if column == "telegram_chat_id":
        if not _CHAT_ID.match(raw):
            raise RowError(column, f"a Telegram chat id is a number, got {raw!r}")
        return raw
    if column in ("birthday", "opened_on", "last_trade_on", "consent_at"):
        return _date(column, raw, today)
    if column == "tier":
        return _choice(column, raw, TIERS)
    if column == "locale":
        return _choice(column, raw, LOCALES)
    if column == "channels":
        return _channels(raw)
    if column == "salutation":
        return _choice(column, raw, SALUTATIONS)
    if column == "marketing_consent":
        return CONSENT[_choice(column, raw.lower(), tuple(CONSENT))]
    if column == "status":
        return _choice(column, raw, STATUSES)
    if column == "sales_rep":
        if not _ID.match(raw):
            raise RowError(column, f"a staff username has no spaces, got {raw!r}")
        return raw
    raise AssertionError(column)


def check_row(row: dict[str, str], today: date) -> CheckedRow:
    """Check one CSV record (header name → raw text); raise RowError on the first bad cell."""
    for column in COLUMNS:
        # A NUL (or a lone surrogate) can be in a file but not in the database: PostgreSQL
        # would fail the whole batch, and SQLite would keep it in an id no one can type.
        problem = unstorable(row.get(column) or "")
        if problem:
            raise RowError(column, f"contains {problem}")
    required = {}
    for column in REQUIRED:
        raw = (row.get(column) or "").strip()
        if not raw or raw == "-":
            raise RowError(column, "required")
        required[column] = raw
    if not _ID.match(required["customer_id"]):
        raise RowError("customer_id", "1-64 characters without spaces")
    if not _CODE.match(required["branch"]):
        raise RowError("branch", "a branch code is 1-32 letters, digits, - or _")
    values: dict[str, Any] = {}
    for column in OPTIONAL:
        if column not in row:
            continue
        raw = (row[column] or "").strip()
        if raw == "":
            values[column] = Cell.KEEP
        elif raw == "-" and column == "status":
            # Clearing would mean the default, `active`: a recorded death or closure must
            # never be undone by a dash.
            raise RowError(column, f"cannot be cleared with '-'; write one of {', '.join(STATUSES)}")
        elif raw == "-":
            values[column] = Cell.CLEAR
        else:
            values[column] = _optional(column, raw, today)
    return CheckedRow(required["customer_id"], _name(required["name"]), required["branch"], values)
