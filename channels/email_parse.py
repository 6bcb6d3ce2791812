"""Inbound email: replies (threaded by token or Message-ID) and RFC 3464 bounces.

Kept apart from sending because it is pure: bytes in, one shape out, so the
SMTP receiver, a test and a replay of a stored payload all parse alike.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.utils import getaddresses
from html import unescape
from html.parser import HTMLParser
from typing import NamedTuple

from channels.base import InboundMessage, utcnow

_TOKEN = r"([A-Za-z0-9_-]{1,64})"
_REPLY_ADDR = re.compile(rf"^reply\+{_TOKEN}@(.+)$", re.IGNORECASE)
_BOUNCE_ADDR = re.compile(rf"^bounce\+{_TOKEN}@(.+)$", re.IGNORECASE)
_MSGID = re.compile(r"<[^<>\s]+>")
# Clients label GBK text as gb2312; gb18030 is the superset that decodes both.
_CHARSET_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "gb_2312-80": "gb18030",
}


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
    to_addr = next((a for a in rcpt_tos if _REPLY_ADDR.match(a)), rcpt_tos[0] if rcpt_tos else "")
    full_text = body_text(msg)
    message_id = _one_msgid(msg.get("Message-ID"))
    if message_id is None:
        message_id = f"<{hashlib.sha256(raw).hexdigest()[:32]}@no-message-id>"
    return InboundMessage(
        channel="email",
        provider_id=message_id,
        from_address=from_addr.lower(),
        to_address=to_addr,
        text=strip_quoted_reply(full_text),
        received_at=received_at or utcnow(),
        subject=str(msg.get("Subject") or "") or None,
        reply_token=token,
        in_reply_to=_one_msgid(msg.get("In-Reply-To")),
        references=tuple(_MSGID.findall(str(msg.get("References") or ""))),
        raw={
            "rcpt_tos": list(rcpt_tos),
            "from": from_addr,
            "message_id": message_id,
            "date": str(msg.get("Date") or ""),
            "auto_submitted": str(msg.get("Auto-Submitted") or ""),
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
    """The text/plain body decoded (GBK-tolerant); HTML reduced to text if that is all."""
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = (part.get_content_charset() or "utf-8").lower()
    try:
        text = payload.decode(_CHARSET_ALIASES.get(charset, charset), errors="replace")
    except LookupError:
        text = payload.decode("utf-8", errors="replace")
    text = text.replace("\r\n", "\n")
    return html_to_text(text) if part.get_content_type() == "text/html" else text


# --- quoted history -------------------------------------------------------

_SEPARATOR = re.compile(
    r"^\s*-{2,}\s*(original message|original|原始邮件|原始郵件|forwarded message|转发邮件)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_HEADER_FROM = re.compile(r"^\s*\*?(from|发件人|寄件者|寄件人)\*?\s*[:：]", re.IGNORECASE)
_HEADER_NEXT = re.compile(
    r"^\s*\*?(sent|date|to|subject|发送时间|时间|日期|收件人|主题|寄件日期)\*?\s*[:：]",
    re.IGNORECASE,
)
_WROTE = re.compile(
    r"^\s*(on\b.{0,400}\bwrote|在.{0,400}写道|.{0,400}@.{0,400}(wrote|写道))\s*[:：]\s*$",
    re.IGNORECASE,
)
_TRAILER = re.compile(
    r"^\s*(--\s*|sent from my .*|发自我的.*|get outlook for .*|_{5,}|-{5,})$", re.IGNORECASE
)


def strip_quoted_reply(text: str) -> str:
    """Only what the customer wrote: drop quoted history before classification.

    Handles `>` lines and "On … wrote:" / "在 … 写道：" (Gmail, Apple Mail, also
    bottom-posted replies), and cuts at "-----Original Message-----",
    "-----原始邮件-----", Foxmail's "------------------ 原始邮件 ------------------",
    Outlook's From:/Sent: (发件人:/发送时间:) header blocks and a "-- " signature.
    """
    lines = text.replace("\r\n", "\n").split("\n")
    for i, line in enumerate(lines):
        if (
            line == "-- "
            or _SEPARATOR.match(line)
            or (
                _HEADER_FROM.match(line)
                and any(_HEADER_NEXT.match(n) for n in lines[i + 1 : i + 5])
            )
        ):
            lines = lines[:i]
            break
    kept: list[str] = []
    skip = 0
    for i, line in enumerate(lines):
        if skip:
            skip -= 1
            continue
        if line.lstrip().startswith(">"):
            continue
        span = _wrote_span(lines, i)
        if span:
            skip = span - 1
            continue
        kept.append(line)
    while kept and (not kept[-1].strip() or _TRAILER.match(kept[-1])):
        kept.pop()
    return "\n".join(kept).strip()


def _wrote_span(lines: list[str], i: int) -> int:
    """How many lines (1-3, clients wrap it) form an attribution line at i, else 0.

    "On … wrote:" and "在 … 写道：" anywhere; other shapes (Apple Mail's
    "2026年11月2日 … <a@b> 写道：") only when they name an address.
    """
    start = lines[i].lstrip()
    if not (start[:3].lower() == "on " or start.startswith("在") or "@" in lines[i]):
        return 0
    for span in (1, 2, 3):
        if _WROTE.match(" ".join(lines[i : i + span])):
            return span
    return 0


class _TextExtractor(HTMLParser):
    _SKIP = frozenset({"style", "script", "head", "blockquote"})
    _BREAK = frozenset({"br", "p", "div", "tr", "li", "h1", "h2", "h3"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BREAK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BREAK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Rough text of an HTML-only reply; quoted history in <blockquote> is dropped."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    text = unescape("".join(parser.parts)).replace("\xa0", " ")
    return re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in text.split("\n"))).strip()


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
