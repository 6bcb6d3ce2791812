"""What a stored reply leads to: a Telegram link, a keyword, or the classifier and a person.

`act` decides inside the storing transaction and writes only through its session; what
must be said back (confirmations, HELP, P0 alerts) is returned in `Handled` and sent after
the webhook has answered. An SMS confirmation rides in the webhook's own TwiML answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import Customer, Message
from bot.domain.replies.keywords import Keyword, button_keyword, detect
from bot.service import events, tokens
from bot.service.customers.consent import apply_consent_wish
from bot.service.inbound import texts
from bot.service.inbound.matching import Match
from bot.service.inbound.telegram_link import bind_telegram
from bot.service.inbound.understanding import handle_reply, mark_answered
from bot.settings import Settings
from channels.base import InboundMessage


@dataclass(frozen=True, slots=True)
class Reply:
    """A message to send back outside the planned flow (exempt from the daily limit)."""

    channel: str
    to: str
    text: str
    customer_id: str | None
    in_reply_to: str  # our inbound Message id
    reason: str
    subject: str | None = None


@dataclass
class Handled:
    """What handling one inbound message decided; the webhook answers, `deliver` sends."""

    message_id: str | None = None
    duplicate: bool = False
    customer_id: str | None = None
    action: str | None = None
    twiml: str | None = None  # SMS: text for the TwiML <Message> answer
    twiml_answer: bool = True  # False: nobody waits for TwiML (a replay); SMS answers are sent
    replies: list[Reply] = field(default_factory=list)  # answers, queued before commit
    outbox: list[str] = field(default_factory=list)  # queued messages, sent after commit
    button_query_id: str | None = None  # a Telegram button press to answer
    button_answer: str | None = None  # what its spinner shows
    callback_id: int | None = None  # the human callback this reply opened or joined


async def act(session: AsyncSession, settings: Settings, msg: InboundMessage, row: Message,
              match: Match, handled: Handled) -> None:
    """Decide and record what the stored reply `row` leads to."""
    customer = await session.get(Customer, match.customer_id) if match.customer_id else None
    if msg.channel == "telegram" and (msg.start_payload or msg.text.startswith("/start")):
        text, handled.customer_id = await bind_telegram(session, msg, row.id, customer)
        handled.action = "telegram_link"
        handled.replies.append(_reply(msg, row, text, handled.customer_id, "link"))
        return
    if msg.channel == "telegram" and customer is None and not match.candidates:
        handled.action = "unbound"
        handled.replies.append(_reply(msg, row, texts.TELEGRAM_UNBOUND, None, "unbound"))
        return
    found = _keyword(msg)
    if found is None:
        if msg.button_data is not None:
            handled.button_answer = texts.BUTTON_RECEIVED
        if customer is not None:
            await _understand(session, settings, msg, row, customer, handled)
        return
    await _act_on_keyword(session, settings, msg, row, match, customer, found, handled)


def _keyword(msg: InboundMessage) -> Keyword | None:
    if msg.button_data is not None:
        return button_keyword(msg.button_data)
    text = msg.text
    if not text.strip() and (msg.subject or "").strip().lower() == "unsubscribe":
        text = "unsubscribe"  # the List-Unsubscribe mailto
    return detect(text, provider_opt_out=msg.provider_opt_out,
                  provider_answered=msg.provider_answered)


async def _act_on_keyword(session: AsyncSession, settings: Settings, msg: InboundMessage,
                          row: Message, match: Match, customer: Customer | None,
                          found: Keyword, handled: Handled) -> None:
    """TD / 订阅 / HELP: consent changes on every channel (an opt-out reaches every customer
    behind a shared address), confirmed once; HELP always gets its answer."""
    row.intent, row.confidence = found.intent, 1.0
    session.add(row)
    if customer is not None:
        await mark_answered(session, customer, row, settings, msg.received_at)
    handled.action = found.intent
    targets = [customer.id] if customer is not None else list(match.candidates)
    changed = await apply_consent_wish(session, found.intent, targets, channel=msg.channel,
                                       address=msg.from_address)
    if found.intent != "help" and not changed:
        return  # confirmed once: a second STOP gets no second confirmation
    if msg.button_query_id:
        handled.button_answer = texts.BUTTON_DONE.get(found.intent)
    if found.provider_answered:
        return  # Twilio's own STOP/START/HELP handling already answered
    locale = customer.locale if customer is not None else "zh-CN"
    text = texts.keyword_reply(found.intent, locale, await texts.branch_info(session, customer))
    _confirm(session, msg, row, handled, text, found.intent)


async def _understand(session: AsyncSession, settings: Settings, msg: InboundMessage,
                      row: Message, customer: Customer, handled: Handled) -> None:
    """Classify the reply (a button press carries its intent) and escalate it."""
    pressed = msg.button_data or ""
    forced = pressed.removeprefix("reply:") if pressed.startswith("reply:") else None
    # Deadlines and "明天上午" count from when the customer wrote (a spooled SMS is
    # replayed later), not from when we got to it.
    result = await handle_reply(session, row, settings, msg.received_at, forced_intent=forced)
    handled.action = row.intent
    if result.callback is not None:
        handled.callback_id = result.callback.id
    handled.outbox.extend(result.alerts)
    if result.confirmation:  # a sentence opt-out/opt-in: confirmed once, like TD/订阅
        _confirm(session, msg, row, handled, result.confirmation, row.intent or "")


def _confirm(session: AsyncSession, msg: InboundMessage, row: Message, handled: Handled,
             text: str, reason: str) -> None:
    """Answer on the channel the customer wrote on: SMS in the webhook's TwiML (recorded
    here), other channels as a reply message."""
    reply = _reply(msg, row, text, handled.customer_id, reason)
    if msg.channel == "sms" and handled.twiml_answer:
        handled.twiml = text
        session.add(Message(id=tokens.new_id(), direction="out", channel="sms",
                            customer_id=reply.customer_id, address=reply.to, body=text,
                            status="sent", in_reply_to=row.id))
        events.record(session, "reply.sent", f"sms {reason} answer (TwiML)",
                      customer_id=reply.customer_id, channel="sms",
                      payload={"in_reply_to": row.id, "reason": reason})
    else:
        handled.replies.append(reply)


def _reply(msg: InboundMessage, row: Message, text: str, customer_id: str | None,
           reason: str) -> Reply:
    subject = None
    if msg.channel == "email":
        subject = f"Re: {msg.subject}" if msg.subject else "退订确认 / Your request"
    return Reply(msg.channel, msg.from_address, text, customer_id, row.id, reason, subject)
