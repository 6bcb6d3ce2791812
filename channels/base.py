"""The channel interface: the shapes, one error tree and small capability protocols.

Every provider adapter (Twilio, SMTP, Telegram, log) speaks these types, so the
dispatcher and the reply pipeline never see a provider SDK or its exceptions. Every
adapter sends (`Channel`); what only some can do is a protocol of its own, checked with
`isinstance` against the protocol: list what was sent (`ListsSent`, for reconciling),
answer a button press (`AnswersButtons`), receive updates (`ReceivesUpdates`), say whether
the provider answers from here (`ChecksReach`). This package never imports `bot`.
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
    buttons: tuple[tuple[str, str], ...] = ()  # Telegram quick replies: (label, data)
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
    button_data: str | None = None  # Telegram: the pressed button's data
    button_query_id: str | None = None  # Telegram's callback query id: answer it (spinner)
    start_payload: str | None = None  # Telegram /start <payload> deep link
    provider_opt_out: str | None = None  # Twilio OptOutType (STOP/START/HELP already handled)
    provider_answered: bool = False  # the provider's own keyword handling answered it already
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


@dataclass(frozen=True, slots=True)
class DeliveryUpdate:
    """A provider's later word on a sent message, in our terms."""

    status: str  # queued | sent | delivered | undelivered | failed
    final: bool
    permanent_failure: bool  # go on to the customer's next channel
    address_unusable: bool
    opted_out: bool
    error_code: int | None


@dataclass(frozen=True, slots=True)
class SentRecord:
    """A message as the provider's own list shows it, to settle a send we lost track of."""

    provider_id: str
    to: str
    body: str
    created_at: datetime
    update: DeliveryUpdate | None  # its status in our terms; None when the provider's is odd


# --- capabilities some adapters have ------------------------------------------------------


@runtime_checkable
class ListsSent(Protocol):
    """The provider can list what it received (Twilio), so an interrupted send is settled."""

    async def list_sent(self, to: str, since: datetime) -> list[SentRecord]: ...


@runtime_checkable
class AnswersButtons(Protocol):
    """Chat buttons whose press must be answered (Telegram's spinner)."""

    async def answer_button(self, query_id: str, text: str | None = None) -> None: ...


@runtime_checkable
class ReceivesUpdates(Protocol):
    """A chat provider that calls our webhook, or is polled for updates."""

    async def set_webhook(self, url: str, secret: str) -> None: ...

    async def drop_webhook(self) -> None: ...

    async def get_updates(self, offset: int | None = None,
                          timeout: int = 25) -> list[dict[str, Any]]: ...


@runtime_checkable
class ChecksReach(Protocol):
    """Says whether the provider answers from this machine (`outreach check`)."""

    async def reachable(self) -> str: ...
