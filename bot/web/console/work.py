"""The agent's pages: the queue (claim next, what I hold, new P0 without a reload) and one
callback (the customer's words and ours, the script, reveal, the outcome form).

The pages call the same service functions as the JSON API (`bot.service.callbacks`), so
who may see and do what is decided once.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.db.models import Alert, Staff
from bot.domain.access import branch_scope, callback_work_refusal
from bot.domain.scripts import NEW_ACCOUNT_POINTS
from bot.service.callbacks.detail import callback_detail, reveal_contact
from bot.service.callbacks.errors import NotFound, QueueError
from bot.service.callbacks.outcomes import IDENTITY, METHODS, OUTCOMES, CallOutcome, record_outcome
from bot.service.callbacks.queue import (
    claim_next,
    held_callbacks,
    queue_view,
    release,
    still_working,
)
from bot.service.dispatch import alerts
from bot.web.console.deps import CurrentConsoleStaff, Now, console_config, console_lang, render
from bot.web.console.i18n import STRINGS

router = APIRouter()


def labeller(lang: str) -> Any:
    """`label(kind, code)`: a code (intent, reason, outcome, identity) in words, else as is;
    a reason's detail after ":" is kept ("reschedule: 明天上午 → …")."""
    def label(kind: str, code: str | None) -> str:
        if not code:
            return ""
        head, sep, tail = code.partition(":")
        for key in (f"{kind}.{head}", f"intent.{head}"):
            if key in STRINGS:
                return STRINGS[key][0 if lang != "en" else 1] + (sep + tail if sep else "")
        return code
    return label
#: The most urgent rows the queue page shows (the rest follow as these are worked).
QUEUE_ROWS = 200
Field = Annotated[str, Form()]


async def _queue(request: Request, staff: Staff, now: datetime) -> dict[str, Any]:
    scope, refusal = branch_scope(staff, None)
    config = console_config(request)
    rows: list[dict[str, Any]] = []
    async with config.app.sessions() as db:
        if refusal is None:
            rows = await queue_view(db, scope, now, tz=config.app.settings.timezone,
                                    call_windows=True, viewer=staff.username, limit=QUEUE_ROWS)
        mine = await held_callbacks(db, staff)
        undelivered = await alerts.waiting(db, scope) if refusal is None else []
    lang = console_lang(request)
    for row in rows:
        row["left"] = _left(datetime.fromisoformat(row["sla_due_at"]) - now, lang)
    held = [{"callback_id": c.id, "priority": c.priority, "reasons": json.loads(c.reasons)}
            for c in mine]
    return {"label": labeller(lang), "rows": rows, "mine": held, "may_work": _may_work(staff),
            "now": now, "p0": [r["callback_id"] for r in rows if r["priority"] == "P0"],
            "alerts": [_alert_row(a, config.app.settings.timezone) for a in undelivered]}


def _alert_row(alert: Alert, tz: str) -> dict[str, Any]:
    return {"id": alert.id, "branch": alert.branch_code, "customer": alert.customer_id,
            "at": alert.created_at.astimezone(ZoneInfo(tz)).strftime("%m-%d %H:%M")}


@router.post("/alerts/{alert_id}/acknowledge")
async def acknowledge_alert(request: Request, alert_id: int, staff: CurrentConsoleStaff,
                            now: Now) -> Response:
    """Someone told the manager another way: the banner goes (an event with the actor)."""
    scope, refusal = branch_scope(staff, None)
    if refusal is None:
        async with console_config(request).app.sessions() as db:
            if await alerts.acknowledge(db, alert_id, staff.username, scope, now):
                await db.commit()
    return RedirectResponse("/console/queue", status_code=303)


@router.get("/queue", response_class=HTMLResponse)
async def queue_page(request: Request, staff: CurrentConsoleStaff, now: Now) -> HTMLResponse:
    """The open callbacks in this person's scope, most urgent first, and what they hold."""
    return render(request, "queue.html", **await _queue(request, staff, now))


@router.get("/queue/rows", response_class=HTMLResponse)
async def queue_rows(request: Request, staff: CurrentConsoleStaff, now: Now) -> HTMLResponse:
    """The queue's table alone, for the page's own refresh every few seconds."""
    return render(request, "queue_rows.html", **await _queue(request, staff, now))


@router.post("/queue/claim")
async def claim(request: Request, staff: CurrentConsoleStaff, now: Now) -> Response:
    """Claim the most urgent callback (the atomic claim) and open it."""
    config = console_config(request)
    try:
        callback_id = await claim_next(config.app.engine, staff, config.app.settings, now)
    except QueueError as exc:
        return render(request, "queue.html", status_code=409, problem=str(exc),
                      **await _queue(request, staff, now))
    if callback_id is None:
        return render(request, "queue.html", notice="queue.empty",
                      **await _queue(request, staff, now))
    return RedirectResponse(f"/console/callbacks/{callback_id}", status_code=303)


def _may_work(staff: Staff) -> bool:
    """Whether the pages offer claiming and the outcome form: only to callback staff (the
    service refuses anyone else; the pages say so rather than offer a button that fails)."""
    return callback_work_refusal(staff) is None


def _left(delta: timedelta, lang: str) -> str:
    """An SLA countdown as an agent reads it: 剩 1小时05分 / 超时 12分 (left 1 h 05 / 12 min over)."""
    minutes = int(abs(delta.total_seconds()) // 60)
    hours, mins = divmod(minutes, 60)
    span = (f"{hours}小时{mins:02d}分" if hours else f"{mins}分") if lang != "en" else (
        f"{hours} h {mins:02d}" if hours else f"{mins} min")
    if delta.total_seconds() >= 0:
        return f"剩 {span}" if lang != "en" else f"{span} left"
    return f"超时 {span}" if lang != "en" else f"{span} over"


async def _page(request: Request, staff: Staff, now: datetime, callback_id: int,
                status_code: int = 200, **extra: Any) -> HTMLResponse:
    config = console_config(request)
    try:
        async with config.app.sessions() as db:
            page = await callback_detail(db, callback_id, staff, config.app.settings, now)
            await db.commit()
    except QueueError as exc:
        return render(request, "refused.html", status_code=404 if isinstance(exc, NotFound)
                      else 403, problem=str(exc))
    zone = ZoneInfo(config.app.settings.timezone)
    return render(request, "callback.html", status_code=status_code, page=page,
                  label=labeller(console_lang(request)), may_work=_may_work(staff),
                  outcomes=OUTCOMES, identities=IDENTITY, methods=METHODS,
                  points=NEW_ACCOUNT_POINTS, today=now.astimezone(zone).date(), **extra)


@router.get("/callbacks/{callback_id}", response_class=HTMLResponse)
async def callback_page(request: Request, callback_id: int, staff: CurrentConsoleStaff,
                        now: Now) -> HTMLResponse:
    """Everything needed to make the call; opening it is recorded."""
    return await _page(request, staff, now, callback_id)


@router.post("/callbacks/{callback_id}/reveal", response_class=HTMLResponse)
async def reveal(request: Request, callback_id: int, staff: CurrentConsoleStaff,
                 now: Now) -> HTMLResponse:
    """The full number for the holder (or compliance); each reveal is recorded."""
    config = console_config(request)
    try:
        async with config.app.sessions() as db:
            contact = await reveal_contact(db, callback_id, staff)
            await db.commit()
    except QueueError as exc:
        return await _page(request, staff, now, callback_id, status_code=403, problem=str(exc))
    return await _page(request, staff, now, callback_id, revealed=contact)


@router.post("/callbacks/{callback_id}/outcome", response_class=HTMLResponse)
async def outcome(request: Request, callback_id: int, staff: CurrentConsoleStaff, now: Now,
                  result: Field = "", method: Field = "phone", dialled: Field = "",
                  recording_ref: Field = "", identity: Field = "not_verified",
                  notes: Field = "", follow_up_at: Field = "") -> Response:
    """Record the call; the callback moves on and the agent goes back to the queue."""
    form = await request.form()
    answers = {p.code: form.get(f"point_{p.code}") == "yes" for p in NEW_ACCOUNT_POINTS
               if form.get(f"point_{p.code}") in ("yes", "no")}
    config = console_config(request)
    try:
        when = (datetime.fromisoformat(follow_up_at).replace(
            tzinfo=ZoneInfo(config.app.settings.timezone)) if follow_up_at else None)
        call = CallOutcome(result, dialled=dialled or None, recording_ref=recording_ref or None,
                           identity=identity, notes=notes or None, follow_up_at=when,
                           method=method, answers=answers)
        async with config.app.sessions() as db:
            done = await record_outcome(db, callback_id, staff, call, config.app.settings, now)
            await db.commit()
    except (QueueError, ValueError) as exc:
        return await _page(request, staff, now, callback_id, status_code=422, problem=str(exc),
                           form=dict(form))
    return render(request, "queue.html", notice="outcome.saved", saved=done.status,
                  **await _queue(request, staff, now))


@router.post("/callbacks/{callback_id}/release")
async def give_back(request: Request, callback_id: int, staff: CurrentConsoleStaff,
                    now: Now) -> Response:
    """Give the callback back to the queue."""
    return await _hold_action(request, callback_id, staff, now, release)


@router.post("/callbacks/{callback_id}/still-working", response_class=HTMLResponse)
async def keep(request: Request, callback_id: int, staff: CurrentConsoleStaff,
               now: Now) -> Response:
    """Keep the claim past CLAIM_TIMEOUT_MINUTES."""
    return await _hold_action(request, callback_id, staff, now, still_working)


async def _hold_action(request: Request, callback_id: int, staff: Staff, now: datetime,
                       action: Any) -> Response:
    config = console_config(request)
    try:
        async with config.app.sessions() as db:
            await action(db, callback_id, staff)
            await db.commit()
    except QueueError as exc:
        return await _page(request, staff, now, callback_id, status_code=409, problem=str(exc))
    if action is release:
        return RedirectResponse("/console/queue", status_code=303)
    return await _page(request, staff, now, callback_id, notice="callback.kept")
