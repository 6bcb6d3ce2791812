"""Small SQL pieces that differ between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import ColumnElement

from bot.db.locks import hold_xact_lock

#: The transaction lock (bot.db.locks) shared by planning, tidying and the sweep.
PLANNING_LOCK = "planning"


def insert_ignoring(dialect: str, table: sa.Table, columns: list[str], select: Any,
                    conflict: list[str]) -> Any:
    """INSERT … SELECT that skips rows whose unique key exists (the dedupe guarantee)."""
    module: Any = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table).from_select(columns, select).on_conflict_do_nothing(
        index_elements=conflict
    )


def month_day(dialect: str, column: Any) -> ColumnElement[str]:
    """'MM-DD' of a date column, for birthdays."""
    if dialect == "postgresql":
        return sa.func.to_char(column, "MM-DD")
    return sa.func.strftime("%m-%d", column)


def date_text(dialect: str, column: Any) -> ColumnElement[str]:
    """'YYYY-MM-DD' of a date column, for dedupe keys such as dormancy:<date>."""
    if dialect == "postgresql":
        return sa.func.to_char(column, "YYYY-MM-DD")
    return sa.func.strftime("%Y-%m-%d", column)


def case_map(column: Any, mapping: dict[Any, Any], type_: Any,
             default: Any = None) -> ColumnElement[Any]:
    """CASE column WHEN k THEN v … ELSE default END, for per-date values computed in Python."""
    otherwise = sa.null() if default is None else sa.literal(default, type_)
    if not mapping:
        return otherwise
    return sa.case(
        *((column == sa.literal(k), sa.literal(v, type_)) for k, v in mapping.items()),
        else_=otherwise,
    )


async def execute(session: Any, statement: Any, params: Any = None) -> Any:
    """Run a Core statement inside the session's transaction (SQLModel's exec is for ORM selects)."""
    connection = await session.connection()
    return await connection.execute(statement, params) if params else await connection.execute(statement)


async def hold_planning_lock(session: Any) -> None:
    """PostgreSQL: wait for, then hold until commit, the lock planning, tidying and the sweep
    share (SQLite has one writer at a time anyway)."""
    await hold_xact_lock(session, PLANNING_LOCK)
