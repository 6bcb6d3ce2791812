"""Tables for what comes from and goes to the outside in bulk: staff alerts and the inbox of
provider requests. Imported by `bot.db.models`, where every table can be found."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.db.clock import utcnow


class Alert(SQLModel, table=True):
    """A staff alert (P0): to the branch manager, channel after channel, and head office.

    `status`: sending → delivered (the manager has it) or undeliverable (no channel of the
    manager's took it: a console banner until someone acknowledges it)."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=24)  # not_me
    customer_id: str | None = Field(default=None, foreign_key="customer.id")
    branch_code: str = Field(foreign_key="branch.code", index=True)
    subject: str
    body: str
    targets: str  # JSON [[channel, address], …]: the manager's, in the order they are tried
    status: str = Field(default="sending", max_length=16, index=True)
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class InboxItem(SQLModel, table=True):
    """A provider request stored as it arrives, before anything else (a reply storm is
    answered at the speed of one INSERT); worked through in arrival order afterwards."""

    __tablename__ = "inbox"
    __table_args__ = (UniqueConstraint("route", "provider_id"),)

    id: int | None = Field(default=None, primary_key=True)
    route: str = Field(max_length=24)  # twilio_sms
    provider_id: str = Field(max_length=64)
    form: str  # the verified request, JSON
    received_at: datetime
    status: str = Field(default="new", max_length=8, index=True)  # new | done | failed
    created_at: datetime = Field(default_factory=utcnow)
