"""Tables. Datetimes are aware UTC (SQLModel's UTCDateTime), dates are local calendar dates."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy import Index, UniqueConstraint
from sqlalchemy import text as sa_text
from sqlmodel import Field, SQLModel

from bot.db.clock import utcnow
from bot.db.models_outside import Alert, InboxItem  # noqa: F401 (every table is here)


class Branch(SQLModel, table=True):
    """A 营业部: its own signature, windows, consent default and manager contacts."""

    code: str = Field(primary_key=True, max_length=32)
    name: str
    sms_signature: str | None = None
    service_phone: str | None = None
    timezone: str = "Asia/Shanghai"
    send_window: str = "09:00-20:00"
    working_hours: str = "09:00-17:30"
    assume_consent: bool | None = None  # None: follow OUTREACH_ASSUME_CONSENT
    recording_ref_required: bool = True
    manager_email: str | None = None
    manager_phone: str | None = None
    festival_offset_working_days: int = 0
    festivals_json: str | None = None  # branch festival switches and custom festivals
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Staff(SQLModel, table=True):
    """A person (or the token-only `system` user) working with the product."""

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, max_length=64)
    role: str = Field(max_length=16)
    branch_code: str | None = Field(default=None, foreign_key="branch.code")
    is_sales: bool = False
    password_hash: str | None = None
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    deactivated_at: datetime | None = None
    # Console sign-in (bot.service.admin.logins): the TOTP secret once enrolled; failures in a
    # row and the last one (they decide the delay before the next attempt); the lock-out
    # (LOGIN_LOCKOUT_ATTEMPTS); sessions issued before `sessions_valid_after` are void.
    totp_secret: str | None = Field(default=None, max_length=64)
    # The 30-second TOTP step of the last code accepted: a code is good once (no replay).
    totp_last_step: int | None = None
    failed_logins: int = 0
    last_failed_login_at: datetime | None = None
    locked_at: datetime | None = None
    sessions_valid_after: datetime | None = None


class LoginFailure(SQLModel, table=True):
    """Failed console logins per client address, shared by every process (growing delay)."""

    ip: str = Field(primary_key=True, max_length=64)
    failures: int = 0
    last_at: datetime = Field(default_factory=utcnow)


class ApiToken(SQLModel, table=True):
    """A bearer token: only its SHA-256 is kept; the id names it for revocation."""

    id: str = Field(primary_key=True, max_length=16)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    token_hash: str = Field(unique=True, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None


class Customer(SQLModel, table=True):
    """A brokerage customer; contact data lives here, address health in AddressStatus."""

    __table_args__ = (
        Index("ix_customer_phone", "phone"),
        Index("ix_customer_email", "email"),
        Index("ix_customer_telegram", "telegram_chat_id"),
        Index("ix_customer_branch", "branch_code"),
    )

    id: str = Field(primary_key=True, max_length=64)
    name: str
    branch_code: str = Field(foreign_key="branch.code")
    phone: str | None = None
    email: str | None = None
    telegram_chat_id: str | None = None
    telegram_bound: bool = False  # learned by the bot: an import never overwrites it
    birthday: date | None = None
    opened_on: date | None = None
    last_trade_on: date | None = None
    tier: str = "standard"
    sales_rep: str | None = None
    locale: str = "zh-CN"
    channels: str | None = None  # preference order, e.g. "sms|email|telegram"
    salutation: str | None = None
    marketing_consent: bool | None = None  # None: follow the branch default
    consent_at: datetime | None = None
    opted_out_at: datetime | None = None  # learned: an import never clears it
    status: str = "active"
    import_run: str | None = Field(default=None, max_length=32)
    import_line: int | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class AddressStatus(SQLModel, table=True):
    """What the bot learned about an address: unusable (bounce, 21610, blocked bot) or wrong."""

    channel: str = Field(primary_key=True, max_length=16)
    address: str = Field(primary_key=True, max_length=320)
    status: str = Field(max_length=16)  # unusable | wrong_person
    reason: str | None = None
    changed_at: datetime = Field(default_factory=utcnow)


class ConsentChange(SQLModel, table=True):
    """Every change of marketing consent, with where it came from."""

    id: int | None = Field(default=None, primary_key=True)
    customer_id: str = Field(foreign_key="customer.id", index=True)
    marketing: bool
    source: str = Field(max_length=16)  # import | reply | unsubscribe | staff
    channel: str | None = None
    at: datetime = Field(default_factory=utcnow)


class Bundle(SQLModel, table=True):
    """The one proactive message a customer gets on a local day."""

    __table_args__ = (
        UniqueConstraint("customer_id", "local_date"),
        Index("ix_bundle_day", "local_date", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: str = Field(foreign_key="customer.id")
    local_date: date
    status: str = Field(default="planned", max_length=16, index=True)
    reason: str | None = None
    due_at: datetime
    expects_reply: bool = False
    reply_deadline: datetime | None = None
    marketing: bool = False
    attempts: int = 0
    next_attempt_at: datetime | None = None
    claimed_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Touch(SQLModel, table=True):
    """One planned touch; the dedupe key makes it exactly-once per customer."""

    __table_args__ = (
        UniqueConstraint("customer_id", "dedupe_key"),
        Index("ix_touch_due_on", "due_on", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: str = Field(foreign_key="customer.id")
    kind: str = Field(max_length=24)
    dedupe_key: str = Field(max_length=64)
    status: str = Field(default="planned", max_length=16, index=True)
    reason: str | None = None
    due_on: date
    due_at: datetime | None = None
    reply_deadline: datetime | None = None
    sla_due_at: datetime | None = None
    festival: str | None = None
    bundle_id: int | None = Field(default=None, foreign_key="bundle.id", index=True)
    callback_id: int | None = Field(default=None, foreign_key="callback.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Message(SQLModel, table=True):
    """One message sent or received; channel, address, body and provider id never change."""

    __table_args__ = (
        Index("ix_message_provider", "channel", "provider_id"),
        Index("ix_message_customer", "customer_id", "created_at"),
    )

    id: str = Field(primary_key=True, max_length=24)
    direction: str = Field(max_length=3)  # out | in
    customer_id: str | None = Field(default=None, foreign_key="customer.id")
    bundle_id: int | None = Field(default=None, foreign_key="bundle.id", index=True)
    channel: str = Field(max_length=16)
    address: str
    subject: str | None = None
    body: str
    provider_id: str | None = None
    status: str = Field(max_length=16)
    error_code: str | None = None
    segments: int | None = None
    attempts: int = 0
    next_attempt_at: datetime | None = None
    in_reply_to: str | None = None  # inbound: the provider/thread reference it answers
    raw: str | None = None  # inbound: the provider payload (JSON), kept for the record
    answers_message_id: str | None = Field(default=None, max_length=24)  # inbound → our outbound
    intent: str | None = Field(default=None, max_length=24)  # inbound: classifier's answer
    confidence: float | None = None
    needs_review: bool = False  # inbound: unsure answer to a greeting (no SLA)
    # Outbound outside the plan (the outbox): "reply" (a conversation answer) or "alert" (to
    # staff). Stored before it is sent, sent by whichever process gets to it first.
    purpose: str | None = Field(default=None, max_length=8)
    alert_id: int | None = Field(default=None, foreign_key="alert.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Callback(SQLModel, table=True):
    """A human callback: one open per customer; reasons join it."""

    # The queue reads open callbacks of a branch, most urgent first (priority text sorts
    # P0..P3): this partial index hands them over in order, so a page needs no sort.
    __table_args__ = (
        Index("ix_callback_queue", "branch_code", "priority", "sla_due_at", "id",
              postgresql_where=sa_text("status IN ('open', 'claimed')"),
              sqlite_where=sa_text("status IN ('open', 'claimed')")),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: str = Field(foreign_key="customer.id", index=True)
    branch_code: str = Field(foreign_key="branch.code", index=True)
    priority: str = Field(max_length=2)
    reasons: str  # JSON list
    sla_due_at: datetime
    due_at: datetime | None = None
    status: str = Field(default="open", max_length=16, index=True)
    assignee_id: int | None = Field(default=None, foreign_key="staff.id")
    claimed_at: datetime | None = None
    touched_at: datetime | None = None  # last outcome, note or "still working" by the holder
    attempts: int = 0  # no_answer attempts
    compliance_flag: bool = False
    outcome: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = None


class Template(SQLModel, table=True):
    """A version of a branch's template for (kind, channel, locale); defaults live in files."""

    __table_args__ = (UniqueConstraint("branch_code", "kind", "channel", "locale", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    branch_code: str = Field(foreign_key="branch.code")
    kind: str = Field(max_length=24)
    channel: str = Field(max_length=16)
    locale: str = Field(max_length=8)
    version: int
    source: str
    status: str = Field(default="draft", max_length=16)  # draft | active | rejected | retired
    author_id: int = Field(foreign_key="staff.id")
    decided_by: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = None


class Event(SQLModel, table=True):
    """Append-only record of everything that happens (triggers refuse UPDATE and DELETE)."""

    __table_args__ = (Index("ix_event_customer", "customer_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    type: str = Field(max_length=48)
    customer_id: str | None = None
    branch_code: str | None = None
    actor: str = Field(default="system", max_length=64)
    channel: str | None = None
    summary: str
    payload: str | None = None  # JSON


class PlanRun(SQLModel, table=True):
    """A planned day: missed days are caught up from this record, not from the scheduler."""

    day: date = Field(primary_key=True)
    planned_at: datetime = Field(default_factory=utcnow)
    first_run: bool = False


class CalendarDay(SQLModel, table=True):
    """The operator's official working-day table (State Council notice), imported from CSV."""

    day: date = Field(primary_key=True)
    working: bool
    imported_at: datetime = Field(default_factory=utcnow)


class LinkToken(SQLModel, table=True):
    """Random ids (>= 70 bits, 12 characters) behind reply, bounce, unsubscribe and Telegram links."""

    id: str = Field(primary_key=True, max_length=16)
    purpose: str = Field(max_length=16)  # reply | bounce | unsubscribe | telegram
    customer_id: str = Field(foreign_key="customer.id", index=True)
    message_id: str | None = Field(default=None, max_length=24, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime | None = None
    used_at: datetime | None = None


class ChannelState(SQLModel, table=True):
    """Circuit breaker per channel, shared by every process."""

    channel: str = Field(primary_key=True, max_length=16)
    state: str = Field(default="ok", max_length=16)  # ok | degraded
    failures: int = 0
    next_probe_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class PauseFlag(SQLModel, table=True):
    """`outreach pause`: every process checks these before claiming and before sending."""

    scope: str = Field(primary_key=True, max_length=64)  # all | branch:<code> | channel:<c> | both
    branch_code: str | None = None
    channel: str | None = None
    actor: str = "cli"
    created_at: datetime = Field(default_factory=utcnow)


class RateSlot(SQLModel, table=True):
    """Per-sender send schedule: each send reserves the next free slot (shared rate limit)."""

    sender: str = Field(primary_key=True, max_length=32)
    next_at: datetime = Field(default_factory=utcnow)


class EarlyStatus(SQLModel, table=True):
    """A provider status that arrived before the send was recorded; applied once it is."""

    channel: str = Field(primary_key=True, max_length=16)
    provider_id: str = Field(primary_key=True, max_length=64)
    status: str = Field(max_length=16)
    error_code: str | None = None
    # What the provider's adapter read into the report (the service knows no provider codes).
    permanent_failure: bool = False
    address_unusable: bool = False
    message_id: str | None = None
    received_at: datetime = Field(default_factory=utcnow)


class CallbackAttempt(SQLModel, table=True):
    """One call made for a callback: the record compliance reviews (留痕)."""

    id: int | None = Field(default=None, primary_key=True)
    callback_id: int = Field(foreign_key="callback.id", index=True)
    staff_id: int = Field(foreign_key="staff.id")
    outcome: str = Field(max_length=24)
    dialled: str | None = None
    recording_ref: str | None = None
    identity: str = Field(default="not_verified", max_length=24)
    notes: str | None = None
    follow_up_at: datetime | None = None
    at: datetime = Field(default_factory=utcnow)
    method: str = Field(default="phone", max_length=8)  # phone | sms | email | visit
    answers: str | None = None  # JSON: new-account compliance point → yes/no


def table(model: type[SQLModel]) -> sa.Table:
    """The Core table behind a model, for set-based statements (UPDATE … WHERE, INSERT … SELECT)."""
    found: sa.Table = model.__table__  # type: ignore[attr-defined]
    return found
