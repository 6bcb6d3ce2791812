"""Twilio SMS: send over one shared httpx client, verify and parse webhooks.

Sending goes straight to the Messages API with httpx (the SDK has no base-URL
option and its async client needs its own aiohttp session); the SDK is used
only for what it does best: `RequestValidator` and TwiML.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from channels.base import (
    ChannelError,
    ConfigurationError,
    DeliveryUpdate,
    InboundMessage,
    Mode,
    OutboundMessage,
    PermanentDeliveryError,
    RecipientOptedOut,
    SendResult,
    SentRecord,
    TransientDeliveryError,
    parse_retry_after,
    utcnow,
)

logger = logging.getLogger(__name__)
_SID = re.compile(r"[A-Za-z0-9]{2,64}")

TWIML_CONTENT_TYPE = "text/xml"
STATUS_REPORT_PATH = "/webhooks/twilio/status"

# Request errors that condemn the address.
_ADDRESS_CODES = frozenset({21211, 21214, 21612, 21614})
# Request errors that are our own setup (credentials, sender, messaging service).
_CONFIG_CODES = frozenset({20003, 20404, 21212, 21606, 21659, 21703, 21704})
# Our account may not send to this destination's region (geo permissions): this number
# cannot be reached by our SMS, so the customer's next channel is tried; the number is fine.
_REGION_NOT_ENABLED = 21408


@dataclass(frozen=True, slots=True)
class TwilioConfig:
    """Credentials and URLs; exactly one of `from_number` or `messaging_service_sid`."""

    account_sid: str
    auth_token: str
    public_url: str  # our base URL as Twilio calls it (signed)
    from_number: str | None = None
    messaging_service_sid: str | None = None
    api_base: str = "https://api.twilio.com"

    def __post_init__(self) -> None:
        if not self.account_sid or not self.auth_token:
            raise ConfigurationError("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are both required")
        if bool(self.from_number) == bool(self.messaging_service_sid):
            raise ConfigurationError(
                "set exactly one of TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID"
            )


@dataclass(frozen=True, slots=True)
class TwilioMessage:
    """A Message resource as listed by Twilio, for reconciling interrupted sends."""

    sid: str
    to: str
    from_: str | None
    body: str
    status: str
    date_created: datetime
    date_sent: datetime | None
    error_code: int | None
    raw: dict[str, Any] = field(default_factory=dict)


def status_report_url(public_url: str, message_id: str) -> str:
    """The exact URL Twilio will call (and sign) for this message's status (its StatusCallback)."""
    return f"{public_url.rstrip('/')}{STATUS_REPORT_PATH}?m={quote(message_id, safe='')}"


class TwilioSmsChannel:
    """SMS through Twilio's Messages API; `client` is shared and owned by the caller."""

    channel = "sms"
    name = "twilio"
    mode: Mode = "live"

    def __init__(self, config: TwilioConfig, client: httpx.AsyncClient) -> None:
        self.config = config
        self._client = client
        self._auth = httpx.BasicAuth(config.account_sid, config.auth_token)
        self._url = (
            f"{config.api_base.rstrip('/')}/2010-04-01/Accounts/"
            f"{quote(config.account_sid, safe='')}/Messages.json"
        )

    async def send(self, msg: OutboundMessage) -> SendResult:
        """POST one message; map every failure onto the typed error tree."""
        form = {"To": msg.to, "Body": msg.body}
        if self.config.messaging_service_sid:
            form["MessagingServiceSid"] = self.config.messaging_service_sid
        else:
            form["From"] = self.config.from_number or ""
        form["StatusCallback"] = status_report_url(self.config.public_url, msg.message_id)
        response = await self._request("POST", self._url, data=form)
        if response.status_code not in (200, 201):
            raise _error_from_response(response)
        try:
            data = response.json()
            sid = str(data["sid"])
        except (ValueError, KeyError, TypeError) as exc:
            raise TransientDeliveryError(
                f"Twilio answered {response.status_code} without a message sid",
                outcome_unknown=True,
            ) from exc
        return SendResult(
            provider_id=sid,
            status=_send_status(data.get("status")),
            sent_at=utcnow(),
            segments=_int_or_none(data.get("num_segments")),
        )

    async def list_messages(
        self,
        to: str,
        date_sent_after: datetime | None = None,
        *,
        page_size: int = 50,
        max_pages: int = 5,
    ) -> list[TwilioMessage]:
        """Messages to `to` sent since `date_sent_after`, newest first (Twilio's order).

        Twilio leaves DateSent empty while a message is still queued, so a
        reconciler that finds nothing may pass None to list by `To` alone.
        """
        query = {"To": to, "PageSize": str(page_size)}
        if date_sent_after is not None:
            query["DateSent>"] = date_sent_after.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        params: dict[str, str] | None = query
        base = self.config.api_base.rstrip("/")
        url: str | None = self._url
        found: list[TwilioMessage] = []
        for _ in range(max_pages):
            if url is None:
                break
            response = await self._request("GET", url, params=params)
            if response.status_code != 200:
                raise _error_from_response(response)
            page = response.json()
            found.extend(_message_from_json(item) for item in page.get("messages", []))
            next_uri = page.get("next_page_uri")
            # next_page_uri already carries the filters.
            url, params = (f"{base}{next_uri}", None) if next_uri else (None, None)
        return found

    async def list_sent(self, to: str, since: datetime) -> list[SentRecord]:
        """What Twilio holds for `to` since `since`, for reconciling (ListsSent)."""
        return [SentRecord(provider_id=m.sid, to=m.to, body=m.body, created_at=m.date_created,
                           update=_update_or_none(m.status, m.error_code))
                for m in await self.list_messages(to, since)]

    async def reachable(self) -> str:
        """Whether Twilio's API answers from here (ChecksReach); no credentials are spent."""
        try:
            response = await self._client.get(f"{self.config.api_base.rstrip('/')}/2010-04-01",
                                              timeout=5.0)
        except httpx.HTTPError as exc:
            return f"NOT reachable ({exc.__class__.__name__})"
        return f"reachable (HTTP {response.status_code})"

    async def close(self) -> None:
        """The shared client belongs to the composition root; nothing to close here."""

    async def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self._client.request(method, url, auth=self._auth, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise TransientDeliveryError(f"Twilio unreachable: {exc!r}") from exc
        except httpx.TransportError as exc:
            # The request may have reached Twilio before the connection failed.
            raise TransientDeliveryError(
                f"Twilio request interrupted: {exc!r}", outcome_unknown=True
            ) from exc


def _error_from_response(response: httpx.Response) -> ChannelError:
    """Twilio's JSON error `{"code", "message", "status"}` → our error type."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = {}
    code = _int_or_none(body.get("code")) if isinstance(body, dict) else None
    text = str((body.get("message") if isinstance(body, dict) else None) or response.reason_phrase)
    message = f"Twilio {status} ({code}): {text}"
    if status == 429 or status >= 500:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return TransientDeliveryError(message, retry_after=retry_after, code=code or status)
    if code == 21610:
        return RecipientOptedOut(message)
    if code == _REGION_NOT_ENABLED:
        return PermanentDeliveryError(message, code=code, address_unusable=False)
    if status in (401, 403) or code in _CONFIG_CODES:
        return ConfigurationError(message, code=code or status)
    return PermanentDeliveryError(
        message, code=code or status, address_unusable=code in _ADDRESS_CODES
    )


def _send_status(value: object) -> str:
    """Twilio's initial status (accepted, queued, …) in our words; queued if odd."""
    try:
        return status_from_twilio(str(value or "queued")).status
    except ValueError:
        return "queued"


def _update_or_none(status: str, error_code: int | None) -> DeliveryUpdate | None:
    try:
        return status_from_twilio(status, error_code)
    except ValueError:
        return None


def _int_or_none(value: object) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(str(value))
    except ValueError:
        return None


def _rfc2822(value: object) -> datetime | None:
    if not value:
        return None
    parsed = parsedate_to_datetime(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _message_from_json(item: dict[str, Any]) -> TwilioMessage:
    created = _rfc2822(item.get("date_created"))
    if created is None:
        raise ChannelError(f"Twilio message {item.get('sid')} has no date_created")
    return TwilioMessage(
        sid=str(item["sid"]),
        to=str(item.get("to") or ""),
        from_=item.get("from"),
        body=str(item.get("body") or ""),
        status=str(item.get("status") or ""),
        date_created=created,
        date_sent=_rfc2822(item.get("date_sent")),
        error_code=_int_or_none(item.get("error_code")),
        raw=item,
    )


# --- webhooks ---------------------------------------------------------------


def verify_twilio_signature(
    auth_token: str, url: str, params: Mapping[str, Any], signature: str | None
) -> bool:
    """True when `X-Twilio-Signature` matches the exact public URL (with query) and form.

    `url` must be what Twilio called: PUBLIC_URL + path + query, not the URL
    the app sees behind a proxy.
    """
    if not signature or not auth_token:
        return False
    return bool(RequestValidator(auth_token).validate(url, params, signature))


def parse_twilio_inbound(
    form: Mapping[str, Any], received_at: datetime | None = None
) -> InboundMessage:
    """An inbound SMS webhook form → InboundMessage (signature checked beforehand)."""
    sid = form.get("MessageSid") or form.get("SmsSid")
    if not sid or "From" not in form:
        raise ValueError("not a Twilio inbound message: MessageSid and From are required")
    return InboundMessage(
        channel="sms",
        provider_id=str(sid),
        from_address=str(form["From"]),
        to_address=str(form.get("To") or ""),
        text=str(form.get("Body") or ""),
        received_at=received_at or utcnow(),
        provider_opt_out=str(form["OptOutType"]).upper() if form.get("OptOutType") else None,
        provider_answered=twilio_answers(str(form.get("Body") or "")),
        raw={key: str(form[key]) for key in form},
    )


def twilio_answers(body: str) -> bool:
    """Twilio's own opt-out handling answers a keyword sent alone ("STOP", not "Stop."), so
    we must not answer it a second time."""
    return unicodedata.normalize("NFKC", body).strip().lower() in TWILIO_KEYWORDS


@dataclass(frozen=True, slots=True)
class TwilioStatusReport:
    """A delivery status report (Twilio's "status callback"): which message, what it means."""

    message_sid: str
    update: DeliveryUpdate


def parse_twilio_status(form: Mapping[str, Any]) -> TwilioStatusReport:
    """A status report form → (MessageSid, DeliveryUpdate); our id is in the URL's `m`."""
    sid = form.get("MessageSid") or form.get("SmsSid")
    status = form.get("MessageStatus") or form.get("SmsStatus")
    if not sid or not status:
        raise ValueError("not a Twilio status report: MessageSid and MessageStatus required")
    if not _SID.fullmatch(str(sid)):
        # Twilio's ids are 34 letters and digits; anything else (a NUL, 10,000 characters)
        # is no report of ours, and would not fit where an early status is kept.
        raise ValueError("not a Twilio status report: MessageSid is not a Twilio id")
    return TwilioStatusReport(str(sid), status_from_twilio(str(status), form.get("ErrorCode")))


def twiml_empty() -> str:
    """The empty TwiML answer: acknowledge the webhook, send no automatic reply."""
    return str(MessagingResponse())


def twiml_message(text: str) -> str:
    """A TwiML answer that replies with one SMS (e.g. a HELP text)."""
    response = MessagingResponse()
    response.message(text)
    return str(response)


# --- delivery status ------------------------------------------------------------

# Codes that condemn the address, not just the message.
_TWILIO_ADDRESS_CODES = frozenset({21211, 21214, 21612, 21614, 30003, 30004, 30005, 30006})
# Codes that fail this message for good while the address stays usable.
_TWILIO_MESSAGE_CODES = frozenset({21602, 21617, 30007, 30019})
_TWILIO_OPT_OUT = 21610
#: Twilio's own keywords: its opt-out handling answers them when sent alone.
TWILIO_KEYWORDS = frozenset(
    {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout",
     "start", "unstop", "yes", "help", "info"}
)

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


def status_from_twilio(message_status: str, error_code: str | int | None = None) -> DeliveryUpdate:
    """Map a Twilio status report (MessageStatus, ErrorCode) to a DeliveryUpdate.

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
