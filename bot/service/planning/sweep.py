"""Sweep: silence past a reply deadline becomes a callback; a closed window ends a greeting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import Bundle, Customer, Touch
from bot.domain.rules import GREETING_KINDS, REPLY_EXPECTED_KINDS
from bot.service import events
from bot.service.callbacks import open_or_join
from bot.service.planning.context import BranchGroup, load_calendar, load_groups

WENT_OUT = ("sent", "delivered", "unknown")  # unknown: it may have gone; silence still ends in a callback


async def mark_unanswered(session: AsyncSession, now: datetime) -> int:
    """Touches that expected a reply and got none by the deadline: `unanswered` + P2 callback."""
    rows = (await session.exec(
        select(Touch, Customer).join(Customer, col(Customer.id) == Touch.customer_id).where(
            col(Touch.kind).in_(sorted(REPLY_EXPECTED_KINDS)),
            col(Touch.status).in_(WENT_OUT),
            col(Touch.reply_deadline) < now,
        ))).all()
    for touch, customer in rows:
        touch.status, touch.updated_at = "unanswered", now
        callback = await open_or_join(session, customer, "P2", f"unanswered_{touch.kind}",
                                      touch.sla_due_at or now)
        touch.callback_id = callback.id
        session.add(touch)
        events.record(session, "touch.unanswered", f"{touch.kind}: no reply by the deadline",
                      customer_id=customer.id, branch_code=customer.branch_code,
                      payload={"touch_id": touch.id, "callback_id": callback.id})
    return len(rows)


async def close_windows(session: AsyncSession, now: datetime,
                        reply_days: dict[str, int] | None = None) -> int:
    """Bundles still unsent when their day's send window closed: greetings expire
    (never late), callback-type touches move to the next working day."""
    calendar = await load_calendar(session)
    closed = 0
    for group in await load_groups(session):
        for bundle in await _unsent_after_window(session, group, now):
            members = (await session.exec(select(Touch).where(
                Touch.bundle_id == bundle.id, Touch.status == "planned"))).all()
            for touch in members:
                if touch.kind in GREETING_KINDS:
                    touch.status, touch.reason = "expired", "window_closed"
                else:
                    touch.bundle_id = None
                    touch.due_on = calendar.next_working_day(bundle.local_date)
                    touch.due_at = group.window_utc(touch.due_on)[0]
                    days = (reply_days or {}).get(touch.kind, 2)
                    touch.reply_deadline = group.end_of_day(
                        calendar, calendar.add_working_days(touch.due_on, days))
                touch.updated_at = now
                session.add(touch)
            bundle.status, bundle.reason, bundle.updated_at = "expired", "window_closed", now
            session.add(bundle)
            closed += 1
    return closed


async def _unsent_after_window(
    session: AsyncSession, group: BranchGroup, now: datetime
) -> list[Bundle]:
    """Planned bundles of this group whose local day's window has ended."""
    local = now.astimezone(ZoneInfo(group.timezone))
    ended_today = local.time() >= group.send_window.end
    last_closed_day = local.date() if ended_today else local.date() - timedelta(days=1)
    return list((await session.exec(
        select(Bundle).join(Customer, col(Customer.id) == Bundle.customer_id).where(
            Bundle.status == "planned",
            col(Bundle.local_date) <= last_closed_day,
            col(Customer.branch_code).in_(group.codes),
        ))).all())


async def sweep(session: AsyncSession, now: datetime | None = None,
                reply_days: dict[str, int] | None = None) -> dict[str, int]:
    """One sweep tick; the caller commits."""
    now = now or datetime.now(UTC)
    result = {"unanswered": await mark_unanswered(session, now),
              "expired_bundles": await close_windows(session, now, reply_days)}
    await session.flush()
    return result

