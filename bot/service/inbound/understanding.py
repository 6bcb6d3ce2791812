"""Act on a stored reply: classify it, link it to the touches it answers, escalate.

Keyword replies (TD, STOP, START, HELP) are handled where they arrive (inbound); this is
everything else: complaints, not-me denials, reschedules, low-confidence answers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import Branch, Callback, Customer, Message, Touch
from bot.domain.callbacks import OPEN_STATUSES
from bot.domain.escalation import needs_person, sla_due
from bot.domain.replies import INTENTS, Classification, classify, parse_reschedule
from bot.domain.replies.reschedule import RescheduleTime
from bot.domain.rules import next_call_slot, parse_window
from bot.logs import frames_only
from bot.service import events
from bot.service.calendar import load_calendar
from bot.service.callbacks.opening import open_or_join
from bot.service.customers.addresses import block_wrong_person
from bot.service.customers.consent import apply_consent_wish
from bot.service.dispatch.alerts import raise_alert
from bot.service.inbound.texts import branch_info, keyword_reply
from bot.settings import Settings

log = logging.getLogger("outreach.replies")

KEYWORD_INTENTS = frozenset({"opt_out", "opt_in", "help"})
ANSWERABLE = ("sent", "delivered", "unknown", "unanswered", "logged")


async def answered_touches(session: AsyncSession, message: Message) -> list[Touch]:
    """The touches of the outbound message this reply answers."""
    if not message.answers_message_id:
        return []
    answered = await session.get(Message, message.answers_message_id)
    if answered is None or answered.bundle_id is None:
        return []
    return list((await session.exec(select(Touch).where(Touch.bundle_id == answered.bundle_id))).all())


async def latest_outbound(session: AsyncSession, customer_id: str, channel: str,
                          since: datetime) -> Message | None:
    """The most recent message we sent this customer on this channel (else any) since `since`."""
    for channel_filter in (channel, None):
        query = select(Message).where(Message.customer_id == customer_id, Message.direction == "out",
                                      col(Message.created_at) >= since,
                                      col(Message.bundle_id).is_not(None))
        if channel_filter:
            query = query.where(Message.channel == channel_filter)
        found = (await session.exec(query.order_by(col(Message.created_at).desc()))).first()
        if found is not None:
            return found
    return None


@dataclass
class ReplyResult:
    """What acting on a reply did: the callback it opened or joined, alerts to send."""

    callback: Callback | None = None
    alerts: list[str] = field(default_factory=list)  # outbox message ids of the P0 alert
    # A sentence opt-out/opt-in that changed consent: the one confirmation to send back on the
    # channel used (the same text the TD/订阅 keyword path sends); None when nothing changed.
    confirmation: str | None = None


async def mark_answered(session: AsyncSession, customer: Customer, message: Message,
                        settings: Settings, now: datetime) -> list[Touch]:
    """Link the reply to the message it answers (its thread, else the customer's latest on
    that channel) and mark that bundle's touches answered, whatever the reply says: a TD or
    HELP answers a touch too, so the sweep must not call the customer about its silence."""
    if message.answers_message_id is None:
        previous = await latest_outbound(session, customer.id, message.channel,
                                         now - timedelta(days=settings.reply_match_days))
        message.answers_message_id = previous.id if previous else None
        session.add(message)
    touches = await answered_touches(session, message)
    for touch in touches:
        if touch.status in ANSWERABLE:
            touch.status, touch.updated_at = "answered", now
            session.add(touch)
    return touches


async def handle_reply(session: AsyncSession, message: Message, settings: Settings,
                       now: datetime, kind_hint: str | None = None,
                       forced_intent: str | None = None) -> ReplyResult:
    """Classify and act on one inbound message that is matched to a customer.

    `forced_intent` is a button press (Telegram quick reply): its intent is known.
    """
    done = ReplyResult()
    if message.customer_id is None:
        return done
    customer = await session.get(Customer, message.customer_id)
    branch = await session.get(Branch, customer.branch_code) if customer else None
    if customer is None or branch is None:
        return done
    touches = await mark_answered(session, customer, message, settings, now)
    kinds = frozenset(t.kind for t in touches)
    context = kind_hint or next((k for k in ("new_account", "dormancy", "asset_movement")
                                 if k in kinds), next(iter(kinds), None))
    result = (Classification(forced_intent, 1.0, [f"button {forced_intent}"])
              if forced_intent in INTENTS else classify(message.body, context))
    message.intent, message.confidence = result.intent, round(result.confidence, 3)
    events.record(session, "reply.classified",
                  f"reply on {message.channel}: {result.intent} ({result.confidence:.2f})",
                  customer_id=customer.id, branch_code=branch.code, channel=message.channel,
                  payload={"message_id": message.id, "intent": result.intent,
                           "confidence": result.confidence, "why": result.reasons[:5]})
    if result.intent in KEYWORD_INTENTS and result.confidence >= settings.classifier_min_confidence:
        session.add(message)
        await _apply_keyword_intent(session, customer, message, result.intent, now, done)
        return done
    if "opt_out" in result.also and result.intent not in KEYWORD_INTENTS:
        # "再发我就投诉": a complaint that also says stop — the wish to stop is honoured too.
        await apply_consent_wish(session, "opt_out", [customer.id], channel=message.channel,
                                 now=now)
    rule, review = needs_person(result.intent, result.confidence,
                                settings.classifier_min_confidence, kinds)
    message.needs_review = review
    session.add(message)
    if rule is None:
        # A late reply still joins an open callback the sweep made for silence.
        done.callback = await _join_open(session, customer, result.intent, now)
        return done
    calendar = await load_calendar(session)
    hours = tuple(parse_window(branch.working_hours))
    due_at = None
    start = now
    reason = result.intent if result.confidence >= settings.classifier_min_confidence else "unsure_reply"
    if result.intent == "reschedule":
        try:
            asked: RescheduleTime | None = parse_reschedule(message.body, now, branch.timezone)
        except Exception as exc:  # an unreadable time must not cost the customer their callback
            log.error("reading the time asked for in message %s failed: %s", message.id,
                      frames_only(exc))
            asked = None
        if asked is not None and asked.at is not None:
            due_at = asked.at  # an evening time the customer asked for is kept
        else:
            due_at, _ = next_call_slot(now, branch.timezone, calendar)
        start = due_at
        reason = f"reschedule: {asked.explanation if asked else '时间未能识别'}"
    sla = sla_due(rule, start, calendar, branch.timezone, (hours[0], hours[1]))
    callback = await open_or_join(session, customer, rule.priority, reason, sla, due_at=due_at)
    for touch in touches:
        if touch.callback_id is None:
            touch.callback_id = callback.id
            session.add(touch)
    if result.intent == "wrong_person":
        await block_wrong_person(session, message.channel, message.address)
    if rule.alert:
        done.alerts = await _alert(session, customer, branch, settings, message)
    done.callback = callback
    return done


async def _apply_keyword_intent(session: AsyncSession, customer: Customer, message: Message,
                                intent: str, now: datetime, done: ReplyResult) -> None:
    """A sentence the classifier reads as opt-out / opt-in ("我要退订", "please stop texting
    me", "我想重新订阅") acts exactly like the TD / 订阅 keyword: consent changes on every
    channel, confirmed once (only when it changed). HELP needs no state change."""
    if await apply_consent_wish(session, intent, [customer.id], channel=message.channel,
                                address=message.address, now=now):
        done.confirmation = keyword_reply(intent, customer.locale,
                                          await branch_info(session, customer))


async def _join_open(session: AsyncSession, customer: Customer, intent: str,
                     now: datetime) -> Callback | None:
    current = (await session.exec(select(Callback).where(
        Callback.customer_id == customer.id, col(Callback.status).in_(OPEN_STATUSES)))).first()
    if current is None:
        return None
    return await open_or_join(session, customer, current.priority, f"reply: {intent}",
                              current.sla_due_at)


async def _alert(session: AsyncSession, customer: Customer, branch: Branch, settings: Settings,
                 message: Message) -> list[str]:
    """P0: the branch manager and head office are told at once, whatever the send window,
    through the outbox (durable, retried; `dispatch.alerts`). Returns the messages queued."""
    body = (f"【P0 警报】{branch.name}客户 {customer.id} 否认一项操作（回复渠道：{message.channel}），"
            f"请在 1 小时内回电核实。/ P0: customer {customer.id} of {branch.code} denies an "
            "operation; call back within 1 hour.")
    return await raise_alert(session, kind="not_me", customer=customer, branch=branch,
                             settings=settings,
                             subject="【P0】客户否认操作 / customer denies an operation",
                             body=body, channel=message.channel, message_id=message.id)

