"""The channel interface: one outbound shape, one inbound shape, one error tree.

Every provider adapter (Twilio, SMTP, Telegram, log) speaks these types, so the
dispatcher and the reply pipeline never see a provider SDK or its exceptions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal, Protocol, runtime_checkable

Mode = Literal["live", "log"]


def utcnow() -> datetime:
    """Aware UTC now; the one clock the adapters read (tests can monkeypatch it)."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """One message to one address, already rendered; `message_id` is our own id.

    `message_id` travels to the provider (Twilio `StatusCallback ?m=`, the email
    Message-ID) so late reports can be tied back even before the provider id is stored.
    """

    message_id: str
    channel: str  # "sms" | "email" | "telegram"
    to: str  # E.164 phone, email address, or Telegram chat id
    body: str  # plain text (SMS, email text part, Telegram when `html` is None)
    subject: str | None = None  # email
    html: str | None = None  # email HTML part; Telegram HTML if given (else body is escaped)
    buttons: tuple[tuple[str, str], ...] = ()  # Telegram quick replies: (label, callback_data)
    reply_token: str | None = None  # email Reply-To reply+<token>@REPLY_DOMAIN
    bounce_token: str | None = None  # email envelope sender bounce+<token>@REPLY_DOMAIN
    list_unsubscribe_url: str | None = None  # email one-click unsubscribe (RFC 8058)


@dataclass(frozen=True, slots=True)
class SendResult:
    """What the provider accepted: its id, our status for the message, and when."""

    provider_id: str
    status: str  # "queued" | "sent" | "logged"
    sent_at: datetime
    segments: int | None = None  # SMS segments when the provider reports them


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A reply from any channel, with every thread hint the provider gave us."""

    channel: str
    provider_id: str  # Twilio MessageSid, email Message-ID, Telegram "<chat>:<message>"
    from_address: str
    to_address: str
    text: str  # reply text with quoted history removed (email)
    received_at: datetime  # aware UTC
    subject: str | None = None  # email
    reply_token: str | None = None  # email: token from reply+<token>@
    in_reply_to: str | None = None  # email In-Reply-To
    references: tuple[str, ...] = ()  # email References
    reply_to_provider_id: str | None = None  # Telegram "<chat>:<message>" replied to / pressed
    callback_data: str | None = None  # Telegram button data
    callback_query_id: str | None = None  # Telegram: answer it with answerCallbackQuery
    start_payload: str | None = None  # Telegram /start <payload> deep link
    provider_opt_out: str | None = None  # Twilio OptOutType (STOP/START/HELP already handled)
    raw: dict[str, Any] = field(default_factory=dict)


_PHONE_IN_TEXT = re.compile(r"\+?\d[\d ]{3,}(\d{4})")
_EMAIL_IN_TEXT = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+)")


def redact(text: str) -> str:
    """Mask phone numbers and email addresses inside provider messages.

    Providers echo the recipient in errors ("550 <zhang@…>: User unknown");
    our error messages end up in logs, which must never hold a full address.
    """
    text = _EMAIL_IN_TEXT.sub(r"\1***@\2", text)
    return _PHONE_IN_TEXT.sub(r"****\1", text)


class ChannelError(Exception):
    """Root of every error an adapter raises; callers decide by subclass.

    The message is redacted (addresses masked), so it is safe to log; the
    provider's raw exception stays available as `__cause__`.
    """

    def __init__(self, message: str, *, code: str | int | None = None) -> None:
        super().__init__(redact(message))
        self.code = code


class TransientDeliveryError(ChannelError):
    """Try again later (timeouts, connection errors, 5xx, 429).

    `outcome_unknown` is True when the request may have reached the provider (a
    read timeout, a dropped connection after sending): a blind retry could send
    twice, so at-most-once messages should be reconciled instead.
    """

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        code: str | int | None = None,
        outcome_unknown: bool = False,
    ) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after
        self.outcome_unknown = outcome_unknown


class PermanentDeliveryError(ChannelError):
    """This message will never go through this channel; `address_unusable` says
    whether the address itself is bad (mark it) or only this message was refused."""

    def __init__(
        self, message: str, *, code: str | int | None = None, address_unusable: bool = False
    ) -> None:
        super().__init__(message, code=code)
        self.address_unusable = address_unusable


class RecipientOptedOut(PermanentDeliveryError):
    """The provider refuses because the recipient opted out (Twilio 21610)."""

    def __init__(self, message: str, *, code: str | int | None = 21610) -> None:
        super().__init__(message, code=code, address_unusable=True)


class ConfigurationError(ChannelError):
    """Our side is wrong (credentials, sender, settings): no retry helps, the address is fine."""


@runtime_checkable
class Channel(Protocol):
    """What the dispatcher needs from a provider adapter."""

    channel: str  # "sms" | "email" | "telegram"
    name: str  # provider: "twilio" | "smtp" | "telegram" | "log"
    mode: Mode

    async def send(self, msg: OutboundMessage) -> SendResult: ...

    async def close(self) -> None: ...


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), else None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or utcnow())).total_seconds())


# --- Twilio delivery status -------------------------------------------------

# Codes that condemn the address, not just the message.
_TWILIO_ADDRESS_CODES = frozenset({21211, 21214, 21612, 21614, 30003, 30004, 30005, 30006})
# Codes that fail this message for good while the address stays usable.
_TWILIO_MESSAGE_CODES = frozenset({21602, 21617, 30007, 30019})
_TWILIO_OPT_OUT = 21610

_TWILIO_STATUS = {
    "accepted": "queued",
    "scheduled": "queued",
    "queued": "queued",
    "sending": "queued",  # Twilio is handing it to the carrier; our "sending" means pre-call
    "sent": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "undelivered": "undelivered",
    "failed": "failed",
    "canceled": "failed",
}


@dataclass(frozen=True, slots=True)
class DeliveryUpdate:
    """A provider's later word on a sent message, in our terms."""

    status: str  # queued | sent | delivered | undelivered | failed
    final: bool
    permanent_failure: bool  # go on to the customer's next channel
    address_unusable: bool
    opted_out: bool
    error_code: int | None


def status_from_twilio(message_status: str, error_code: str | int | None = None) -> DeliveryUpdate:
    """Map a Twilio status callback (MessageStatus, ErrorCode) to a DeliveryUpdate.

    30003/30005/30006 (unreachable, unknown, landline) and invalid-number codes
    make the address unusable; 30007 (carrier filtered) fails the message only;
    21610 is an opt-out. Other failure codes are final but not tied to the
    recipient, so the dispatcher may retry or escalate as it sees fit.
    """
    key = message_status.strip().lower()
    if key not in _TWILIO_STATUS:
        raise ValueError(f"unknown Twilio MessageStatus {message_status!r}")
    status = _TWILIO_STATUS[key]
    code = int(error_code) if error_code not in (None, "") else None
    failed = status in ("undelivered", "failed")
    opted_out = failed and code == _TWILIO_OPT_OUT
    unusable = failed and (opted_out or code in _TWILIO_ADDRESS_CODES)
    permanent = unusable or (failed and code in _TWILIO_MESSAGE_CODES)
    return DeliveryUpdate(
        status=status,
        final=status in ("delivered", "undelivered", "failed"),
        permanent_failure=permanent,
        address_unusable=unusable,
        opted_out=opted_out,
        error_code=code,
    )
