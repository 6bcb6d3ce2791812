"""The human callback queue: list, claim next (atomic), hold, release, expire stale claims."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.locks import hold_xact_lock
from bot.db.models import Branch, Callback, Customer, Staff, table, utcnow
from bot.domain.access import callback_work_refusal
from bot.domain.calendar import WorkingCalendar
from bot.domain.callbacks import OPEN_STATUSES, PRIORITIES
from bot.domain.masking import mask_phone
from bot.domain.rules import next_call_slot
from bot.service import events
from bot.service.calendar import load_calendar
from bot.service.callbacks.errors import NotAllowed, NotFound, NotHeld, TooManyHeld
from bot.settings import Settings

CB = table(Callback)
CU = table(Customer)


def may_work(staff: Staff) -> None:
    """Only callback staff outside the marketing sequence claim and record (独立性原则)."""
    refusal = callback_work_refusal(staff)
    if refusal:
        raise NotAllowed(refusal)


def _priority_order() -> Any:
    """"P0" < "P1" < "P2" < "P3" as text, so the column itself orders the queue and the
    index `ix_callback_queue` (branch, priority, SLA) serves it without sorting."""
    assert list(PRIORITIES) == sorted(PRIORITIES)
    return CB.c.priority


def _claimable(staff: Staff, now: datetime) -> sa.Select[int]:
    query = (
        sa.select(CB.c.id).select_from(CB.join(CU, CU.c.id == CB.c.customer_id))
        .where(CB.c.status == "open", sa.or_(CB.c.due_at.is_(None), CB.c.due_at <= now),
               sa.or_(CU.c.sales_rep.is_(None), CU.c.sales_rep != staff.username))
        .order_by(_priority_order(), CB.c.sla_due_at, CB.c.id)
    )
    if staff.role == "agent":
        query = query.where(CB.c.branch_code == staff.branch_code)
    return query


async def claim_next(engine: AsyncEngine, staff: Staff, settings: Settings,
                     now: datetime | None = None) -> int | None:
    """Atomically take the most urgent open callback this agent may work; None if none."""
    may_work(staff)
    now = now or utcnow()
    async with engine.begin() as conn:
        # Count + claim must be atomic per agent: concurrent claims by the same agent
        # queue here (released at commit) so AGENT_MAX_HELD cannot be exceeded.
        await hold_xact_lock(conn, f"agent:{staff.id}")
        held = (await conn.execute(sa.select(sa.func.count()).select_from(CB).where(
            CB.c.status == "claimed", CB.c.assignee_id == staff.id))).scalar_one()
        if held >= settings.agent_max_held:
            raise TooManyHeld(f"{staff.username} already holds {held} callbacks "
                             f"(at most {settings.agent_max_held}): record or release one first")
        values = {"status": "claimed", "assignee_id": staff.id, "claimed_at": now,
                  "touched_at": now, "updated_at": now}
        if engine.dialect.name == "postgresql":
            ids = (await conn.execute(_claimable(staff, now).limit(1).with_for_update(
                skip_locked=True, of=CB))).scalars().all()
            if not ids:
                return None
            await conn.execute(sa.update(CB).where(CB.c.id == ids[0]).values(**values))
            callback_id = ids[0]
        else:
            row = (await conn.execute(sa.update(CB).where(
                CB.c.id == _claimable(staff, now).limit(1).scalar_subquery()
            ).values(**values).returning(CB.c.id))).first()
            if row is None:
                return None
            callback_id = row.id
    async with _session(engine) as s:
        callback = await s.get(Callback, callback_id)
        assert callback is not None
        events.record(s, "callback.claimed", f"callback {callback_id} claimed by {staff.username}",
                      customer_id=callback.customer_id, branch_code=callback.branch_code,
                      actor=staff.username, payload={"callback_id": callback_id})
        await s.commit()
    return callback_id


def _session(engine: AsyncEngine) -> AsyncSession:
    return AsyncSession(engine, expire_on_commit=False)


async def held_by(session: AsyncSession, callback_id: int, staff: Staff) -> Callback:
    """The callback, if this agent holds it; NotFound or NotHeld otherwise."""
    callback = await session.get(Callback, callback_id)
    if callback is None:
        raise NotFound(f"no callback {callback_id}")
    if callback.status != "claimed" or callback.assignee_id != staff.id:
        raise NotHeld(f"callback {callback_id} is not held by {staff.username}")
    return callback


async def held_callbacks(session: AsyncSession, staff: Staff) -> list[Callback]:
    """The callbacks this agent holds now, most urgent first."""
    return list((await session.exec(select(Callback).where(
        Callback.status == "claimed", Callback.assignee_id == staff.id)
        .order_by(_priority_order(), col(Callback.sla_due_at)))).all())


async def release(session: AsyncSession, callback_id: int, staff: Staff) -> None:
    """Give a held callback back to the queue."""
    callback = await held_by(session, callback_id, staff)
    callback.status, callback.assignee_id, callback.claimed_at = "open", None, None
    callback.updated_at = utcnow()
    session.add(callback)
    events.record(session, "callback.released", f"callback {callback_id} released",
                  customer_id=callback.customer_id, branch_code=callback.branch_code,
                  actor=staff.username, payload={"callback_id": callback_id})


async def still_working(session: AsyncSession, callback_id: int, staff: Staff) -> None:
    """Keep a claim alive past CLAIM_TIMEOUT_MINUTES."""
    callback = await held_by(session, callback_id, staff)
    callback.touched_at = utcnow()
    session.add(callback)


async def expire_claims(engine: AsyncEngine, settings: Settings, now: datetime | None = None) -> int:
    """Claims nobody touched for CLAIM_TIMEOUT_MINUTES go back to the queue."""
    now = now or utcnow()
    limit = now - timedelta(minutes=settings.claim_timeout_minutes)
    async with engine.begin() as conn:
        result = await conn.execute(sa.update(CB).where(
            CB.c.status == "claimed", sa.func.coalesce(CB.c.touched_at, CB.c.claimed_at) < limit,
        ).values(status="open", assignee_id=None, claimed_at=None, updated_at=now))
        return result.rowcount or 0


def suggested_call(callback: Callback, tz: str, calendar: WorkingCalendar,
                   now: datetime) -> tuple[datetime, datetime | None, bool]:
    """When to call: (from, until, asked by the customer). The time the customer asked for
    ("下周一上午十点再打给我") is kept as it is, evenings included; otherwise the next call
    window of the script (话术建议时段) from when the callback is due.

    A P0 (the customer denies an operation: a possible fraud) whose SLA would pass before the
    next call window is to be called now, within its SLA, whatever the hour: the customer
    has just written to us about it, and a fraud does not wait for the morning (DOMAIN.md:
    evening calls only by appointment; this is the customer's own urgent matter)."""
    asked = callback.due_at is not None and any(
        r.startswith("reschedule") for r in json.loads(callback.reasons))
    if asked and callback.due_at is not None and callback.due_at >= now:
        return callback.due_at, None, True
    due = max(now, callback.due_at or now)
    start, end = next_call_slot(due, tz, calendar)
    if callback.priority == "P0" and start > callback.sla_due_at > due:
        return due, callback.sla_due_at, False
    return start, end, False


async def queue_view(session: AsyncSession, branch: str | None, now: datetime | None = None,
                     tz: str = "Asia/Shanghai", call_windows: bool = False,
                     viewer: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """Open callbacks, most urgent first, in the `queue --json` shape of DESIGN.md;
    each item says when to call (`suggested_call`); `call_windows` adds it as text too.
    `viewer` (a staff username) hides the customers whose sales_rep they are (独立性原则);
    `limit` keeps the most urgent few (the console's page), ordered by the database."""
    now = now or utcnow()
    query = (select(Callback, Customer, Staff)
             .join(Customer, col(Customer.id) == Callback.customer_id)
             .join(Staff, col(Staff.id) == Callback.assignee_id, isouter=True)
             .where(col(Callback.status).in_(OPEN_STATUSES)))
    if branch:
        query = query.where(Callback.branch_code == branch)
    if viewer:
        query = query.where(sa.or_(col(Customer.sales_rep).is_(None),
                                   col(Customer.sales_rep) != viewer))
    query = query.order_by(_priority_order(), col(Callback.sla_due_at), col(Callback.id))
    rows = (await session.exec(query.limit(limit) if limit else query)).all()
    # Times are shown, and call windows found, in each branch's own time zone (`tz` is the
    # fallback for a branch without one).
    zones = {code: zone or tz for code, zone in (await session.exec(
        select(Branch.code, Branch.timezone))).all()}
    calendar = await load_calendar(session)
    items = []
    for cb, cu, st in rows:
        branch_tz = zones.get(cb.branch_code) or tz
        zone = ZoneInfo(branch_tz)
        item: dict[str, Any] = {
            "callback_id": cb.id, "customer_id": cu.id, "branch": cb.branch_code,
            "priority": cb.priority, "reasons": json.loads(cb.reasons),
            "sla_due_at": cb.sla_due_at.astimezone(zone).isoformat(),
            "breached": cb.sla_due_at < now, "status": cb.status,
            "assignee": st.username if st else None, "phone": mask_phone(cu.phone),
        }
        start, end, asked = suggested_call(cb, branch_tz, calendar, now)
        item["suggested_call_at"] = start.astimezone(zone).isoformat()
        item["asked_by_customer"] = asked
        if call_windows:
            until = f"–{end.astimezone(zone):%H:%M}" if end else " (客户约定 / asked)"
            item["call_window"] = f"{start.astimezone(zone):%Y-%m-%d %H:%M}{until}"
        items.append(item)
    return items
