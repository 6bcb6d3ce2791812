"""Log mode: a channel without credentials (or a `log` SMS route) sends nothing.

It answers `logged` and prints one line with a masked address, so a new user
sees the whole flow without any account, and logs never hold a full phone
number, email address, chat id or the message body (which may hold a name).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from channels.base import Mode, OutboundMessage, SendResult, utcnow

logger = logging.getLogger("channels.log")

#: (channel, address) → the address as logs may show it.
Mask = Callable[[str, str], str]


def hide_all_but_two(_channel: str, address: str) -> str:
    """The fallback mask when none is given: two trailing characters at most."""
    return "*" * max(0, len(address) - 2) + address[-2:] if len(address) > 4 else "***"


class LogChannel:
    """Records nothing itself; the dispatcher stores the `logged` result.

    `mask` is the product's masking rule (the composition root passes it in, so this
    package needs nothing from `bot`)."""

    name = "log"
    mode: Mode = "log"

    def __init__(self, channel: str, log: logging.Logger | None = None, *,
                 mask: Mask = hide_all_but_two) -> None:
        self.channel = channel
        self._log = log or logger
        self._mask = mask

    async def send(self, msg: OutboundMessage) -> SendResult:
        """Log one masked line and report `logged` (not delivered)."""
        self._log.info(
            "log mode: %s message %s to %s not sent (%d characters)",
            self.channel,
            msg.message_id,
            self._mask(self.channel, msg.to),
            len(msg.body),
        )
        return SendResult(provider_id=f"log:{msg.message_id}", status="logged", sent_at=utcnow())

    async def close(self) -> None:
        """Nothing to release."""
