"""Whether an address may be used: unusable (bad, refused, blocked), wrong person, usable again.

Every channel's adapters, replies and agents' outcomes mark addresses here, so dispatch
skips them the same way whoever found out. An address is not a consent: marking one never
opts the customer out.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import AddressStatus, table, utcnow
from bot.domain.masking import mask_address
from bot.service import events

ADDRESS = table(AddressStatus)


async def mark_unusable(session: AsyncSession, channel: str, address: str, reason: str, *,
                        customer_id: str | None = None, message_id: str | None = None,
                        now: datetime | None = None) -> bool:
    """The address cannot receive (hard bounce, invalid number, 21610, blocked bot, a wrong
    number the agent dialled): dispatch skips it from now on. One event when it changed;
    False when it was unusable already."""
    now = now or utcnow()
    module = postgresql if session.bind.dialect.name == "postgresql" else sqlite  # type: ignore[union-attr]
    stmt = module.insert(ADDRESS).values(channel=channel, address=address, status="unusable",
                                         reason=reason, changed_at=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=["channel", "address"],
        set_={"status": "unusable", "reason": reason, "changed_at": now},
        where=ADDRESS.c.status != "unusable")
    changed = (await (await session.connection()).execute(stmt)).rowcount == 1
    if changed:
        payload: dict[str, str] = {"address": mask_address(channel, address), "reason": reason}
        if message_id:
            payload["message_id"] = message_id
        events.record(session, "address.unusable", f"{channel} address unusable: {reason}",
                      customer_id=customer_id, channel=channel, payload=payload)
    return changed


async def usable_again(session: AsyncSession, channel: str, address: str, *, why: str,
                       statuses: tuple[str, ...] = ("unusable",),
                       customer_id: str | None = None, now: datetime | None = None) -> bool:
    """The customer showed that an address we had given up on works (texted START from the
    number Twilio had blocked after STOP, or linked a chat that had blocked the bot): it is
    used again. A `wrong_person` mark stays unless `statuses` names it."""
    now = now or utcnow()
    conn = await session.connection()
    result = await conn.execute(sa.update(ADDRESS).where(
        ADDRESS.c.channel == channel, ADDRESS.c.address == address,
        ADDRESS.c.status.in_(statuses),
    ).values(status="ok", reason=why, changed_at=now))
    if result.rowcount != 1:
        return False
    events.record(session, "address.usable_again", f"{channel} address usable again ({why})",
                  customer_id=customer_id, channel=channel, payload={"why": why})
    return True


async def block_wrong_person(session: AsyncSession, channel: str, address: str) -> None:
    """A reply says the address belongs to someone else: stop sending to it at once; the
    contact data gets reviewed by a person (an address already marked stays as it is)."""
    if await session.get(AddressStatus, (channel, address)) is None:
        session.add(AddressStatus(channel=channel, address=address, status="wrong_person",
                                  reason="reply says wrong person"))
