"""Log mode: a channel without credentials (or a `log` SMS route) sends nothing.

It answers `logged` and prints one line with a masked address, so a new user
sees the whole flow without any account, and logs never hold a full phone
number, email address, chat id or the message body (which may hold a name).
"""

from __future__ import annotations

import logging

from bot.domain.masking import mask_address, mask_chat_id, mask_email, mask_other, mask_phone
from channels.base import Mode, OutboundMessage, SendResult, utcnow

__all__ = ["LogChannel", "mask_address", "mask_chat_id", "mask_email", "mask_other", "mask_phone"]

logger = logging.getLogger("channels.log")


class LogChannel:
    """Records nothing itself; the dispatcher stores the `logged` result."""

    name = "log"
    mode: Mode = "log"

    def __init__(self, channel: str, log: logging.Logger | None = None) -> None:
        self.channel = channel
        self._log = log or logger

    async def send(self, msg: OutboundMessage) -> SendResult:
        """Log one masked line and report `logged` (not delivered)."""
        self._log.info(
            "log mode: %s message %s to %s not sent (%d characters)",
            self.channel,
            msg.message_id,
            mask_address(self.channel, msg.to),
            len(msg.body),
        )
        return SendResult(provider_id=f"log:{msg.message_id}", status="logged", sent_at=utcnow())

    async def close(self) -> None:
        """Nothing to release."""
