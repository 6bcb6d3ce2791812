"""Marketing consent: who may get greetings and other marketing, and the wishes that change it.

A wish to stop (TD, 退订, STOP, the 退订 button, "please stop texting me", one-click unsubscribe)
and a wish to start again (START, 订阅) act here, whichever path recognised them, so consent
changes the same way and is confirmed once. Changes are single conditional UPDATEs: two
concurrent STOPs withdraw once and confirm once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import Branch, ConsentChange, Customer, table, utcnow
from bot.service import events
from bot.service.customers.addresses import usable_again
from bot.settings import Settings

CUSTOMER = table(Customer)


def effective_consent(customer: Customer, branch: Branch | None, settings: Settings) -> bool:
    """Marketing consent: an opt-out wins, then the customer's answer, then the branch default."""
    if customer.opted_out_at is not None:
        return False
    if customer.marketing_consent is not None:
        return customer.marketing_consent
    if branch is not None and branch.assume_consent is not None:
        return branch.assume_consent
    return settings.assume_consent


async def withdraw_consent(
    session: AsyncSession, customer_id: str, *, source: str, channel: str | None,
    actor: str = "customer", now: datetime | None = None,
) -> bool:
    """Withdraw marketing consent on every channel; False when it was already withdrawn."""
    now = now or utcnow()
    conn = await session.connection()
    result = await conn.execute(
        sa.update(CUSTOMER)
        .where(CUSTOMER.c.id == customer_id, CUSTOMER.c.opted_out_at.is_(None))
        .values(opted_out_at=now, marketing_consent=False, consent_at=now, updated_at=now)
    )
    if result.rowcount != 1:
        return False
    _record_change(session, customer_id, False, source, channel, actor, now)
    return True


async def restore_consent(
    session: AsyncSession, customer_id: str, *, source: str, channel: str | None,
    actor: str = "customer", now: datetime | None = None, address: str | None = None,
) -> bool:
    """Restore marketing consent (START/订阅); False when it was already given. With the
    `address` the customer wrote from, that address is usable again too (Twilio lifts its
    STOP block on START)."""
    now = now or utcnow()
    if channel and address:
        await usable_again(session, channel, address, why=f"opt-in by {source}",
                           customer_id=customer_id, now=now)
    conn = await session.connection()
    not_given = sa.or_(
        CUSTOMER.c.opted_out_at.is_not(None),
        CUSTOMER.c.marketing_consent.is_(None),
        CUSTOMER.c.marketing_consent == sa.false(),
    )
    result = await conn.execute(
        sa.update(CUSTOMER)
        .where(CUSTOMER.c.id == customer_id, not_given)
        .values(opted_out_at=None, marketing_consent=True, consent_at=now, updated_at=now)
    )
    if result.rowcount != 1:
        return False
    _record_change(session, customer_id, True, source, channel, actor, now)
    return True


def _record_change(session: AsyncSession, customer_id: str, marketing: bool, source: str,
                   channel: str | None, actor: str, now: datetime) -> None:
    """The consent record (ConsentChange) and the timeline event of one change."""
    session.add(ConsentChange(customer_id=customer_id, marketing=marketing, source=source,
                              channel=channel, at=now))
    what = "restored" if marketing else "withdrawn"
    events.record(session, f"consent.{what}", f"marketing consent {what} ({source})",
                  customer_id=customer_id, actor=actor, channel=channel,
                  payload={"source": source})


async def apply_consent_wish(session: AsyncSession, intent: str, customer_ids: Sequence[str], *,
                             channel: str, address: str | None = None,
                             now: datetime | None = None) -> bool:
    """Act on a customer's wish about marketing, from a keyword or a sentence the classifier
    read: `opt_out` withdraws consent for every customer named (an address several customers
    share: never send wrongly), `opt_in` restores it for the one customer it came from (and
    makes the address usable again). True when consent changed, so it is confirmed once."""
    if intent == "opt_out":
        changed = [await withdraw_consent(session, c, source="reply", channel=channel, now=now)
                   for c in customer_ids]
        return any(changed)
    if intent == "opt_in" and len(customer_ids) == 1:
        return await restore_consent(session, customer_ids[0], source="reply", channel=channel,
                                     now=now, address=address)
    return False
