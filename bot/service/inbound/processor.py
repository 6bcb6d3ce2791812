"""Inbound replies from every channel: store, match, act, in one transaction; answer after.

The same provider id twice on one channel is stored once (webhooks are retried). Who wrote
and what it answers is `matching`; what the reply leads to is `acting` (keywords, the
classifier, a person). A reply is stored and acted on in one transaction, the acting in a
savepoint: a bug while acting keeps the reply stored, the database going away rolls back
both so the provider's retry (or the spool) brings the message back whole.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.app import App
from bot.db.locks import hold_xact_lock
from bot.db.models import Customer, Message
from bot.domain.masking import mask_address
from bot.logs import frames_only
from bot.service import events, tokens
from bot.service.customers.addresses import mark_unusable, usable_again
from bot.service.dispatch.outbox import send_outbox
from bot.service.dispatch.outgoing import REPLY, enqueue
from bot.service.inbound.acting import Handled, act
from bot.service.inbound.matching import Match, clean_inbound, match_sender
from bot.service.inbound.spool import database_down
from bot.settings import Settings
from channels.base import AnswersButtons, ChannelError, InboundMessage
from channels.registry import Channels

log = logging.getLogger("outreach.inbound")

#: SQLite: how long an inbound write waits for the one before it. With the file's own busy
#: timeout (10 s) that keeps every answer inside Twilio's 15 s.
SQLITE_LOCK_WAIT_SECONDS = 2.0


class WriterBusy(TimeoutError):
    """The SQLite file is taken by earlier inbound writes: try again later (an outage to
    `database_down`, being a TimeoutError)."""


class InboundProcessor:
    """Shared by the webhooks, the SMTP receiver and Telegram polling."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings,
                 channels: Callable[[], Channels]) -> None:
        self.sessions = sessions
        self.settings = settings
        self.app = App(settings=settings, engine=sessions.kw["bind"], sessions=sessions)
        self._channels = channels
        self._sqlite_lock = asyncio.Lock()  # one process per SQLite file (DESIGN.md)

    @asynccontextmanager
    async def sqlite_writer(self) -> AsyncIterator[None]:
        """SQLite: this process's inbound writes one at a time, but never a long wait in
        line: a request that cannot start within SQLITE_LOCK_WAIT_SECONDS raises WriterBusy
        (an outage to its caller: Twilio's goes to the spool, Telegram and SMTP retry), so
        one slow write cannot make the requests behind it miss the provider's timeout."""
        if not self.settings.is_sqlite:
            yield
            return
        try:
            await asyncio.wait_for(self._sqlite_lock.acquire(), SQLITE_LOCK_WAIT_SECONDS)
        except TimeoutError:
            raise WriterBusy("another inbound write holds the SQLite file") from None
        try:
            yield
        finally:
            self._sqlite_lock.release()

    async def handle(self, msg: InboundMessage, *, twiml: bool = True) -> Handled:
        """Store the message (once per provider id) and act on it, in one transaction.

        A bug while acting rolls back only the action (a savepoint): the reply stays stored
        and the error is logged. The database going away rolls back both and raises, so the
        provider's retry, the SMTP sender's retry or the spool brings the message back whole
        instead of leaving a stored reply nobody acted on. `twiml=False` (a spooled SMS
        replayed later, when no webhook waits for an answer) sends SMS confirmations through
        the SMS adapter instead of the TwiML answer."""
        msg = clean_inbound(msg)
        async with self.sqlite_writer(), self.sessions() as session:
            stored = await self._store(session, msg)
            if stored is None:
                return Handled(duplicate=True)
            row, match = stored
            handled = Handled(message_id=row.id, customer_id=match.customer_id,
                              button_query_id=msg.button_query_id, twiml_answer=twiml)
            auto_reply = msg.raw.get("auto_reply") if msg.channel == "email" else None
            if auto_reply:
                # Out of office and the like (channels.email_auto): stored, never answered
                # (mail loops), never the customer's answer to a touch, no callback.
                handled.action = "auto_reply"
                events.record(session, "reply.auto_reply",
                              f"email auto-reply not acted on ({auto_reply})",
                              customer_id=match.customer_id, channel=msg.channel,
                              payload={"message_id": row.id, "why": auto_reply})
            else:
                await self._act_safely(session, msg, row, match, handled)
            handled.outbox.extend(_queue_replies(session, handled))
            await session.commit()
        log.info("inbound %s message %s from %s stored (%s)", msg.channel, handled.message_id,
                 mask_address(msg.channel, msg.from_address), match.how)
        return handled

    async def bot_blocked(self, chat_id: str, blocked: bool) -> bool:
        """The customer blocked the bot (or unblocked it): the chat is unusable (usable
        again) before any send fails on it, so dispatch goes straight to the next channel.
        Blocking is not an opt-out (DOMAIN.md). Returns whether anything changed."""
        async with self.sessions() as session:
            owners = (await session.exec(select(Customer.id).where(
                Customer.telegram_chat_id == chat_id))).all()
            customer_id = owners[0] if len(owners) == 1 else None
            if blocked:
                changed = await mark_unusable(session, "telegram", chat_id, "blocked_bot",
                                              customer_id=customer_id)
            else:
                changed = await usable_again(session, "telegram", chat_id,
                                             why="unblocked the bot", customer_id=customer_id)
            await session.commit()
        return changed

    async def _act_safely(self, session: AsyncSession, msg: InboundMessage, row: Message,
                          match: Match, handled: Handled) -> None:
        message_id = row.id  # the savepoint's rollback expires `row`
        try:
            async with session.begin_nested():
                await act(session, self.settings, msg, row, match, handled)
        except Exception as exc:
            if database_down(exc):
                raise
            log.error("acting on inbound %s message %s failed; the reply is stored: %s",
                      msg.channel, message_id, frames_only(exc))
            handled.twiml, handled.replies, handled.action = None, [], None
            handled.outbox = []  # rolled back with the action

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
        row = Message(id=tokens.new_id(), direction="in", customer_id=match.customer_id,
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

    async def deliver(self, handled: Handled) -> None:
        """Send what `handle` queued (after the webhook answered): a Telegram button's answer,
        then the outbox messages, here at once (the dispatcher sends any left over)."""
        try:
            if not (handled.outbox or handled.button_query_id):
                return
            channels = self._channels()
            if handled.button_query_id:
                answering = channels.telegram
                if isinstance(answering, AnswersButtons):
                    try:
                        await answering.answer_button(handled.button_query_id,
                                                      handled.button_answer)
                    except ChannelError as exc:
                        log.warning("answering a button press failed: %s", exc)
            await send_outbox(self.app, channels, ids=handled.outbox)
        except Exception:  # background work: log, never raise into the server
            log.exception("sending conversation replies failed; the dispatcher retries them")


def _queue_replies(session: AsyncSession, handled: Handled) -> list[str]:
    """The answers `act` decided, stored in its transaction: a crash loses none."""
    return [enqueue(session, purpose=REPLY, channel=r.channel, to=r.to, body=r.text,
                    subject=r.subject, customer_id=r.customer_id, in_reply_to=r.in_reply_to).id
            for r in handled.replies]
