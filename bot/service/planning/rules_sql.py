"""The planning rules as SQL: one INSERT … SELECT per rule and branch group.

Mirrors bot.domain.rules.gate (status and consent), the cap and the channel check,
so a customer's touch is decided the same way for one customer or a million.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement
from sqlmodel.sql.sqltypes import UTCDateTime

from bot.db.models import AddressStatus, Branch, Customer, Touch, table
from bot.domain.kinds import (
    ACTIVE_ONLY_KINDS,
    CAP_COUNTED_KINDS,
    DISCRETIONARY_KINDS,
    GREETING_KINDS,
    MARKETING_KINDS,
)
from bot.domain.rules import quarter_start

C = table(Customer)
B = table(Branch)
T = table(Touch)
A = table(AddressStatus)

TOUCH_COLUMNS = ["customer_id", "kind", "dedupe_key", "status", "reason", "due_on", "due_at",
                 "reply_deadline", "sla_due_at", "festival", "created_at", "updated_at"]
# A touch "reached the customer or a person" once it went out or went to a human.
REACHED = ("sent", "delivered", "answered", "unanswered", "escalated")
CHANNEL_COLUMNS = (("sms", C.c.phone), ("email", C.c.email), ("telegram", C.c.telegram_chat_id))


def has_channel() -> ColumnElement[bool]:
    """The customer has an address on a channel they accept that is not known unusable."""
    parts = []
    for channel, column in CHANNEL_COLUMNS:
        accepted = sa.or_(C.c.channels.is_(None), C.c.channels.like(f"%{channel}%"))
        blocked = sa.exists().where(A.c.channel == channel, A.c.address == column)
        parts.append(sa.and_(accepted, column.is_not(None), sa.not_(blocked)))
    return sa.or_(*parts)


def capped(day: date, cap: int) -> ColumnElement[bool]:
    """At least `cap` counted touches already reached this customer this quarter."""
    earlier = T.alias("earlier")
    counted = (
        sa.select(sa.func.count())
        .where(
            earlier.c.customer_id == C.c.id,
            earlier.c.kind.in_(sorted(CAP_COUNTED_KINDS)),
            earlier.c.due_on >= quarter_start(day),
            earlier.c.due_on <= day,
            earlier.c.status.in_(REACHED),
        )
        .scalar_subquery()
    )
    return counted >= cap


def status_and_reason(kind: str, *, day: date, past: bool, assume_consent: bool,
                      cap: int) -> tuple[ColumnElement[str], ColumnElement[str]]:
    """CASE expressions for the touch's status and reason, in the order of `gate`."""
    rules: list[tuple[ColumnElement[bool], str, Any]] = []
    inactive = C.c.status == "deceased"
    if kind in ACTIVE_ONLY_KINDS:
        inactive = sa.or_(inactive, C.c.status != "active")
    rules.append((inactive, "suppressed", sa.literal("status_") + C.c.status))
    if kind in MARKETING_KINDS:
        rules.append((C.c.opted_out_at.is_not(None), "suppressed", "opted_out"))
        consent = sa.func.coalesce(C.c.marketing_consent, B.c.assume_consent,
                                   sa.literal(assume_consent))
        rules.append((sa.not_(consent), "suppressed", "no_consent"))
    elif kind == "new_account":
        rules.append((C.c.opted_out_at.is_not(None), "escalated", "opted_out"))
    rules.append((sa.not_(has_channel()), "no_channel", "no_channel"))
    if kind in DISCRETIONARY_KINDS:
        rules.append((capped(day, cap), "capped", "cap"))
    final = ("expired", "missed_day") if past and kind in GREETING_KINDS else ("planned", None)
    status = sa.case(*((w, sa.literal(s)) for w, s, _ in rules), else_=sa.literal(final[0]))
    reason = sa.case(
        *((w, r if isinstance(r, ColumnElement) else sa.literal(r)) for w, _, r in rules),
        else_=sa.literal(final[1], sa.String) if final[1] else sa.null(),
    )
    return status, reason


def touch_select(
    *,
    kind: str,
    codes: tuple[str, ...],
    where: list[ColumnElement[bool]],
    dedupe_key: Any,
    due_on: date,
    due_at: datetime,
    reply_deadline: Any,
    sla_due_at: Any,
    status: tuple[ColumnElement[str], ColumnElement[str]],
    now: datetime,
    festival: str | None = None,
) -> sa.Select[Any]:
    """SELECT rows shaped for the touch table, one per candidate customer."""
    stamp = sa.literal(now, UTCDateTime())
    return (
        sa.select(
            C.c.id,
            sa.literal(kind),
            dedupe_key if isinstance(dedupe_key, ColumnElement) else sa.literal(dedupe_key),
            status[0],
            status[1],
            sa.literal(due_on, sa.Date()),
            sa.literal(due_at, UTCDateTime()),
            reply_deadline,
            sla_due_at,
            sa.literal(festival, sa.String) if festival else sa.null(),
            stamp,
            stamp,
        )
        .select_from(C.join(B, B.c.code == C.c.branch_code))
        .where(C.c.branch_code.in_(codes), *where)
    )
