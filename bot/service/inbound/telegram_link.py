"""`/start <token>`: a customer links their Telegram chat with the personal link we sent."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import Customer, LinkToken, Message, table, utcnow
from bot.service import events, tokens
from bot.service.customers.addresses import usable_again
from bot.service.inbound import texts
from channels.base import InboundMessage

CUSTOMER = table(Customer)
LINK = table(LinkToken)
MESSAGE = table(Message)


async def bind_telegram(session: AsyncSession, msg: InboundMessage, row_id: str,
                        customer: Customer | None) -> tuple[str, str | None]:
    """`/start <token>`: bind this chat to the token's customer (single use, expiring).

    Returns the answer and the customer the chat belongs to afterwards.
    """
    known = customer.id if customer is not None else None
    if not msg.start_payload:
        return (texts.TELEGRAM_ALREADY if known else texts.TELEGRAM_UNBOUND), known
    now = utcnow()
    token = await tokens.resolve(session, msg.start_payload, "telegram", now=now)
    conn = await session.connection()
    if token is not None and token.used_at is None:
        used = await conn.execute(sa.update(LINK).where(
            LINK.c.id == token.id, LINK.c.used_at.is_(None)).values(used_at=now))
        if used.rowcount == 1:
            await conn.execute(sa.update(CUSTOMER).where(CUSTOMER.c.id == token.customer_id)
                               .values(telegram_chat_id=msg.from_address,
                                       telegram_bound=True, updated_at=now))
            await conn.execute(sa.update(MESSAGE).where(MESSAGE.c.id == row_id)
                               .values(customer_id=token.customer_id))
            # The customer's own link proves the chat is theirs and reachable again.
            await usable_again(session, "telegram", msg.from_address, why="linked again",
                               statuses=("unusable", "wrong_person"),
                               customer_id=token.customer_id, now=now)
            events.record(session, "telegram.bound", "Telegram chat linked by deep link",
                          customer_id=token.customer_id, actor="customer",
                          channel="telegram", payload={"message_id": row_id})
            bound = await session.get(Customer, token.customer_id)
            info = await texts.branch_info(session, bound)
            return texts.TELEGRAM_LINKED.format(name=info.name), token.customer_id
    if token is not None and known == token.customer_id:
        return texts.TELEGRAM_ALREADY, known  # the same chat opened its link again
    events.record(session, "telegram.link_refused",
                  "Telegram link refused (unknown, expired or already used)",
                  customer_id=token.customer_id if token else None, channel="telegram",
                  payload={"message_id": row_id})
    return texts.TELEGRAM_LINK_REFUSED, known
