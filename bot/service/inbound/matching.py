"""Who wrote, and what it answers: the exact thread first, then the sender's address.

The exact thread: email reply+<token>, In-Reply-To/References, a Telegram reply or button on
our message. Then the address: an address several customers share stays unmatched (the
candidates are kept, so an opt-out still reaches all of them), an unknown sender is stored
too. Also here: inbound text made storable (no NUL, no lone surrogate).
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import Customer, Message
from bot.domain.text import clean_text
from bot.service import tokens
from bot.settings import Settings
from channels.base import InboundMessage

log = logging.getLogger("outreach.inbound")


@dataclass(frozen=True, slots=True)
class Match:
    """Who sent it and what it answers; `candidates` when an address is shared."""

    customer_id: str | None
    how: str  # reply_token | thread | address | ambiguous_address | unknown
    reference: str | None = None  # the provider's thread reference (In-Reply-To, chat:message)
    candidates: tuple[str, ...] = ()
    answers: str | None = None  # our outbound Message id it answers, when known

    @property
    def in_reply_to(self) -> str | None:
        """What Message.in_reply_to keeps: our message id when known, else the reference."""
        return self.answers or self.reference


async def match_sender(session: AsyncSession, msg: InboundMessage, settings: Settings) -> Match:
    """Exact thread first, then the sender's address among customers."""
    if msg.channel == "email":
        if msg.reply_token:
            token = await tokens.resolve(session, msg.reply_token, "reply")
            if token is not None:
                return Match(token.customer_id, "reply_token", msg.in_reply_to,
                             answers=token.message_id)
        refs = [r for r in (msg.in_reply_to, *msg.references) if r]
        ours = await _our_message(session, "email", refs)
        if ours is not None and ours.customer_id:
            return Match(ours.customer_id, "thread", msg.in_reply_to, answers=ours.id)
        return await _by_address(session, func.lower(Customer.email), msg.from_address.lower(),
                                 msg.in_reply_to)
    if msg.channel == "telegram":
        refs = [msg.reply_to_provider_id] if msg.reply_to_provider_id else []
        ours = await _our_message(session, "telegram", refs)
        if ours is not None and ours.customer_id:
            return Match(ours.customer_id, "thread", msg.reply_to_provider_id, answers=ours.id)
        return await _by_address(session, Customer.telegram_chat_id, msg.from_address,
                                 msg.reply_to_provider_id)
    match = await _by_address(session, Customer.phone, msg.from_address, None)
    if match.customer_id is None:
        return match
    # What it answers: the matched customer's latest touch message (one of a bundle) to this
    # number. Our own conversation answers (HELP, opt-out confirmations) have no bundle, and
    # a message to a previous holder of the number belongs to another customer.
    since = msg.received_at - timedelta(days=settings.reply_match_days)
    last = (await session.exec(select(Message.id).where(
        Message.channel == msg.channel, Message.address == msg.from_address,
        Message.direction == "out", Message.customer_id == match.customer_id,
        col(Message.bundle_id).is_not(None), Message.created_at >= since,
    ).order_by(col(Message.created_at).desc()))).first()
    return Match(match.customer_id, match.how, None, answers=last)


async def _our_message(session: AsyncSession, channel: str, refs: list[str]) -> Message | None:
    if not refs:
        return None
    return (await session.exec(select(Message).where(
        Message.channel == channel, col(Message.provider_id).in_(refs), Message.direction == "out",
    ).order_by(col(Message.created_at).desc()))).first()


async def _by_address(session: AsyncSession, column: Any, value: str, ref: str | None,
                      answers: str | None = None) -> Match:
    ids = list((await session.exec(select(Customer.id).where(column == value)
                                   .order_by(col(Customer.id)).limit(20))).all()) if value else []
    if len(ids) == 1:
        return Match(ids[0], "address", ref, answers=answers)
    if ids:
        return Match(None, "ambiguous_address", ref, tuple(ids), answers=answers)
    return Match(None, "unknown", ref, answers=answers)


def clean_inbound(msg: InboundMessage) -> InboundMessage:
    """Every text field of an inbound message storable: NUL (quoted-printable =00, a form
    field, a JSON \\u0000) removed, a lone surrogate (JSON "\\ud800") made U+FFFD; stored
    as received otherwise, so the customer's words are kept rather than the request failing."""
    changes = {f.name: clean_text(getattr(msg, f.name)) for f in dataclasses.fields(msg)
               if f.name != "received_at"}
    cleaned = dataclasses.replace(msg, **changes)
    if cleaned != msg:
        log.warning("inbound %s message held NUL characters or lone surrogates: stored "
                    "without them", msg.channel)
    return cleaned
