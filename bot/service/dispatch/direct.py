"""Sending outside the planned flow (a conversation answer, a P0 alert, `send-test`).

The one place such sends leave from, so they can be given the dispatcher's rate slots,
retries and circuit breaker in one place.
"""

from __future__ import annotations

from bot.domain.masking import mask_address
from channels.base import OutboundMessage, PermanentDeliveryError, SendResult
from channels.registry import Channels


class NoRoute(PermanentDeliveryError):
    """No adapter serves this address (an SMS number no route in SMS_ROUTES covers)."""


async def send_direct(channels: Channels, message: OutboundMessage) -> SendResult:
    """Send one message through the adapter that serves its address; ChannelError if not."""
    adapter = channels.adapter(message.channel, message.to)
    if adapter is None:
        raise NoRoute(f"no SMS route for {mask_address(message.channel, message.to)} "
                      "(OUTREACH_SMS_ROUTES)")
    return await adapter.send(message)
