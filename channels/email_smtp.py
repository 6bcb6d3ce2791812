"""Email over SMTP (aiosmtplib) and the built-in receiver for replies and bounces.

We set our own Message-ID (no library adds one) and keep it as the provider
id, so a reply's In-Reply-To finds the message. Reply-To and the envelope
sender carry per-message tokens (VERP), so replies and bounces thread even
when a client drops the headers.
"""

from __future__ import annotations

import asyncio
import logging
import re
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

import aiosmtplib
from aiosmtpd.smtp import SMTP, Envelope, Session

from channels.base import (
    ChannelError,
    ConfigurationError,
    InboundMessage,
    Mode,
    OutboundMessage,
    PermanentDeliveryError,
    SendResult,
    TransientDeliveryError,
    utcnow,
)
from channels.email_parse import Bounce, parse_dsn, parse_email_inbound, strip_quoted_reply

__all__ = [
    "Bounce",
    "InboundSmtpHandler",
    "SmtpConfig",
    "SmtpEmailChannel",
    "build_email",
    "parse_dsn",
    "parse_email_inbound",
    "start_inbound_smtp",
    "strip_quoted_reply",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    """Outbound SMTP settings (SMTP_* and REPLY_DOMAIN)."""

    host: str
    port: int
    email_from: str  # may carry a display name: "某某证券 <noreply@firm.example>"
    reply_domain: str
    username: str | None = None
    password: str | None = None
    starttls: bool = True  # as SMTP_STARTTLS; off only for a local relay
    timeout: float = 30.0
    message_id_domain: str | None = None  # defaults to reply_domain


def build_email(msg: OutboundMessage, config: SmtpConfig) -> EmailMessage:
    """The MIME message: text (+ HTML), UTF-8 subject, our Message-ID, VERP and unsubscribe headers."""
    email = EmailMessage()
    email["From"] = config.email_from
    email["To"] = msg.to
    email["Subject"] = msg.subject or ""
    email["Date"] = format_datetime(utcnow())
    safe_id = re.sub(r"[^A-Za-z0-9-]", "", msg.message_id)[:40] or None
    email["Message-ID"] = make_msgid(
        idstring=safe_id, domain=config.message_id_domain or config.reply_domain
    )
    if msg.reply_token:
        email["Reply-To"] = f"reply+{msg.reply_token}@{config.reply_domain}"
    unsubscribe = []
    if msg.reply_token:
        # A mailto reply lands in our receiver threaded by token, subject "unsubscribe".
        unsubscribe.append(
            f"<mailto:reply+{msg.reply_token}@{config.reply_domain}?subject=unsubscribe>"
        )
    if msg.list_unsubscribe_url:
        unsubscribe.append(f"<{msg.list_unsubscribe_url}>")
    if unsubscribe:
        email["List-Unsubscribe"] = ", ".join(unsubscribe)
    if msg.list_unsubscribe_url:
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    # base64 keeps Chinese bodies 7-bit clean for relays without 8BITMIME.
    email.set_content(msg.body, charset="utf-8", cte="base64")
    if msg.html:
        email.add_alternative(msg.html, subtype="html", charset="utf-8", cte="base64")
    return email


class SmtpEmailChannel:
    """Sends one message per SMTP session (email rates are low; no pooled connection to go stale)."""

    channel = "email"
    name = "smtp"
    mode: Mode = "live"

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._from_addr = parseaddr(config.email_from)[1]
        if "@" not in self._from_addr:
            raise ConfigurationError(f"EMAIL_FROM has no address: {config.email_from!r}")

    async def send(self, msg: OutboundMessage) -> SendResult:
        """Send; the Message-ID we set is the provider id."""
        email = build_email(msg, self.config)
        sender = (
            f"bounce+{msg.bounce_token}@{self.config.reply_domain}"
            if msg.bounce_token
            else self._from_addr
        )
        try:
            await aiosmtplib.send(
                email,
                sender=sender,
                recipients=[msg.to],
                hostname=self.config.host,
                port=self.config.port,
                username=self.config.username or None,
                password=self.config.password or None,
                start_tls=self.config.starttls,
                timeout=self.config.timeout,
            )
        except aiosmtplib.SMTPException as exc:
            raise _map_smtp_error(exc) from exc
        except OSError as exc:
            raise TransientDeliveryError(f"SMTP connection failed: {exc!r}") from exc
        return SendResult(provider_id=str(email["Message-ID"]), status="sent", sent_at=utcnow())

    async def reachable(self) -> str:
        """Whether the SMTP server accepts a connection from here (no mail is sent)."""
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(self.config.host, self.config.port), timeout=5.0)
        except (OSError, TimeoutError) as exc:
            return f"NOT reachable ({exc.__class__.__name__})"
        writer.close()
        await writer.wait_closed()
        return "reachable"

    async def close(self) -> None:
        """No connection is held between sends."""


def _rcpt_refused(code: int, text: str) -> ChannelError:
    """A refusal at RCPT: only mailbox codes (5.1.x, 5.2.1, bare 550/551/553) condemn the address."""
    message = f"recipient refused: {code} {text}"
    if code < 500:
        return TransientDeliveryError(message, code=code)
    if code == 530:  # authentication required: our settings
        return ConfigurationError(message, code=code)
    enhanced = re.match(r"\s*(5\.\d{1,3}\.\d{1,3})", text)
    if enhanced:
        unusable = enhanced.group(1).startswith("5.1.") or enhanced.group(1) == "5.2.1"
    else:
        unusable = code in (550, 551, 553)
    return PermanentDeliveryError(message, code=code, address_unusable=unusable)


def _map_smtp_error(exc: aiosmtplib.SMTPException) -> ChannelError:
    """SMTP replies → our tree: a bad mailbox is permanent, 4xx and lost connections transient."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        if not exc.recipients:
            return TransientDeliveryError(f"recipients refused: {exc}")
        first = exc.recipients[0]  # we send to one recipient at a time
        return _rcpt_refused(first.code, first.message)
    if isinstance(exc, aiosmtplib.SMTPRecipientRefused):
        return _rcpt_refused(exc.code, exc.message)
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError | aiosmtplib.SMTPNotSupported):
        return ConfigurationError(f"SMTP setup: {exc}", code=getattr(exc, "code", None))
    if isinstance(exc, aiosmtplib.SMTPReadTimeoutError | aiosmtplib.SMTPServerDisconnected):
        return TransientDeliveryError(f"SMTP interrupted: {exc}", outcome_unknown=True)
    if isinstance(exc, aiosmtplib.SMTPTimeoutError | aiosmtplib.SMTPConnectError):
        return TransientDeliveryError(f"SMTP unreachable: {exc}")
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        if exc.code < 500:
            return TransientDeliveryError(f"SMTP {exc.code} {exc.message}", code=exc.code)
        if isinstance(exc, aiosmtplib.SMTPSenderRefused | aiosmtplib.SMTPHeloError):
            return ConfigurationError(f"SMTP refused us: {exc.code} {exc.message}", code=exc.code)
        # 5xx at DATA: this message (content, size, policy) was refused, not the address.
        return PermanentDeliveryError(f"SMTP {exc.code} {exc.message}", code=exc.code)
    if "not supported" in str(exc):  # e.g. STARTTLS required but not offered
        return ConfigurationError(f"SMTP setup: {exc}")
    return TransientDeliveryError(f"SMTP error: {exc}")


# --- the inbound receiver ---------------------------------------------------

MailHandler = Callable[[InboundMessage | Bounce], Awaitable[None]]


class InboundSmtpHandler:
    """aiosmtpd handler for INBOUND_SMTP: mail for the reply domain only.

    Any local part at the reply domain is accepted, forged tokens included (a
    refusal would tell an attacker which tokens exist). A failing `on_mail`
    answers 451 so the sending server retries instead of the reply being lost.
    """

    def __init__(self, reply_domain: str, on_mail: MailHandler) -> None:
        self.reply_domain = reply_domain.lower()
        self.on_mail = on_mail

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address.rpartition("@")[2].lower() != self.reply_domain:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", errors="surrogateescape")
        rcpts = list(envelope.rcpt_tos)
        try:
            result: InboundMessage | Bounce | None = parse_dsn(
                raw, rcpts, reply_domain=self.reply_domain
            )
            if result is None:
                result = parse_email_inbound(raw, rcpts, reply_domain=self.reply_domain)
        except Exception as exc:  # a mail we cannot parse must not crash the session
            # The frames, not the message: it may quote a header (names) or the text.
            logger.error("inbound mail could not be parsed; refused with 554: %s\n%s",
                         type(exc).__name__, "".join(traceback.format_tb(exc.__traceback__)))
            return "554 5.6.0 Message could not be parsed"
        try:
            await self.on_mail(result)
        except Exception:  # the caller could not store it; make the sender retry
            logger.exception("storing inbound mail failed; answered 451")
            return "451 4.3.0 Temporary failure, try again later"
        return "250 Message accepted for delivery"


async def start_inbound_smtp(
    handler: InboundSmtpHandler, host: str, port: int, *, data_size_limit: int = 10 * 1024 * 1024
) -> asyncio.Server:
    """Serve the receiver on the running loop (port 0 picks a free port)."""
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: SMTP(handler, hostname=handler.reply_domain, data_size_limit=data_size_limit),
        host,
        port,
    )
