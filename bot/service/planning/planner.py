"""Plan one day: every rule as set-based SQL, then callbacks, bundles and the plan_run mark."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.sqltypes import UTCDateTime

from bot.db import engine
from bot.db.models import Customer, PlanRun, Touch
from bot.domain.festivals import greetings_due_on
from bot.domain.kinds import CALLBACK_TYPE_KINDS
from bot.domain.rules import birthday_key, holiday_key
from bot.service.callbacks.opening import open_or_join
from bot.service.planning import bundling, staging
from bot.service.planning.context import BranchGroup, PlanContext
from bot.service.planning.rules_sql import C, T, status_and_reason, touch_select
from bot.service.planning.sqlbits import (
    case_map,
    date_text,
    execute,
    hold_planning_lock,
    month_day,
)
from bot.settings import Settings

PLANNER_WAIT_MS = 600_000  # SQLite: how long a planner waits for another to finish
FRESH_STATISTICS_AFTER = 10_000  # PostgreSQL: touches written before statistics are refreshed


@dataclass
class PlanResult:
    """What planning a day produced, in the shape `plan --json` prints."""

    day: date
    dry_run: bool
    by_kind: dict[str, dict[str, int]] = field(default_factory=dict)
    skipped_backfill: int = 0
    capacity: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"date": self.day.isoformat(), "dry_run": self.dry_run, "by_kind": self.by_kind,
                "skipped_backfill": self.skipped_backfill, "capacity": self.capacity}


class Planner:
    """Runs the rules for one day inside the caller's transaction."""

    def __init__(self, session: AsyncSession, settings: Settings, ctx: PlanContext) -> None:
        self.session = session
        self.settings = settings
        self.ctx = ctx
        self.dialect = session.bind.dialect.name if session.bind else "sqlite"
        self.skipped = 0

    async def _insert(self, select_stmt: sa.Select[Any]) -> int:
        """Stage a rule's rows (those without a touch of that dedupe key yet)."""
        key = select_stmt.selected_columns[2]
        result = await execute(self.session,
                               staging.stage_ignoring_existing(select_stmt, key, C.c.id))
        return max(getattr(result, "rowcount", 0) or 0, 0)

    async def _lock(self) -> None:
        """One planner at a time; on PostgreSQL also fresh statistics where they went stale
        (stale ones turn the correlated checks quadratic)."""
        if self.dialect != "postgresql":
            # Take SQLite's write lock first: staging writes only the temporary database, and
            # a later upgrade to writing could fail instead. Another planner may hold it for
            # as long as a big day takes (~25 s for a million customers' holiday), so wait
            # longer than other writers do, then go back to the usual timeout.
            await execute(self.session, sa.text(f"PRAGMA busy_timeout = {PLANNER_WAIT_MS}"))
            try:
                await execute(self.session, sa.text("UPDATE planrun SET day = day WHERE 1 = 0"))
            finally:
                await execute(self.session, sa.text(
                    f"PRAGMA busy_timeout = {engine.SQLITE_BUSY_TIMEOUT_MS}"))
            return
        await hold_planning_lock(self.session)
        stale = await execute(self.session, sa.text(
            "SELECT relname FROM pg_stat_user_tables WHERE relname IN ('customer', 'touch', "
            "'bundle') AND n_mod_since_analyze > 0.1 * greatest(n_live_tup, 1000)"))
        for (table,) in stale.all():
            await execute(self.session, sa.text(f"ANALYZE {table}"))

    def _status(self, kind: str) -> Any:
        return status_and_reason(kind, day=self.ctx.day, past=self.ctx.past,
                                 assume_consent=self.settings.assume_consent,
                                 cap=self.settings.callback_cap_per_quarter)

    async def birthdays(self, group: BranchGroup) -> None:
        """On the day; 29 February falls on 28 February in other years."""
        day = self.ctx.day
        days = [day.strftime("%m-%d")]
        if (day.month, day.day) == (2, 28) and not _leap(day.year):
            days.append("02-29")
        await self._insert(touch_select(
            kind="birthday", codes=group.codes,
            where=[C.c.birthday.is_not(None), month_day(self.dialect, C.c.birthday).in_(days)],
            dedupe_key=birthday_key(day.year), due_on=day, due_at=group.window_utc(day)[0],
            reply_deadline=sa.null(), sla_due_at=sa.null(), status=self._status("birthday"),
            now=self.ctx.now,
        ))

    async def holidays(self, group: BranchGroup) -> None:
        """The branch's enabled festivals whose greeting day is this day."""
        day = self.ctx.day
        due = _greetings_due(self.ctx, group)
        for code, year in sorted(due.items()):
            await self._insert(touch_select(
                kind="holiday", codes=group.codes, where=[],
                dedupe_key=holiday_key(code, year), due_on=day, due_at=group.window_utc(day)[0],
                reply_deadline=sa.null(), sla_due_at=sa.null(), status=self._status("holiday"),
                now=self.ctx.now, festival=code,
            ))

    async def new_accounts(self, group: BranchGroup) -> None:
        """Due the first working day after opening; late imports still within the SLA too."""
        cal, day, s = self.ctx.calendar, self.ctx.day, self.settings
        if not cal.is_working_day(day):
            return
        opened = []
        candidate = day - timedelta(days=1)
        while cal.add_working_days(candidate, s.new_account_sla_working_days) >= day:
            opened.append(candidate)
            candidate -= timedelta(days=1)
        if not opened:
            return
        due = self.ctx.effective_due()
        sla = {o: group.end_of_day(cal, cal.add_working_days(o, s.new_account_sla_working_days))
               for o in opened}
        reply = group.end_of_day(cal, cal.add_working_days(due, s.new_account_reply_working_days))
        await self._insert(touch_select(
            kind="new_account", codes=group.codes,
            where=[C.c.opened_on >= min(opened), C.c.opened_on <= max(opened)],
            dedupe_key="new_account", due_on=due, due_at=group.window_utc(due)[0],
            reply_deadline=sa.literal(reply, UTCDateTime()),
            sla_due_at=case_map(C.c.opened_on, sla, UTCDateTime()),
            status=self._status("new_account"), now=self.ctx.now,
        ))

    async def dormancy(self, group: BranchGroup) -> None:
        """Crossed 180 days without a trade: message the first working day after crossing.

        Crossings older than the backfill window that were never planned (the first run,
        or customers imported later) get one `skipped_backfill` row instead.
        """
        cal, day, s = self.ctx.calendar, self.ctx.day, self.settings
        activity = sa.func.coalesce(C.c.last_trade_on, C.c.opened_on)
        key = sa.literal("dormancy:") + date_text(self.dialect, activity)
        oldest_crossing = day - timedelta(days=s.dormancy_backfill_days)
        old_activity = oldest_crossing - timedelta(days=s.dormancy_days)
        self.skipped += await self._insert(touch_select(
            kind="dormancy", codes=group.codes, where=[activity < old_activity],
            dedupe_key=key, due_on=day, due_at=group.window_utc(day)[0],
            reply_deadline=sa.null(), sla_due_at=sa.null(),
            status=(sa.literal("skipped_backfill"), sa.literal("first_seen_after_backfill_window")),
            now=self.ctx.now,
        ))
        if not cal.is_working_day(day):
            return
        due = self.ctx.effective_due()
        activities = [old_activity + timedelta(days=i) for i in range((day - oldest_crossing).days)]
        sla = {a: group.end_of_day(cal, cal.add_working_days(
            a + timedelta(days=s.dormancy_days), s.dormancy_due_working_days)) for a in activities}
        reply = group.end_of_day(cal, cal.add_working_days(due, s.dormancy_reply_working_days))
        await self._insert(touch_select(
            kind="dormancy", codes=group.codes,
            where=[activity >= old_activity, activity <= day - timedelta(days=s.dormancy_days + 1)],
            dedupe_key=key, due_on=due, due_at=group.window_utc(due)[0],
            reply_deadline=sa.literal(reply, UTCDateTime()),
            sla_due_at=case_map(activity, sla, UTCDateTime()),
            status=self._status("dormancy"), now=self.ctx.now,
        ))

    async def human_callbacks(self) -> None:
        """Callback-type touches that cannot be messaged go straight to a person."""
        rows = (await self.session.exec(
            select(Touch, Customer).join(Customer, col(Customer.id) == Touch.customer_id).where(
                col(Touch.kind).in_(sorted(CALLBACK_TYPE_KINDS)),
                col(Touch.status).in_(("escalated", "no_channel")),
                col(Touch.callback_id).is_(None),
            ).order_by(col(Touch.id)))).all()
        for touch, customer in rows:
            sla = touch.sla_due_at or self.ctx.now
            callback = await open_or_join(self.session, customer, "P2",
                                          f"{touch.kind}_{touch.reason or touch.status}", sla)
            touch.callback_id = callback.id
            self.session.add(touch)

    async def run(self, dry_run: bool) -> PlanResult:
        """Plan the day; in a dry run the caller rolls the transaction back."""
        await self._lock()
        await staging.create(self.session)
        for group in self.ctx.groups:
            await self.birthdays(group)
            await self.holidays(group)
            await self.new_accounts(group)
            await self.dormancy(group)
        written = await staging.write(self.session, self.dialect, self.ctx.day, self.ctx.now,
                                      bundle=not self.ctx.past)
        await staging.drop(self.session)
        if self.dialect == "postgresql" and written > FRESH_STATISTICS_AFTER:
            # The rows just written are not in the statistics: with stale ones the day's
            # counts and the capacity estimate look them up one index probe at a time
            # (2.9 s instead of 0.6 s for a million touches; ANALYZE takes 0.3 s).
            await execute(self.session, sa.text("ANALYZE touch, bundle"))
        await self.human_callbacks()
        if not self.ctx.past:
            await bundling.bundle_day(self.session, self.ctx, self.dialect)
        first = (await self.session.exec(select(sa.func.count()).select_from(PlanRun))).one() == 0
        # Only days that have come are marked planned: a future day planned ahead (a preview)
        # is planned again on the day, so customers imported meanwhile are not missed.
        if self.ctx.day <= self.ctx.today and await self.session.get(PlanRun, self.ctx.day) is None:
            self.session.add(PlanRun(day=self.ctx.day, first_run=first))
        await self.session.flush()
        result = PlanResult(self.ctx.day, dry_run, skipped_backfill=self.skipped,
                            warnings=list(self.ctx.warnings))
        counts = await execute(self.session,
            sa.select(T.c.kind, T.c.status, sa.func.count())
            .where(T.c.due_on == self.ctx.day).group_by(T.c.kind, T.c.status))
        for kind, status, n in counts:
            result.by_kind.setdefault(kind, {})[status] = n
        return result


def _greetings_due(ctx: PlanContext, group: BranchGroup) -> dict[str, int]:
    return greetings_due_on(ctx.day, group.festivals, ctx.calendar, ctx.lunar_to_solar, group.offset)


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
