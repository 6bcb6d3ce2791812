"""The adapters one process sends through, and which one serves an address.

Built once by the composition root (`bot.bootstrap.build_channels`) from settings; the
dispatcher, the inbound side, `/healthz` and `outreach check` all read the same set, so
they can never disagree about whether a channel is live.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from channels.base import Channel
from channels.routing import SmsRoutes

CHANNEL_NAMES = ("sms", "email", "telegram")


@dataclass
class Channels:
    """Every adapter this process sends through, plus the SMS routing table."""

    sms: dict[str, Channel]
    email: Channel
    telegram: Channel
    routes: SmsRoutes
    http: httpx.AsyncClient | None = None
    #: Why a channel whose settings are partly given still only logs (for `outreach check`).
    notes: dict[str, str] = field(default_factory=dict)

    def adapter(self, channel: str, address: str) -> Channel | None:
        """The adapter for this address, or None when an SMS number has no route."""
        if channel == "sms":
            provider = self.routes.provider_for(address)
            return self.sms.get(provider) if provider else None
        return self.email if channel == "email" else self.telegram

    def all_log(self) -> bool:
        """True when nothing can really be sent (the demo): bundles end `logged`."""
        adapters = [*self.sms.values(), self.email, self.telegram]
        return all(a.mode == "log" for a in adapters)

    def mode(self, channel: str) -> str:
        """`live`, or `log` when the channel has no live adapter at all."""
        if channel == "sms":
            return "live" if any(a.mode == "live" for a in self.sms.values()) else "log"
        return (self.email if channel == "email" else self.telegram).mode

    def adapters(self, channel: str) -> list[Channel]:
        """Every distinct adapter of a channel (SMS has one per provider)."""
        found = list(self.sms.values()) if channel == "sms" else [
            self.email if channel == "email" else self.telegram]
        return list({id(a): a for a in found}.values())

    async def close(self) -> None:
        for adapter in {id(a): a for a in [*self.sms.values(), self.email, self.telegram]}.values():
            await adapter.close()
        if self.http is not None:
            await self.http.aclose()
