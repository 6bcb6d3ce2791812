"""Real-shaped inbound mail: customer replies in common client shapes and RFC 3464 DSNs."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid


def reply_mail(
    *,
    to: str,
    from_: str = "张三 <zhang.san@example.com>",
    text: str,
    in_reply_to: str | None = None,
    subject: str = "回复：生日快乐",
    charset: str = "utf-8",
    html: str | None = None,
) -> bytes:
    """A customer's reply as a mail client would send it."""
    msg = EmailMessage()
    msg["From"] = from_
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain="example.com")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = f"<older@example.com> {in_reply_to}"
    msg.set_content(text, charset=charset)
    if html is not None:
        msg.add_alternative(html, subtype="html", charset="utf-8")
    return msg.as_bytes()


def dsn_mail(
    *,
    bounce_address: str,
    failed_recipient: str,
    status: str = "5.1.1",
    action: str = "failed",
    original_message_id: str = "<orig@replies.localhost>",
    diagnostic: str = "smtp; 550 5.1.1 The email account that you tried to reach does not exist.",
) -> bytes:
    """A Postfix-style multipart/report (RFC 3464) sent to our VERP bounce address."""
    boundary = "=_dsn_boundary_4242"
    arrival = format_datetime(datetime.now(UTC))
    return (
        "From: MAILER-DAEMON@mx.example.com (Mail Delivery System)\r\n"
        f"To: {bounce_address}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Date: {arrival}\r\n"
        f"Message-ID: {make_msgid(domain='mx.example.com')}\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n'
        "\r\n"
        "This is a MIME-encapsulated message.\r\n"
        f"\r\n--{boundary}\r\n"
        "Content-Description: Notification\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n"
        "\r\n"
        "I'm sorry to have to inform you that your message could not\r\n"
        "be delivered to one or more recipients.\r\n"
        f"\r\n--{boundary}\r\n"
        "Content-Description: Delivery report\r\n"
        "Content-Type: message/delivery-status\r\n"
        "\r\n"
        "Reporting-MTA: dns; mx.example.com\r\n"
        "X-Postfix-Queue-ID: 4ABCD1234\r\n"
        f"Arrival-Date: {arrival}\r\n"
        "\r\n"
        f"Final-Recipient: rfc822; {failed_recipient}\r\n"
        f"Original-Recipient: rfc822;{failed_recipient}\r\n"
        f"Action: {action}\r\n"
        f"Status: {status}\r\n"
        "Remote-MTA: dns; gmail-smtp-in.l.google.com\r\n"
        f"Diagnostic-Code: {diagnostic}\r\n"
        f"\r\n--{boundary}\r\n"
        "Content-Description: Undelivered Message Headers\r\n"
        "Content-Type: text/rfc822-headers\r\n"
        "\r\n"
        f"Message-ID: {original_message_id}\r\n"
        "From: =?utf-8?b?5p+Q5p+Q6K+B5Yi4?= <noreply@firm.example>\r\n"
        f"To: {failed_recipient}\r\n"
        "Subject: =?utf-8?b?55Sf5pel5b+r5LmQ?=\r\n"
        f"\r\n--{boundary}--\r\n"
    ).encode("ascii")
