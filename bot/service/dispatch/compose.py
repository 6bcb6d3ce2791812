"""Compose a bundle's message for one channel: the branch's approved template (or the
default) rendered for this customer, with stored link tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import Branch, Customer, Touch
from bot.service import tokens
from bot.service.admin.templates import Slot, active_source
from bot.service.dispatch.variables import customer_variables
from bot.settings import Settings
from channels.base import OutboundMessage
from message_templates import KINDS, RenderedMessage, render

TELEGRAM_LINK_TTL = timedelta(days=30)


@dataclass
class Composed:
    """A rendered message and the channel payload to send."""

    rendered: RenderedMessage
    outbound: OutboundMessage
    stored_body: str


def bundle_kinds(members: list[Touch]) -> list[str]:
    """Member kinds in the order a bundle mentions them."""
    present = {t.kind for t in members}
    return [k for k in KINDS if k in present]


async def compose(
    session: AsyncSession,
    settings: Settings,
    *,
    message_id: str,
    customer: Customer,
    branch: Branch,
    members: list[Touch],
    channel: str,
    address: str,
    two_way_sms: bool,
    today: date,
    templates: dict[tuple[str, str, str, str], tuple[str, str]] | None = None,
) -> Composed:
    """Render and package one message; tokens are stored now, under this message's id."""
    kinds = bundle_kinds(members)
    template_kind = kinds[0] if len(kinds) == 1 else "bundle"
    festival = next((t.festival for t in members if t.festival), None)
    base = settings.public_url
    unsubscribe = await tokens.issue(session, "unsubscribe", customer.id, message_id=message_id)
    telegram = await tokens.issue(session, "telegram", customer.id, message_id=message_id,
                                  ttl=TELEGRAM_LINK_TTL)
    variables = customer_variables(
        customer, branch, today=today, kinds=kinds, festival=festival,
        links={"unsubscribe": f"{base}/u/{unsubscribe}", "telegram": f"{base}/t/{telegram}"},
        two_way_sms=two_way_sms)
    key = (branch.code, template_kind, channel, customer.locale)
    cache = templates if templates is not None else {}
    if key not in cache:  # one lookup per slot and batch
        cache[key] = await active_source(session, Slot(*key))
    source, origin = cache[key]
    rendered = render(template_kind if template_kind != "bundle" else "bundle", channel,
                      customer.locale, variables, source=None if origin == "default" else source)
    reply = bounce = None
    if channel == "email":
        reply = await tokens.issue(session, "reply", customer.id, message_id=message_id)
        bounce = await tokens.issue(session, "bounce", customer.id, message_id=message_id)
    body = rendered.text
    html = rendered.html
    outbound = OutboundMessage(
        message_id=message_id, channel=channel, to=address, body=body,
        subject=rendered.subject, html=html,
        buttons=tuple((b.label, b.data) for b in rendered.buttons),
        reply_token=reply, bounce_token=bounce,
        list_unsubscribe_url=f"{base}/u/{unsubscribe}" if channel == "email" else None,
    )
    stored = html if channel == "telegram" and html else body
    return Composed(rendered, outbound, stored)
