"""Inbound replies from every channel: store first, match the customer, act on keywords.

Storing comes first and in its own transaction, so a reply is never lost even when
acting on it fails. The same provider id twice on one channel is stored once
(webhooks are retried). Matching is deliberately simple: the exact thread (email
reply+<token>, In-Reply-To/References, a Telegram reply or button on our
message), then the sender's address; an address several customers share stays
unmatched with an `ambiguous_address` event, and an unknown sender is stored too.
Only keywords act for now; the classifier and callback queue come later.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.locks import hold_xact_lock
from bot.db.models import AddressStatus, Customer, Message
from bot.domain.masking import mask_address
from bot.service import events, keywords, tokens
from bot.service.channel_registry import Channels
from bot.service.dispatch.outcomes import mark_unusable
from bot.service.replies import handle_reply, mark_answered
from bot.service.spool import database_down
from bot.settings import Settings
from channels.base import ChannelError, InboundMessage, OutboundMessage

log = logging.getLogger("outreach.inbound")


def new_message_id() -> str:
    """Our id for a stored message: the dispatcher's kind (12 random characters)."""
    return tokens.new_id()


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


@dataclass(frozen=True, slots=True)
class Reply:
    """A conversation reply to send through the channel adapter (exempt from the daily limit)."""

    channel: str
    to: str
    text: str
    customer_id: str | None
    in_reply_to: str  # our inbound Message id
    reason: str
    subject: str | None = None


@dataclass
class Outcome:
    """What handling one inbound message decided; the webhook answers, `deliver` sends."""

    message_id: str | None = None
    duplicate: bool = False
    customer_id: str | None = None
    action: str | None = None
    twiml: str | None = None  # SMS: text for the TwiML <Message> answer
    twiml_answer: bool = True  # False: nobody waits for TwiML (a replay); SMS answers are sent
    replies: list[Reply] = field(default_factory=list)
    callback_query_id: str | None = None
    callback_text: str | None = None
    callback_id: int | None = None  # the human callback this reply opened or joined


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


def strip_nul(value: Any) -> Any:
    """`value` without NUL characters (PostgreSQL text refuses them), through dicts and lists."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, dict):
        return {strip_nul(k): strip_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [strip_nul(v) for v in value]
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(strip_nul(v) for v in value)
    return value


def clean_inbound(msg: InboundMessage) -> InboundMessage:
    """Every text field of an inbound message without NUL (quoted-printable =00, a form
    field, a JSON \\u0000): stored as received otherwise."""
    changes = {f.name: strip_nul(getattr(msg, f.name)) for f in dataclasses.fields(msg)
               if f.name != "received_at"}
    return dataclasses.replace(msg, **changes)


class InboundProcessor:
    """Shared by the webhooks, the SMTP receiver and Telegram polling."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings,
                 channels: Callable[[], Channels]) -> None:
        self.sessions = sessions
        self.settings = settings
        self._channels = channels
        self._sqlite_lock = asyncio.Lock()  # one process per SQLite file (DESIGN.md)

    async def handle(self, msg: InboundMessage, *, twiml: bool = True) -> Outcome:
        """Store the message (once per provider id) and act on it, in one transaction.

        A bug while acting rolls back only the action (a savepoint): the reply stays stored
        and the error is logged. The database going away rolls back both and raises, so the
        provider's retry, the SMTP sender's retry or the spool brings the message back whole
        instead of leaving a stored reply nobody acted on. `twiml=False` (a spooled SMS
        replayed later, when no webhook waits for an answer) sends SMS confirmations through
        the SMS adapter instead of the TwiML answer."""
        msg = clean_inbound(msg)
        guard: AbstractAsyncContextManager[Any] = (
            self._sqlite_lock if self.settings.is_sqlite else nullcontext())
        async with guard, self.sessions() as session:
            stored = await self._store(session, msg)
            if stored is None:
                return Outcome(duplicate=True)
            row, match = stored
            outcome = Outcome(message_id=row.id, customer_id=match.customer_id,
                              callback_query_id=msg.callback_query_id, twiml_answer=twiml)
            if not (msg.channel == "email"
                    and msg.raw.get("auto_submitted", "no") not in ("", "no")):
                await self._act_safely(session, msg, row, match, outcome)
            # (an auto-reply is never answered: mail loops)
            await session.commit()
        log.info("inbound %s message %s from %s stored (%s)", msg.channel, outcome.message_id,
                 mask_address(msg.channel, msg.from_address), match.how)
        return outcome

    async def bot_blocked(self, chat_id: str, blocked: bool) -> bool:
        """The customer blocked the bot (or unblocked it): the chat is unusable (usable
        again) before any send fails on it, so dispatch goes straight to the next channel.
        Blocking is not an opt-out (DOMAIN.md). Returns whether anything changed."""
        async with self.sessions() as session:
            owners = (await session.exec(select(Customer.id).where(
                Customer.telegram_chat_id == chat_id))).all()
            customer_id = owners[0] if len(owners) == 1 else None
            if blocked:
                state = await session.get(AddressStatus, ("telegram", chat_id))
                changed = state is None or state.status != "unusable"
                if changed:
                    await mark_unusable(session, "telegram", chat_id, "blocked_bot")
                    events.record(session, "address.unusable",
                                  "telegram address unusable: the customer blocked the bot",
                                  customer_id=customer_id, channel="telegram",
                                  payload={"reason": "blocked_bot"})
            else:
                changed = await keywords.usable_again(session, "telegram", chat_id,
                                                      why="unblocked the bot",
                                                      customer_id=customer_id)
            await session.commit()
        return changed

    async def _act_safely(self, session: AsyncSession, msg: InboundMessage, row: Message,
                          match: Match, outcome: Outcome) -> None:
        message_id = row.id  # the savepoint's rollback expires `row`
        try:
            async with session.begin_nested():
                await self._act(session, msg, row, match, outcome)
        except Exception as exc:
            if database_down(exc):
                raise
            log.exception("acting on inbound %s message %s failed; the reply is stored",
                          msg.channel, message_id)
            outcome.twiml, outcome.replies, outcome.action = None, [], None

    async def _store(self, session: AsyncSession,
                     msg: InboundMessage) -> tuple[Message, Match] | None:
        """Add the message and its events to `session`; None when already stored."""
        await hold_xact_lock(session, f"inbound:{msg.channel}:{msg.provider_id}")
        seen = (await session.exec(select(Message.id).where(
            Message.channel == msg.channel, Message.provider_id == msg.provider_id,
            Message.direction == "in"))).first()
        if seen is not None:
            log.info("inbound %s message already stored as %s", msg.channel, seen)
            return None
        match = await match_sender(session, msg, self.settings)
        row = Message(id=new_message_id(), direction="in", customer_id=match.customer_id,
                      channel=msg.channel, address=msg.from_address, subject=msg.subject,
                      body=msg.text, provider_id=msg.provider_id, status="received",
                      in_reply_to=match.in_reply_to, answers_message_id=match.answers,
                      raw=json.dumps(msg.raw, ensure_ascii=False, default=str))
        session.add(row)
        unmatched = "" if match.customer_id else " (no customer matched)"
        events.record(session, "reply.received", f"{msg.channel} reply received{unmatched}",
                      customer_id=match.customer_id, actor="customer", channel=msg.channel,
                      payload={"message_id": row.id, "matched_by": match.how})
        if match.candidates:
            events.record(session, "reply.ambiguous_address",
                          f"{msg.channel} reply from an address {len(match.candidates)} "
                          "customers share: ambiguous_address", channel=msg.channel,
                          payload={"message_id": row.id, "reason": "ambiguous_address",
                                   "customer_ids": list(match.candidates)})
        await session.flush()
        return row, match

    async def _act(self, session: AsyncSession, msg: InboundMessage, row: Message,
                   match: Match, outcome: Outcome) -> None:
        customer = await session.get(Customer, match.customer_id) if match.customer_id else None
        if msg.channel == "telegram" and (msg.start_payload or msg.text.startswith("/start")):
            text, outcome.customer_id = await keywords.bind_telegram(session, msg, row.id,
                                                                     customer)
            outcome.action = "telegram_link"
            outcome.replies.append(self._reply(msg, row, text, outcome.customer_id, "link"))
            return
        if msg.channel == "telegram" and customer is None and not match.candidates:
            outcome.action = "unbound"
            outcome.replies.append(self._reply(msg, row, keywords.TELEGRAM_UNBOUND, None, "unbound"))
            return
        if msg.callback_data in keywords.BUTTON_INTENTS:
            found: keywords.Keyword | None = keywords.Keyword(
                keywords.BUTTON_INTENTS[msg.callback_data], msg.callback_data)
        elif msg.callback_data is not None:
            found = None
            outcome.callback_text = "已收到 / Received"
        else:
            text = msg.text
            if not text.strip() and (msg.subject or "").strip().lower() == "unsubscribe":
                text = "unsubscribe"  # the List-Unsubscribe mailto
            found = keywords.detect(text, channel=msg.channel,
                                    provider_opt_out=msg.provider_opt_out)
        if found is None:
            if customer is not None:
                await self._understand(session, msg, row, customer, outcome)
            return
        row.intent, row.confidence = found.intent, 1.0
        session.add(row)
        if customer is not None:
            await mark_answered(session, customer, row, self.settings, msg.received_at)
        outcome.action = found.intent
        changed = await self._apply_keyword(session, found, msg, customer, match)
        if found.intent != "help" and not changed:
            return  # confirmed once: a second STOP gets no second confirmation
        if msg.callback_query_id:
            outcome.callback_text = {"opt_out": "已退订 / Unsubscribed",
                                     "opt_in": "已恢复订阅 / Subscribed"}.get(found.intent)
        if found.provider_answered:
            return  # Twilio's own STOP/START/HELP handling already answered
        locale = customer.locale if customer is not None else "zh-CN"
        text = keywords.keyword_reply(found.intent, locale,
                                      await keywords.branch_info(session, customer))
        self._confirm(session, msg, row, outcome, text, found.intent)

    async def _understand(self, session: AsyncSession, msg: InboundMessage, row: Message,
                          customer: Customer, outcome: Outcome) -> None:
        """Classify the reply (a button press carries its intent) and escalate it."""
        pressed = msg.callback_data or ""
        forced = pressed.removeprefix("reply:") if pressed.startswith("reply:") else None
        # Deadlines and "明天上午" count from when the customer wrote (a spooled SMS is
        # replayed later), not from when we got to it.
        result = await handle_reply(session, row, self.settings, msg.received_at,
                                    forced_intent=forced)
        outcome.action = row.intent
        if result.callback is not None:
            outcome.callback_id = result.callback.id
        for channel, address, text in result.alerts:
            outcome.replies.append(Reply(channel, address, text, customer.id, row.id, "alert",
                                         "【P0】客户否认操作 / customer denies an operation"))
        if result.confirmation:  # a sentence opt-out/opt-in: confirmed once, like TD/订阅
            self._confirm(session, msg, row, outcome, result.confirmation, row.intent or "")

    def _confirm(self, session: AsyncSession, msg: InboundMessage, row: Message,
                 outcome: Outcome, text: str, reason: str) -> None:
        """Answer on the channel the customer wrote on: SMS in the webhook's TwiML (recorded
        here), other channels as a reply message."""
        reply = self._reply(msg, row, text, outcome.customer_id, reason)
        if msg.channel == "sms" and outcome.twiml_answer:
            outcome.twiml = text
            session.add(Message(id=new_message_id(), direction="out", channel="sms",
                                customer_id=reply.customer_id, address=reply.to, body=text,
                                status="sent", in_reply_to=row.id))
            events.record(session, "reply.sent", f"sms {reason} answer (TwiML)",
                          customer_id=reply.customer_id, channel="sms",
                          payload={"in_reply_to": row.id, "reason": reason})
        else:
            outcome.replies.append(reply)

    async def _apply_keyword(self, session: AsyncSession, found: keywords.Keyword,
                             msg: InboundMessage, customer: Customer | None,
                             match: Match) -> bool:
        """Opt-out reaches every customer behind a shared address (never send wrongly);
        opt-in needs the one matched customer."""
        if found.intent == "help":
            return False
        if found.intent == "opt_out":
            targets = [customer.id] if customer is not None else list(match.candidates)
            changed = [await keywords.withdraw_consent(session, t, source="reply",
                                                       channel=msg.channel) for t in targets]
            return any(changed)
        if customer is None:
            return False
        return await keywords.restore_consent(session, customer.id, source="reply",
                                              channel=msg.channel, address=msg.from_address)

    @staticmethod
    def _reply(msg: InboundMessage, row: Message, text: str, customer_id: str | None,
               reason: str) -> Reply:
        subject = None
        if msg.channel == "email":
            subject = f"Re: {msg.subject}" if msg.subject else "退订确认 / Your request"
        return Reply(msg.channel, msg.from_address, text, customer_id, row.id, reason, subject)

    async def deliver(self, outcome: Outcome) -> None:
        """Send what `handle` decided (after the webhook answered); every send is recorded."""
        try:
            channels = self._channels() if (outcome.replies or outcome.callback_query_id) else None
            if channels is not None and outcome.callback_query_id:
                answer = getattr(channels.telegram, "answer_callback", None)
                if answer is not None:
                    try:
                        await answer(outcome.callback_query_id, outcome.callback_text)
                    except ChannelError as exc:
                        log.warning("answerCallbackQuery failed: %s", exc)
            for reply in outcome.replies:
                await self._send(channels, reply)  # type: ignore[arg-type]
        except Exception:  # background work: log, never raise into the server
            log.exception("sending conversation replies failed")

    async def _send(self, channels: Channels, reply: Reply) -> None:
        adapter = channels.adapter(reply.channel, reply.to)
        message_id = new_message_id()
        provider_id, status, error = None, "failed", None
        if adapter is not None:
            try:
                result = await adapter.send(OutboundMessage(
                    message_id=message_id, channel=reply.channel, to=reply.to, body=reply.text,
                    subject=reply.subject))
                provider_id, status = result.provider_id, result.status
            except ChannelError as exc:
                error = str(exc.code) if exc.code is not None else type(exc).__name__
                log.warning("%s reply to %s failed: %s", reply.channel,
                            mask_address(reply.channel, reply.to), exc)
        async with self.sessions() as session:
            session.add(Message(id=message_id, direction="out", channel=reply.channel,
                                customer_id=reply.customer_id, address=reply.to,
                                subject=reply.subject, body=reply.text, provider_id=provider_id,
                                status=status, error_code=error, in_reply_to=reply.in_reply_to))
            events.record(session, "reply.sent", f"{reply.channel} {reply.reason} answer: {status}",
                          customer_id=reply.customer_id, channel=reply.channel,
                          payload={"message_id": message_id, "in_reply_to": reply.in_reply_to,
                                   "reason": reply.reason})
            await session.commit()
