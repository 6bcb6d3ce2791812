"""What an agent needs to work one callback: the customer's own words and ours, earlier calls,
consent and addresses, when to call, and the script; and revealing the contact.

Who may see it is checked here, so the console and the API refuse the same people: the
independence rule (sales staff and the customer's own rep never), branch scope. Every view
and every reveal is an event (回访人员权限使用应受到监督).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import (
    Branch,
    Callback,
    CallbackAttempt,
    Customer,
    Event,
    Message,
    Staff,
    Touch,
    utcnow,
)
from bot.domain.access import branch_scope, own_customer_refusal
from bot.domain.masking import mask_name, mask_phone
from bot.domain.scripts import call_script
from bot.service import events
from bot.service.calendar import load_calendar
from bot.service.callbacks.errors import NotAllowed, NotFound
from bot.service.callbacks.queue import suggested_call
from bot.service.customers.view import consent_and_addresses
from bot.settings import Settings
from message_templates import honorific


def _iso(value: datetime | None, zone: ZoneInfo) -> str | None:
    return value.astimezone(zone).isoformat() if value is not None else None


async def readable_callback(session: AsyncSession, callback_id: int,
                            staff: Staff) -> tuple[Callback, Customer]:
    """The callback and its customer, if this person may read them; NotFound / NotAllowed."""
    callback = await session.get(Callback, callback_id)
    customer = await session.get(Customer, callback.customer_id) if callback else None
    if callback is None or customer is None:
        raise NotFound(f"no callback {callback_id}")
    _, refusal = branch_scope(staff, callback.branch_code)
    refusal = refusal or own_customer_refusal(staff, customer.sales_rep)
    if refusal:
        raise NotAllowed(refusal)
    return callback, customer


def holds(staff: Staff, callback: Callback) -> bool:
    """Whether this agent has the callback claimed right now."""
    return callback.status == "claimed" and callback.assignee_id == staff.id


async def callback_detail(session: AsyncSession, callback_id: int, staff: Staff,
                          settings: Settings, now: datetime | None = None) -> dict[str, Any]:
    """The callback page's content (and `GET /api/v1/callbacks/{id}`); records the view."""
    now = now or utcnow()
    callback, customer = await readable_callback(session, callback_id, staff)
    branch = await session.get(Branch, callback.branch_code)
    assert branch is not None
    zone = ZoneInfo(branch.timezone or settings.timezone)
    holder = holds(staff, callback)
    consent, addresses = await consent_and_addresses(session, customer, settings)
    start, end, asked = suggested_call(callback, branch.timezone, await load_calendar(session), now)
    kind = await _callback_kind(session, callback)
    name = honorific(customer.name, customer.salutation, customer.locale)
    script = call_script(kind, customer.locale, branch=branch.name, agent=staff.username,
                         agent_id=str(staff.id), honorific=name if holder else mask_name(name))
    events.record(session, "callback.viewed", f"callback {callback.id} viewed by {staff.username}",
                  customer_id=customer.id, branch_code=branch.code, actor=staff.username,
                  payload={"callback_id": callback.id})
    assignee = await session.get(Staff, callback.assignee_id) if callback.assignee_id else None
    return {
        "callback": {
            "callback_id": callback.id, "status": callback.status, "priority": callback.priority,
            "reasons": json.loads(callback.reasons), "kind": kind,
            "sla_due_at": _iso(callback.sla_due_at, zone), "breached": callback.sla_due_at < now,
            "due_at": _iso(callback.due_at, zone), "no_answer_attempts": callback.attempts,
            "assignee": assignee.username if assignee else None, "held_by_you": holder,
            "compliance_flag": callback.compliance_flag, "outcome": callback.outcome,
            "suggested_call": {"from": _iso(start, zone), "until": _iso(end, zone),
                               "asked_by_customer": asked},
        },
        "customer": {
            "customer_id": customer.id, "name": customer.name if holder else mask_name(customer.name),
            "honorific": name if holder else None, "phone": mask_phone(customer.phone),
            "branch": customer.branch_code, "branch_name": branch.name, "locale": customer.locale,
            "tier": customer.tier, "status": customer.status,
            "opened_on": customer.opened_on.isoformat() if customer.opened_on else None,
            "last_trade_on": customer.last_trade_on.isoformat() if customer.last_trade_on else None,
        },
        "consent": consent,
        "addresses": addresses,
        "conversation": await _conversation(session, customer.id, zone),
        "calls": await _calls(session, callback_id, zone),
        "earlier_callbacks": await _earlier(session, customer.id, callback_id, zone),
        "script": {"steps": list(script.steps),
                   "points": [{"code": p.code, "question": p.en if customer.locale == "en" else p.zh}
                              for p in script.points]},
    }


async def reveal_contact(session: AsyncSession, callback_id: int, staff: Staff) -> dict[str, str]:
    """The full phone number and name, for the agent holding the callback or for compliance;
    each reveal is an event (who, when, which callback)."""
    callback, customer = await readable_callback(session, callback_id, staff)
    if not (holds(staff, callback) or staff.role == "compliance"):
        raise NotAllowed("only the agent holding this callback, or compliance, sees the number")
    events.record(session, "contact.revealed",
                  f"phone {mask_phone(customer.phone)} revealed to {staff.username} "
                  f"(callback {callback.id})", customer_id=customer.id,
                  branch_code=callback.branch_code, actor=staff.username, channel="phone",
                  payload={"callback_id": callback.id})
    return {"phone": customer.phone or "", "name": customer.name}


async def _callback_kind(session: AsyncSession, callback: Callback) -> str | None:
    """What the callback is about: its linked touch's kind, else read from its reasons."""
    linked = (await session.exec(select(Touch.kind).where(Touch.callback_id == callback.id))).first()
    if linked:
        return linked
    reasons = " ".join(json.loads(callback.reasons))
    for kind in ("new_account", "dormancy", "complaint"):
        if kind in reasons:
            return kind
    return None


async def _conversation(session: AsyncSession, customer_id: str,
                        zone: ZoneInfo) -> list[dict[str, Any]]:
    """Every message in and out, oldest first, in full; replies with their intent and cues."""
    cues: dict[str, list[str]] = {}
    for event in (await session.exec(select(Event).where(
            Event.customer_id == customer_id, Event.type == "reply.classified"))).all():
        payload = json.loads(event.payload or "{}")
        cues[payload.get("message_id", "")] = list(payload.get("why", []))
    rows = (await session.exec(select(Message).where(Message.customer_id == customer_id)
                               .order_by(col(Message.created_at), col(Message.id)))).all()
    return [{"message_id": m.id, "at": _iso(m.created_at, zone), "direction": m.direction,
             "channel": m.channel, "subject": m.subject, "text": m.body, "status": m.status,
             "intent": m.intent, "confidence": m.confidence, "cues": cues.get(m.id, []),
             "needs_review": m.needs_review} for m in rows]


def _call(attempt: CallbackAttempt, agent: Staff, zone: ZoneInfo) -> dict[str, Any]:
    return {"at": _iso(attempt.at, zone), "agent": agent.username, "outcome": attempt.outcome,
            "identity": attempt.identity, "dialled": mask_phone(attempt.dialled),
            "recording_ref": attempt.recording_ref, "notes": attempt.notes,
            "follow_up_at": _iso(attempt.follow_up_at, zone)}


def _attempts() -> Any:
    return (select(CallbackAttempt, Staff).join(Staff, col(Staff.id) == CallbackAttempt.staff_id)
            .order_by(col(CallbackAttempt.at), col(CallbackAttempt.id)))


async def _calls(session: AsyncSession, callback_id: int, zone: ZoneInfo) -> list[dict[str, Any]]:
    rows = (await session.exec(_attempts().where(CallbackAttempt.callback_id == callback_id))).all()
    return [_call(a, s, zone) for a, s in rows]


async def _earlier(session: AsyncSession, customer_id: str, callback_id: int,
                   zone: ZoneInfo) -> list[dict[str, Any]]:
    """The customer's other callbacks, newest first, each with its calls: two queries
    however many there are (a customer of twenty years may have dozens)."""
    others = (Callback.customer_id == customer_id, Callback.id != callback_id)
    rows = (await session.exec(select(Callback).where(*others)
                               .order_by(col(Callback.created_at).desc()))).all()
    calls: dict[int | None, list[dict[str, Any]]] = {c.id: [] for c in rows}
    if rows:
        attempts = _attempts().join(Callback, col(Callback.id) == CallbackAttempt.callback_id)
        for attempt, agent in (await session.exec(attempts.where(*others))).all():
            calls[attempt.callback_id].append(_call(attempt, agent, zone))
    return [{"callback_id": c.id, "status": c.status, "outcome": c.outcome,
             "reasons": json.loads(c.reasons), "opened_at": _iso(c.created_at, zone),
             "closed_at": _iso(c.closed_at, zone), "calls": calls[c.id]} for c in rows]
