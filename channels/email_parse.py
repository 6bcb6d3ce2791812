"""Inbound email: replies (threaded by token or Message-ID) and RFC 3464 bounces.

Kept apart from sending because it is pure: bytes in, one shape out, so the
SMTP receiver, a test and a replay of a stored payload all parse alike. Cutting a
reply to what the customer wrote is `email_quotes` (text) and `email_html` (HTML);
telling an auto-reply from a reply is `email_auto`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from email import message_from_bytes, policy
from email.errors import HeaderParseError
from email.header import decode_header
from email.message import EmailMessage, Message
from email.utils import getaddresses
from typing import NamedTuple

from channels.base import InboundMessage, utcnow
from channels.email_auto import auto_reply_reason
from channels.email_html import html_to_text
from channels.email_quotes import strip_quoted_reply

__all__ = ["Bounce", "body_text", "html_to_text", "parse_dsn", "parse_email_inbound",
           "strip_quoted_reply", "token_from_addresses"]

_TOKEN = r"([A-Za-z0-9_-]{1,64})"
_REPLY_ADDR = re.compile(rf"^reply\+{_TOKEN}@(.+)$", re.IGNORECASE)
_BOUNCE_ADDR = re.compile(rf"^bounce\+{_TOKEN}@(.+)$", re.IGNORECASE)
_MSGID = re.compile(r"<[^<>\s]+>")
# Clients label GBK (even GB18030) text as gb2312; gb18030 is the superset that decodes all.
_CHARSET_ALIASES = dict.fromkeys(
    ("gb2312", "gbk", "x-gbk", "gb_2312-80", "gb_2312", "csgb2312", "euc-cn", "x-euc-cn",
     "cp936", "ms936", "windows-936", "chinese", "gb18030"), "gb18030")


class Bounce(NamedTuple):
    """A delivery status notification about one of our messages (VERP token)."""

    token: str
    status: str | None  # RFC 3463 enhanced code, e.g. "5.1.1"
    permanent: bool  # Action failed with a 5.x.x status
    address_unusable: bool  # 5.1.x (no such address/domain) or 5.2.1 (disabled)
    recipient: str | None
    action: str | None
    diagnostic: str | None
    original_message_id: str | None


def token_from_addresses(
    addresses: Iterable[str], pattern: re.Pattern[str], domain: str | None
) -> str | None:
    """First `<prefix>+<token>@domain` token among addresses (domain checked if given)."""
    for addr in addresses:
        match = pattern.match(addr.strip().strip("<>"))
        if match and (domain is None or match.group(2).lower() == domain.lower()):
            return match.group(1)
    return None


def parse_email_inbound(
    raw: bytes,
    rcpt_tos: Sequence[str],
    *,
    reply_domain: str | None = None,
    received_at: datetime | None = None,
) -> InboundMessage:
    """A received email → InboundMessage with reply token, thread headers and clean text."""
    msg = message_from_bytes(raw, policy=policy.default)
    header_addrs = [
        a for _, a in getaddresses(_headers(msg, "To", "Cc", "Delivered-To", "X-Original-To"))
    ]
    token = token_from_addresses(list(rcpt_tos) + header_addrs, _REPLY_ADDR, reply_domain)
    from_addr = next((a for _, a in getaddresses(_headers(msg, "From")) if a), "")
    # the name as written (a gb2312 label on GBK bytes garbles it in the parsed header)
    from_name = next((n for n, a in getaddresses([header_text(msg, "From")]) if a == from_addr),
                     "")
    to_addr = next((a for a in rcpt_tos if _REPLY_ADDR.match(a)), rcpt_tos[0] if rcpt_tos else "")
    full_text = body_text(msg)
    text = strip_quoted_reply(
        full_text, sender_names=(from_name, from_addr, from_addr.partition("@")[0]))
    subject = header_text(msg, "Subject")
    message_id = _one_msgid(msg.get("Message-ID"))
    if message_id is None:
        message_id = f"<{hashlib.sha256(raw).hexdigest()[:32]}@no-message-id>"
    return InboundMessage(
        channel="email",
        provider_id=message_id,
        from_address=from_addr.lower(),
        to_address=to_addr,
        text=text,
        received_at=received_at or utcnow(),
        subject=subject or None,
        reply_token=token,
        in_reply_to=_one_msgid(msg.get("In-Reply-To")),
        references=tuple(_MSGID.findall(str(msg.get("References") or ""))),
        raw={
            "rcpt_tos": list(rcpt_tos),
            "from": from_addr,
            "message_id": message_id,
            "date": str(msg.get("Date") or ""),
            "auto_submitted": str(msg.get("Auto-Submitted") or ""),
            # why this is an auto-reply (stored, never answered), "" for a reply
            "auto_reply": auto_reply_reason(msg, subject, text),
            "text_full": full_text,
        },
    )


def parse_dsn(
    raw: bytes, rcpt_tos: Sequence[str], *, reply_domain: str | None = None
) -> Bounce | None:
    """An RFC 3464 report to `bounce+<token>@` → Bounce; None if it is not one.

    Auto-replies also reach the envelope sender; they are not bounces.
    """
    token = token_from_addresses(rcpt_tos, _BOUNCE_ADDR, reply_domain)
    if token is None:
        return None
    msg = message_from_bytes(raw, policy=policy.default)
    if msg.get_content_type() != "multipart/report":
        return None
    status_part = next(
        (p for p in msg.iter_parts() if p.get_content_type() == "message/delivery-status"), None
    )
    if status_part is None:
        return None
    blocks = status_part.get_payload()
    recipients = (
        [b for b in blocks[1:] if isinstance(b, Message)] if isinstance(blocks, list) else []
    )
    if not recipients:
        return None
    # One recipient per message in our VERP scheme; take the worst if several.
    block = next(
        (b for b in recipients if str(b.get("Action", "")).lower() == "failed"), recipients[0]
    )
    action = str(block.get("Action") or "").strip().lower() or None
    status = _status_code(str(block.get("Status") or ""))
    permanent = action == "failed" and (status is None or status.startswith("5."))
    unusable = permanent and status is not None and (status.startswith("5.1.") or status == "5.2.1")
    recipient = str(block.get("Final-Recipient") or block.get("Original-Recipient") or "")
    return Bounce(
        token=token,
        status=status,
        permanent=permanent,
        address_unusable=unusable,
        recipient=recipient.partition(";")[2].strip() or None,
        action=action,
        diagnostic=str(block.get("Diagnostic-Code") or "").strip() or None,
        original_message_id=_original_message_id(msg),
    )


def body_text(msg: EmailMessage) -> str:
    """The text/plain body decoded (GBK-tolerant, format=flowed joined); the HTML reduced
    to text when there is no text part or it is empty."""
    for kind in ("plain", "html"):
        part = msg.get_body(preferencelist=(kind,))
        if part is None:
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        text = decode_bytes(payload, part.get_content_charset()).replace("\r\n", "\n")
        if kind == "html":
            text = html_to_text(text)
        elif str(part.get_param("format") or "").lower() == "flowed":
            text = _unflow(text, str(part.get_param("delsp") or "").lower() == "yes")
        if text.strip():
            return text
    return ""


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Bytes in the labelled charset, where labels lie: gb2312 means GBK or GB18030; a label
    that fails is followed by UTF-8, then GB18030, before characters are replaced."""
    label = (charset or "").strip().lower()
    tried = [_CHARSET_ALIASES.get(label, label)] if label else []
    for codec in [*tried, "utf-8", "gb18030"]:
        try:
            return data.decode(codec)
        except (LookupError, ValueError):  # unknown label, wrong bytes, a codec that is no charset
            continue
    return data.decode("utf-8", errors="replace")


def header_text(msg: Message, name: str) -> str:
    """A header decoded as `body_text` decodes bodies (RFC 2047 words labelled gb2312 hold
    GBK; raw 8-bit headers hold UTF-8 or GBK); "" when absent."""
    raw = next((v for k, v in msg.raw_items() if k.lower() == name.lower()), None)
    if raw is None:
        return ""
    raw = re.sub(r"\r?\n(?=[ \t])", "", str(raw))
    try:
        words = decode_header(raw)
    except (HeaderParseError, ValueError):  # a broken encoded word: the parser's reading
        return str(msg.get(name) or "").strip()
    pieces = []
    for chunk, charset in words:
        if isinstance(chunk, str):
            chunk = chunk.encode("utf-8", errors="surrogateescape")
        pieces.append(decode_bytes(chunk, charset))
    return "".join(pieces).strip()


def _unflow(text: str, delsp: bool) -> str:
    """RFC 3676: a line ending in a space goes on with the next one of the same quote depth
    (not the "-- " signature line); space-stuffing removed."""
    lines: list[tuple[int, str]] = []
    joining = False
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        body = line[depth + 1:] if line[depth:].startswith(" ") else line[depth:]
        if joining and body and depth == lines[-1][0]:
            lines[-1] = (depth, lines[-1][1] + body)
        else:
            lines.append((depth, body))
        last = lines[-1][1]
        joining = last.endswith(" ") and last.rstrip() != "--"
        if joining and delsp:
            lines[-1] = (depth, last[:-1])
    return "\n".join(">" * depth + (" " if depth else "") + body for depth, body in lines)


def _headers(msg: Message, *names: str) -> list[str]:
    return [str(value) for name in names for value in (msg.get_all(name) or [])]


def _one_msgid(value: object) -> str | None:
    if not value:
        return None
    found = _MSGID.findall(str(value))
    return found[0] if found else None


def _status_code(value: str) -> str | None:
    match = re.search(r"\b([245]\.\d{1,3}\.\d{1,3})\b", value)
    return match.group(1) if match else None


def _original_message_id(report: EmailMessage) -> str | None:
    """The Message-ID of our bounced message, from the report's third part."""
    for part in report.iter_parts():
        kind = part.get_content_type()
        if kind == "text/rfc822-headers":
            data = part.get_payload(decode=True)
            if isinstance(data, bytes):
                headers = message_from_bytes(data, policy=policy.default)
                return _one_msgid(headers.get("Message-ID"))
        if kind == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                return _one_msgid(inner[0].get("Message-ID"))
    return None
