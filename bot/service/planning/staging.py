"""The day's new touches are staged first, then written once with their bundles.

Writing touches, then bundles, then attaching each touch to its bundle costs every touch
row a second version (and, on PostgreSQL, a second foreign-key check and five index
entries more). Staging the rules' rows in a temporary table lets planning build the
bundles from the staged rows and write each touch once, already in its bundle: on
PostgreSQL in one statement (the bundles' ids from INSERT … RETURNING), on SQLite in two
(each touch looks its new bundle up).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel.sql.sqltypes import UTCDateTime

from bot.domain.kinds import MARKETING_KINDS, REPLY_EXPECTED_KINDS
from bot.service.planning.rules_sql import TOUCH_COLUMNS, T
from bot.service.planning.sqlbits import execute, insert_ignoring

_META = sa.MetaData()

#: The rules' rows before they reach `touch` (one planning transaction; no indexes).
STAGED = sa.Table(
    "plan_staged", _META,
    *(sa.Column(c.name, c.type) for c in T.columns if c.name in TOUCH_COLUMNS),
    prefixes=["TEMPORARY"], postgresql_on_commit="DROP",
)


async def create(session: Any) -> None:
    """A fresh staging table for this transaction (dropped at its end)."""
    await drop(session)
    connection = await session.connection()
    await connection.run_sync(STAGED.create)


async def drop(session: Any) -> None:
    """SQLite keeps temporary tables for the connection's life: drop them when done.
    Schema-qualified, so a permanent table of the same name could never be dropped."""
    connection = await session.connection()
    schema = "pg_temp" if connection.dialect.name == "postgresql" else "temp"
    await connection.execute(sa.text(f"DROP TABLE IF EXISTS {schema}.{STAGED.name}"))


def stage_ignoring_existing(select_stmt: sa.Select[Any], dedupe_key: Any,
                            customer_id: Any) -> Any:
    """INSERT INTO staging the rule's rows whose (customer, dedupe key) has no touch yet."""
    exists = sa.exists().where(T.c.customer_id == customer_id, T.c.dedupe_key == dedupe_key)
    return STAGED.insert().from_select(TOUCH_COLUMNS, select_stmt.where(sa.not_(exists)))


def _flag(kinds: frozenset[str]) -> Any:
    return sa.func.max(sa.case((STAGED.c.kind.in_(sorted(kinds)), 1), else_=0)) == 1


BUNDLE_COLUMNS = ["customer_id", "local_date", "status", "due_at", "expects_reply",
                  "reply_deadline", "marketing", "attempts", "created_at", "updated_at"]
CONFLICT = ["customer_id", "dedupe_key"]


async def write(session: Any, dialect: str, day: date, now: datetime, bundle: bool) -> int:
    """Staged rows → `touch`; with `bundle`, today's planned touches go in one new bundle
    per customer. A customer who already has a bundle today is left to `bundle_day`
    (join a planned one, or expire/move on after a sent one). Returns touches written."""
    columns = [STAGED.c[name] for name in TOUCH_COLUMNS]
    if not bundle:
        rows = sa.select(*columns).where(sa.true())  # SQLite would read "ON CONFLICT" as a join's ON
        return _count(await execute(session, insert_ignoring(dialect, T, TOUCH_COLUMNS, rows,
                                                             CONFLICT)))
    bundle_table: sa.Table = T.metadata.tables["bundle"]
    planned_today = sa.and_(STAGED.c.status == "planned", STAGED.c.due_on == day)
    # Usually the day has no bundle yet: then no per-customer lookup is needed.
    any_today = (await execute(session, sa.select(bundle_table.c.id)
                               .where(bundle_table.c.local_date == day).limit(1))).first()
    has_bundle: Any = sa.false()
    if any_today is not None:
        has_bundle = sa.exists().where(bundle_table.c.customer_id == STAGED.c.customer_id,
                                       bundle_table.c.local_date == day)
    stamp = sa.literal(now, UTCDateTime())
    # In customer order: the ids then follow the customers, and the touches' lookups of
    # their bundle (the join, the foreign-key check) walk the bundles in order.
    new_bundles = (
        sa.select(STAGED.c.customer_id, sa.literal(day, sa.Date()), sa.literal("planned"),
                  sa.func.min(STAGED.c.due_at), _flag(REPLY_EXPECTED_KINDS),
                  sa.func.min(STAGED.c.reply_deadline), _flag(MARKETING_KINDS), sa.literal(0),
                  stamp, stamp)
        .where(planned_today, sa.not_(has_bundle))
        .group_by(STAGED.c.customer_id)
        .order_by(STAGED.c.customer_id)
    )
    insert_bundles = bundle_table.insert().from_select(BUNDLE_COLUMNS, new_bundles,
                                                       include_defaults=False)
    names = [*TOUCH_COLUMNS, "bundle_id"]
    if dialect == "postgresql":
        # One statement: the new bundles' ids come back from INSERT … RETURNING and the
        # touches join them, so no id is chosen nor staged beforehand.
        made = insert_bundles.returning(bundle_table.c.id, bundle_table.c.customer_id
                                        ).cte("made_bundle")
        joined = STAGED.outerjoin(made, sa.and_(made.c.customer_id == STAGED.c.customer_id,
                                                planned_today))
        rows = sa.select(*columns, made.c.id).select_from(joined)
        return _count(await execute(session, insert_ignoring(dialect, T, names, rows, CONFLICT)
                                    .add_cte(made)))
    # SQLite has no INSERT in WITH. The planner holds its write lock, so the bundles above
    # the highest id before this insert are exactly the new ones; each touch finds its own
    # through the (customer_id, local_date) key.
    top = (await execute(session, sa.select(sa.func.coalesce(sa.func.max(bundle_table.c.id), 0))
                         )).scalar_one()
    await execute(session, insert_bundles)
    new_bundle = (sa.select(bundle_table.c.id)
                  .where(bundle_table.c.customer_id == STAGED.c.customer_id,
                         bundle_table.c.local_date == day, bundle_table.c.id > top)
                  .scalar_subquery())
    # In customer order too: SQLite staged the rows branch by branch (it reads customers
    # through the branch index), and out of order the touches' keys and lookups took twice
    # as long (7.2 s instead of 3.7 s for a million).
    rows = (sa.select(*columns, sa.case((planned_today, new_bundle))).where(sa.true())
            .order_by(STAGED.c.customer_id))
    return _count(await execute(session, insert_ignoring(dialect, T, names, rows, CONFLICT)))


def _count(result: Any) -> int:
    return max(getattr(result, "rowcount", 0) or 0, 0)
