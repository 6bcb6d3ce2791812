"""A customer's reply fed through the real inbound path, for demos and trials (`outreach
simulate reply`, and the demo's first replies). Only for channels in log mode: on a live
channel a reply must come from the customer, never from us."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.db.models import Customer, Message, utcnow
from bot.service.inbound.acting import Handled
from bot.service.inbound.processor import InboundProcessor
from channels.base import InboundMessage

ADDRESS_OF = {"sms": "phone", "email": "email", "telegram": "telegram_chat_id"}


class SimulationRefused(ValueError):
    """The reply cannot be simulated (a live channel, no such customer or address)."""


@dataclass(frozen=True)
class Simulated:
    """What the simulated reply became."""

    handled: Handled
    intent: str | None
    confidence: float | None


async def simulate_reply(processor: InboundProcessor, mode: str, customer_id: str, channel: str,
                         text: str, *, provider_id: str | None = None,
                         at: datetime | None = None) -> Simulated:
    """Store and act on `text` as if the customer had written it on `channel` (in log mode).
    A fixed `provider_id` makes it idempotent: the same reply twice is stored once."""
    if channel not in ADDRESS_OF:
        raise SimulationRefused(f"channel {channel!r}: choose one of {', '.join(ADDRESS_OF)}")
    if mode != "log":
        raise SimulationRefused(f"{channel} is live: replies can only be simulated on a channel "
                                "in log mode (demo and trials)")
    at = at or utcnow()
    async with processor.sessions() as session:
        customer = await session.get(Customer, customer_id)
        address = getattr(customer, ADDRESS_OF[channel]) if customer else None
    if customer is None:
        raise SimulationRefused(f"no customer {customer_id}")
    if not address:
        raise SimulationRefused(f"customer {customer_id} has no {channel} address")
    handled = await processor.handle(InboundMessage(
        channel=channel, provider_id=provider_id or f"sim-{at.timestamp():.6f}",
        from_address=address, to_address="", text=text, received_at=at,
        subject="Re: 回访 / Follow-up" if channel == "email" else None))
    await processor.deliver(handled)
    row = None
    if handled.message_id:
        async with processor.sessions() as session:
            row = await session.get(Message, handled.message_id)
    return Simulated(handled, row.intent if row else None, row.confidence if row else None)
