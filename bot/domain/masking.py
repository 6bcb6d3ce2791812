"""Masking of personal data for lists and logs (DOMAIN.md: 138****5678, z***@example.com, 张*)."""

from __future__ import annotations


def mask_phone(e164: str | None) -> str:
    """Keep the first 3 and last 4 digits of the national number; mainland numbers drop +86."""
    if not e164:
        return ""
    digits = e164.lstrip("+")
    if e164.startswith("+86"):
        national = digits[2:]
        if len(national) >= 7:
            return f"{national[:3]}****{national[-4:]}"
        return "*" * len(national)
    if len(digits) >= 8:
        return f"+{digits[:3]}****{digits[-4:]}"
    return "*" * len(digits)


def mask_email(email: str | None) -> str:
    """First character of the local part, then ***, then the domain."""
    if not email:
        return ""
    local, _, domain = email.partition("@")
    if not domain:
        return "***"
    return f"{local[:1]}***@{domain}"


def mask_name(name: str | None) -> str:
    """First character only: 张三 → 张*, Alice Wang → A*."""
    if not name:
        return ""
    return f"{name[:1]}*"


def mask_chat_id(chat_id: str | None) -> str:
    """Telegram chat ids identify a person too: keep the last 3 digits."""
    if not chat_id:
        return ""
    return f"***{chat_id[-3:]}" if len(chat_id) > 3 else "***"


def mask_address(channel: str, address: str | None) -> str:
    """Mask an address by its channel, for log lines and lists."""
    if channel == "sms" or channel == "phone":
        return mask_phone(address)
    if channel == "email":
        return mask_email(address)
    return mask_chat_id(address)
