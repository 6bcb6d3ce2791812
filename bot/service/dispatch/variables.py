"""Template variables for one customer: the documented set of message_templates.VARIABLES."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from bot.db.models import Branch, Customer
from bot.domain.rules import last_activity
from bot.service.calendar import festivals_from_json


def festival_display(branch: Branch, code: str | None, locale: str) -> str:
    """A festival's name as the branch calls it, in the customer's language."""
    if not code:
        return ""
    festivals, _ = festivals_from_json(branch.festivals_json)
    for festival in festivals:
        if festival.code == code:
            return festival.name(locale)
    return code


def customer_variables(
    customer: Customer,
    branch: Branch,
    *,
    today: date,
    kinds: Iterable[str],
    festival: str | None,
    links: dict[str, str],
    two_way_sms: bool,
) -> dict[str, Any]:
    """Everything a template may use for this customer and this message."""
    activity = last_activity(customer.opened_on, customer.last_trade_on)
    return {
        "customer_name": customer.name,
        "salutation": customer.salutation or "",
        "branch_name": branch.name,
        "sms_signature": branch.sms_signature or branch.name[:12],
        "service_phone": branch.service_phone or "",
        "festival_name": festival_display(branch, festival, customer.locale),
        "days_since_last_trade": (today - activity).days if activity else 0,
        "telegram_link": links.get("telegram", ""),
        "unsubscribe_link": links.get("unsubscribe", ""),
        "two_way_sms": two_way_sms,
        "bundle_kinds": list(kinds),
    }
