"""Load what a batch of bundles needs in a few `IN (…)` queries instead of many per bundle."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import AddressStatus, Branch, Bundle, ChannelState, Customer, Message, Touch

ADDRESS = {"sms": "phone", "email": "email", "telegram": "telegram_chat_id"}


@dataclass
class Preload:
    """Rows for one batch; the session's identity map keeps them current."""

    bundles: dict[int, Bundle]
    customers: dict[str, Customer]
    branches: dict[str, Branch]
    members: dict[int, list[Touch]]
    messages: dict[int, list[Message]]
    unusable: set[tuple[str, str]]
    states: dict[str, ChannelState]
    templates: dict[tuple[str, str, str, str], tuple[str, str]] = field(default_factory=dict)


async def preload(s: AsyncSession, ids: list[int]) -> Preload:
    """Bundles, their customers, branches, pending touches, messages, address blocks and
    channel states."""
    bundles = {b.id: b for b in (await s.exec(select(Bundle).where(col(Bundle.id).in_(ids)))).all()
               if b.id is not None}  # always true for a loaded row; narrows int | None
    customer_ids = {b.customer_id for b in bundles.values()}
    customers = {c.id: c for c in (await s.exec(
        select(Customer).where(col(Customer.id).in_(customer_ids)))).all()}
    branches = {b.code: b for b in (await s.exec(select(Branch).where(
        col(Branch.code).in_({c.branch_code for c in customers.values()})))).all()}
    members: dict[int, list[Touch]] = defaultdict(list)
    for touch in (await s.exec(select(Touch).where(
            col(Touch.bundle_id).in_(ids), col(Touch.status).in_(("planned", "sending"))))).all():
        members[touch.bundle_id].append(touch)  # type: ignore[index]
    messages: dict[int, list[Message]] = defaultdict(list)
    for message in (await s.exec(select(Message).where(col(Message.bundle_id).in_(ids)))).all():
        messages[message.bundle_id].append(message)  # type: ignore[index]
    addresses = {getattr(c, attr) for c in customers.values() for attr in ADDRESS.values()} - {None}
    unusable = {(a.channel, a.address) for a in (await s.exec(select(AddressStatus).where(
        col(AddressStatus.address).in_(addresses), AddressStatus.status != "ok"))).all()}
    states = {st.channel: st for st in (await s.exec(select(ChannelState))).all()}
    return Preload(bundles, customers, branches, members, messages, unusable, states)
