"""Recording a call: the outcome moves the callback on (done, again later, or unreachable)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import Branch, Callback, CallbackAttempt, Customer, Staff, Touch, utcnow
from bot.domain.escalation import TABLE, sla_due
from bot.domain.masking import mask_phone
from bot.domain.rules import next_call_slot, parse_window
from bot.domain.scripts import NEW_ACCOUNT_POINTS
from bot.domain.text import unstorable
from bot.service import events
from bot.service.calendar import load_calendar
from bot.service.callbacks.errors import BadOutcome
from bot.service.callbacks.queue import held_by
from bot.service.customers.addresses import mark_unusable
from bot.settings import Settings

OUTCOMES = ("resolved", "follow_up", "no_answer", "wrong_number", "complaint_registered")
IDENTITY = ("customer", "authorised_agent", "not_verified")
VERIFIED = ("customer", "authorised_agent")
METHODS = ("phone", "sms", "email", "visit")
MAX_NO_ANSWER = 3


@dataclass
class CallOutcome:
    """What the agent records after a call."""

    outcome: str
    dialled: str | None = None
    recording_ref: str | None = None
    identity: str = "not_verified"
    notes: str | None = None
    follow_up_at: datetime | None = None
    method: str = "phone"
    #: New-account compliance points answered (code → yes/no); a "no" flags the callback.
    answers: dict[str, bool] = field(default_factory=dict)


def check_outcome(result: CallOutcome, branch: Branch, now: datetime) -> None:
    """BadOutcome with the reason, for a call record compliance could not accept."""
    for name in ("outcome", "dialled", "recording_ref", "identity", "notes", "method"):
        problem = unstorable(getattr(result, name) or "")
        if problem:
            raise BadOutcome(f"{name}: {problem} cannot be stored")
    if result.outcome not in OUTCOMES:
        raise BadOutcome(f"outcome {result.outcome!r}: choose one of {', '.join(OUTCOMES)}")
    if result.identity not in IDENTITY:
        raise BadOutcome(f"identity {result.identity!r}: choose one of {', '.join(IDENTITY)}")
    if result.method not in METHODS:
        raise BadOutcome(f"method {result.method!r}: choose one of {', '.join(METHODS)}")
    unknown = set(result.answers) - {p.code for p in NEW_ACCOUNT_POINTS}
    if unknown:
        raise BadOutcome(f"unknown compliance point(s): {', '.join(sorted(unknown))}")
    spoke = result.method in ("phone", "visit") and result.outcome != "no_answer"
    if branch.recording_ref_required and spoke and result.method == "phone" and not result.recording_ref:
        raise BadOutcome(f"branch {branch.code} requires the call-recording reference")
    if result.method == "phone" and not (result.dialled or "").strip():
        raise BadOutcome("a phone call needs the number dialled")
    if result.outcome == "resolved" and result.identity not in VERIFIED:
        raise BadOutcome("resolved needs the identity verified (customer or authorised agent)")
    if result.outcome == "follow_up" and result.follow_up_at is None:
        raise BadOutcome("follow_up needs the agreed time")
    if result.follow_up_at is not None:
        if result.follow_up_at.utcoffset() is None:
            raise BadOutcome("follow_up_at needs a time zone (e.g. 2030-03-04T10:00:00+08:00)")
        if not now - timedelta(minutes=5) <= result.follow_up_at <= now + timedelta(days=366):
            raise BadOutcome("follow_up_at must be a time within the coming year, not in the past")


async def record_outcome(session: AsyncSession, callback_id: int, staff: Staff, result: CallOutcome,
                         settings: Settings, now: datetime | None = None) -> Callback:
    """Record a call and move the callback on; every outcome is an event in the timeline."""
    now = now or utcnow()
    callback = await held_by(session, callback_id, staff)
    branch = await session.get(Branch, callback.branch_code)
    customer = await session.get(Customer, callback.customer_id)
    assert branch is not None and customer is not None
    check_outcome(result, branch, now)
    session.add(CallbackAttempt(callback_id=callback_id, staff_id=staff.id,  # type: ignore[arg-type]
                                outcome=result.outcome, dialled=result.dialled,
                                recording_ref=result.recording_ref, identity=result.identity,
                                notes=result.notes, follow_up_at=result.follow_up_at, at=now,
                                method=result.method,
                                answers=json.dumps(result.answers) if result.answers else None))
    callback.assignee_id, callback.claimed_at, callback.updated_at = None, None, now
    refused = sorted(code for code, yes in result.answers.items() if not yes)
    if refused:
        callback.compliance_flag = True
        events.record(session, "callback.compliance_flag",
                      f"new-account check answered no: {', '.join(refused)}",
                      customer_id=customer.id, branch_code=branch.code, actor=staff.username,
                      payload={"callback_id": callback_id, "points": refused})
    if result.outcome == "follow_up":
        # The customer agreed a time: like a reschedule, it is due then and must be done
        # within a working hour of it (the first-contact SLA no longer applies).
        assert result.follow_up_at is not None
        calendar = await load_calendar(session)
        opening, closing = parse_window(branch.working_hours)
        callback.status, callback.due_at = "open", result.follow_up_at
        callback.sla_due_at = sla_due(TABLE["reschedule"], result.follow_up_at, calendar,
                                      branch.timezone, (opening, closing))
    elif result.outcome == "no_answer":
        callback.attempts += 1
        if callback.attempts >= MAX_NO_ANSWER:
            callback.status, callback.closed_at = "unreachable", now
            callback.compliance_flag = await _concerns_new_account(session, callback)
        else:
            # Not again in this window: the next call window after it (话术建议时段).
            calendar = await load_calendar(session)
            start, end = next_call_slot(now, branch.timezone, calendar)
            if start <= now:
                start, _ = next_call_slot(end, branch.timezone, calendar)
            callback.status, callback.due_at = "open", start
    else:
        callback.status, callback.closed_at, callback.outcome = "done", now, result.outcome
        if result.outcome == "wrong_number" and customer.phone:
            await mark_unusable(session, "sms", customer.phone, "wrong_number",
                               customer_id=customer.id)
    session.add(callback)
    events.record(
        session, "callback.outcome",
        f"{result.outcome} ({result.identity})" + (f": {result.notes}" if result.notes else ""),
        customer_id=customer.id, branch_code=branch.code, actor=staff.username, channel="phone",
        payload={"callback_id": callback_id, "outcome": result.outcome, "method": result.method,
                 "dialled": mask_phone(result.dialled), "recording_ref": result.recording_ref,
                 "identity": result.identity, "status": callback.status})
    return callback


async def _concerns_new_account(session: AsyncSession, callback: Callback) -> bool:
    """Whether a callback is about a new account: any reason naming it (the planner's
    "new_account_opted_out", the sweep's "unanswered_new_account", …) or a linked
    new_account touch (a reply that opened it carries only its intent as reason)."""
    if any("new_account" in r for r in json.loads(callback.reasons)):
        return True
    linked = (await session.exec(select(Touch.id).where(
        Touch.callback_id == callback.id, Touch.kind == "new_account"))).first()
    return linked is not None
