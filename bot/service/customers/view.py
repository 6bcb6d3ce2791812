"""One customer as staff may see it: masked data, consent, addresses and timeline."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import AddressStatus, Branch, ConsentChange, Customer, Event
from bot.domain.masking import mask_address, mask_name
from bot.service.customers.consent import effective_consent
from bot.settings import Settings

_ADDRESS_FIELDS = (("sms", "phone"), ("email", "email"), ("telegram", "telegram_chat_id"))


def _iso(value: Any) -> Any:
    return value.isoformat() if value is not None else None


async def consent_and_addresses(session: AsyncSession, customer: Customer,
                                settings: Settings) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The customer's marketing consent (and its last change) and each address, masked, with
    whether dispatch may use it."""
    branch = await session.get(Branch, customer.branch_code)
    last_change = (
        await session.exec(
            select(ConsentChange)
            .where(ConsentChange.customer_id == customer.id)
            .order_by(col(ConsentChange.at).desc(), col(ConsentChange.id).desc())
        )
    ).first()
    addresses = []
    for channel, attr in _ADDRESS_FIELDS:
        value = getattr(customer, attr)
        if not value:
            continue
        state = await session.get(AddressStatus, (channel, value))
        addresses.append({
            "channel": channel,
            "address": mask_address(channel, value),
            "status": state.status if state else "ok",
        })
    consent = {
        "marketing": effective_consent(customer, branch, settings),
        "changed_at": _iso(last_change.at if last_change else customer.consent_at),
        "channel": last_change.channel if last_change else None,
    }
    return consent, addresses


async def customer_view(
    session: AsyncSession, customer_id: str, settings: Settings
) -> dict[str, Any] | None:
    """The `outreach customer ID --json` shape of DESIGN.md, masked."""
    customer = await session.get(Customer, customer_id)
    if customer is None:
        return None
    consent, addresses = await consent_and_addresses(session, customer, settings)
    events = await session.exec(
        select(Event).where(Event.customer_id == customer_id).order_by(col(Event.at), col(Event.id))
    )
    return {
        "customer": {
            "customer_id": customer.id,
            "name": mask_name(customer.name),
            "branch": customer.branch_code,
            "tier": customer.tier,
            "locale": customer.locale,
            "status": customer.status,
            "salutation": customer.salutation or "",
            "birthday": customer.birthday.strftime("--%m-%d") if customer.birthday else None,
            "opened_on": _iso(customer.opened_on),
            "last_trade_on": _iso(customer.last_trade_on),
            "sales_rep": customer.sales_rep,
            "channels": customer.channels.split("|") if customer.channels else [],
        },
        "consent": consent,
        "addresses": addresses,
        "timeline": [
            {"at": _iso(e.at), "type": e.type, "actor": e.actor, "channel": e.channel,
             "summary": e.summary}
            for e in events
        ],
    }
