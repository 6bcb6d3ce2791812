"""Masking of personal data for lists and logs (DOMAIN.md: 138****5678, z***@example.com, 张*)."""

from __future__ import annotations

import re


def mask_phone(number: str | None) -> str:
    """Mainland numbers as 138****5678; others keep country code and last 4 (+852****4567)."""
    if not number:
        return ""
    digits = re.sub(r"\D", "", number)
    international = number.strip().startswith("+")
    if international and digits.startswith("86") and len(digits) == 13:
        digits, international = digits[2:], False
    plus = "+" if international else ""
    if len(digits) <= 4:
        return plus + "*" * len(digits)
    head = max(0, len(digits) - 8)
    return plus + digits[:head] + "*" * (len(digits) - head - 4) + digits[-4:]


def mask_email(address: str | None) -> str:
    """zhang@example.com → z***@example.com (the domain is not personal)."""
    if not address:
        return ""
    local, at, domain = address.strip().rpartition("@")
    if not at:
        return mask_other(address)
    shown = local[:1] if len(local) > 1 else ""
    return f"{shown}***@{domain}"


def mask_chat_id(chat_id: str | None) -> str:
    """Telegram chat ids identify a person too: 123456789 → ******789."""
    if not chat_id:
        return ""
    chat_id = chat_id.strip()
    if len(chat_id) < 6:
        return "*" * len(chat_id)
    return "*" * (len(chat_id) - 3) + chat_id[-3:]


def mask_name(name: str | None) -> str:
    """First character only: 张三 → 张*, 欧阳晓燕 → 欧*."""
    if not name:
        return ""
    return f"{name[:1]}*"


def mask_other(value: str) -> str:
    """Anything else: two trailing characters at most."""
    return "*" * max(0, len(value) - 2) + value[-2:] if len(value) > 4 else "*" * len(value)


def mask_address(channel: str, address: str | None) -> str:
    """Mask an address by its channel, for log lines and lists."""
    if not address:
        return ""
    if channel in ("sms", "phone"):
        return mask_phone(address)
    if channel == "email":
        return mask_email(address)
    if channel == "telegram":
        return mask_chat_id(address)
    return mask_other(address)
