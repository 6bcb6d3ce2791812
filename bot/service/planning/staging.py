"""The day's new touches are staged first, then written once with their bundles.

Writing touches, then bundles, then attaching each touch to its bundle costs every touch
row a second version (and, on PostgreSQL, a second foreign-key check and five index
entries more). Staging the rules' rows in a temporary table lets planning build the
bundles from the staged rows and write each touch once, already in its bundle.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel.sql.sqltypes import UTCDateTime

from bot.domain.rules import MARKETING_KINDS, REPLY_EXPECTED_KINDS
from bot.service.planning.rules_sql import TOUCH_COLUMNS, T
from bot.service.planning.sqlbits import execute, insert_ignoring

_META = sa.MetaData()

#: The rules' rows before they reach `touch` (one planning transaction; no indexes).
STAGED = sa.Table(
    "plan_staged", _META,
    *(sa.Column(c.name, c.type) for c in T.columns if c.name in TOUCH_COLUMNS),
    prefixes=["TEMPORARY"], postgresql_on_commit="DROP",
)

#: One new bundle per customer with planned touches today, its id chosen in advance.
STAGED_BUNDLES = sa.Table(
    "plan_staged_bundle", _META,
    sa.Column("id", sa.Integer), sa.Column("customer_id", sa.String),
    sa.Column("due_at", UTCDateTime()), sa.Column("expects_reply", sa.Boolean),
    sa.Column("reply_deadline", UTCDateTime()), sa.Column("marketing", sa.Boolean),
    prefixes=["TEMPORARY"], postgresql_on_commit="DROP",
)


async def create(session: Any) -> None:
    """Fresh staging tables for this transaction (dropped at its end)."""
    await drop(session)
    connection = await session.connection()
    for table in (STAGED, STAGED_BUNDLES):
        await connection.run_sync(lambda sync, t=table: t.create(sync))


async def drop(session: Any) -> None:
    """SQLite keeps temporary tables for the connection's life: drop them when done.
    Schema-qualified, so a permanent table of the same name could never be dropped."""
    connection = await session.connection()
    schema = "pg_temp" if connection.dialect.name == "postgresql" else "temp"
    for table in (STAGED, STAGED_BUNDLES):
        await connection.execute(sa.text(f"DROP TABLE IF EXISTS {schema}.{table.name}"))


def stage_ignoring_existing(select_stmt: sa.Select[Any], dedupe_key: Any,
                            customer_id: Any) -> Any:
    """INSERT INTO staging the rule's rows whose (customer, dedupe key) has no touch yet."""
    exists = sa.exists().where(T.c.customer_id == customer_id, T.c.dedupe_key == dedupe_key)
    return STAGED.insert().from_select(TOUCH_COLUMNS, select_stmt.where(sa.not_(exists)))


def _flag(kinds: frozenset[str]) -> Any:
    return sa.func.max(sa.case((STAGED.c.kind.in_(sorted(kinds)), 1), else_=0)) == 1


async def write(session: Any, dialect: str, day: date, now: datetime, bundle: bool) -> int:
    """Staged rows → `touch`; with `bundle`, today's planned touches go in one new bundle
    per customer. A customer who already has a bundle today is left to `bundle_day`
    (join a planned one, or expire/move on after a sent one). Returns touches written."""
    bundle_table: sa.Table = T.metadata.tables["bundle"]
    planned_today = sa.and_(STAGED.c.status == "planned", STAGED.c.due_on == day)
    if bundle:
        # Usually the day has no bundle yet: then no per-customer lookup is needed.
        any_today = (await execute(session, sa.select(bundle_table.c.id)
                                   .where(bundle_table.c.local_date == day).limit(1))).first()
        has_bundle: Any = sa.false()
        if any_today is not None:
            has_bundle = sa.exists().where(bundle_table.c.customer_id == STAGED.c.customer_id,
                                           bundle_table.c.local_date == day)
        per_customer = (
            sa.select(STAGED.c.customer_id, sa.func.min(STAGED.c.due_at).label("due_at"),
                      _flag(REPLY_EXPECTED_KINDS).label("expects_reply"),
                      sa.func.min(STAGED.c.reply_deadline).label("reply_deadline"),
                      _flag(MARKETING_KINDS).label("marketing"))
            .where(planned_today, sa.not_(has_bundle))
            .group_by(STAGED.c.customer_id)
            .subquery()
        )
        if dialect == "postgresql":
            new_id: Any = sa.func.nextval(sa.func.pg_get_serial_sequence("bundle", "id"))
        else:  # the planner holds SQLite's write lock: nobody else takes ids meanwhile
            top = sa.select(sa.func.coalesce(sa.func.max(bundle_table.c.id), 0)).scalar_subquery()
            new_id = top + sa.func.row_number().over(order_by=per_customer.c.customer_id)
        await execute(session, STAGED_BUNDLES.insert().from_select(
            ["id", "customer_id", "due_at", "expects_reply", "reply_deadline", "marketing"],
            sa.select(new_id, per_customer.c.customer_id, per_customer.c.due_at,
                      per_customer.c.expects_reply, per_customer.c.reply_deadline,
                      per_customer.c.marketing)))
        stamp = sa.literal(now, UTCDateTime())
        await execute(session, bundle_table.insert().from_select(
            ["id", "customer_id", "local_date", "status", "due_at", "expects_reply",
             "reply_deadline", "marketing", "attempts", "created_at", "updated_at"],
            sa.select(STAGED_BUNDLES.c.id, STAGED_BUNDLES.c.customer_id,
                      sa.literal(day, sa.Date()), sa.literal("planned"),
                      STAGED_BUNDLES.c.due_at, STAGED_BUNDLES.c.expects_reply,
                      STAGED_BUNDLES.c.reply_deadline, STAGED_BUNDLES.c.marketing,
                      sa.literal(0), stamp, stamp)))
    columns = [STAGED.c[name] for name in TOUCH_COLUMNS]
    if bundle:
        joined = STAGED.outerjoin(STAGED_BUNDLES, sa.and_(
            STAGED_BUNDLES.c.customer_id == STAGED.c.customer_id, planned_today))
        rows = sa.select(*columns, STAGED_BUNDLES.c.id).select_from(joined)
        names = [*TOUCH_COLUMNS, "bundle_id"]
    else:
        rows, names = sa.select(*columns), list(TOUCH_COLUMNS)
    rows = rows.where(sa.true())  # SQLite would read "ON CONFLICT" as a join's ON
    result = await execute(session, insert_ignoring(dialect, T, names, rows,
                                                    ["customer_id", "dedupe_key"]))
    return max(getattr(result, "rowcount", 0) or 0, 0)
