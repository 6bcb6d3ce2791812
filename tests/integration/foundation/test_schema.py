"""The schema: migrations, append-only triggers and aware datetimes on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from bot.bootstrap import App
from bot.db.migrate import current_revision, upgrade
from bot.db.models import Branch, Customer, Event, Message


async def test_upgrade_is_idempotent(app: App) -> None:
    before = await current_revision(app.engine)
    await upgrade(app.engine)
    assert before is not None
    assert await current_revision(app.engine) == before


async def test_events_refuse_update_and_delete(app: App) -> None:
    async with app.sessions() as s:
        s.add(Event(type="test", summary="first"))
        await s.commit()
    for statement in ("UPDATE event SET summary = 'changed'", "DELETE FROM event"):
        with pytest.raises((IntegrityError, DBAPIError)):
            async with app.engine.begin() as conn:
                await conn.execute(text(statement))
    async with app.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT summary FROM event"))).all()
    assert [r[0] for r in rows] == ["first"]


async def _customer(app: App) -> None:
    async with app.sessions() as s:
        s.add(Branch(code="B1", name="B1"))
        await s.flush()
        s.add(Customer(id="C1", name="张三", branch_code="B1"))
        await s.commit()


async def test_message_fixed_fields_but_status_moves(app: App) -> None:
    await _customer(app)
    async with app.sessions() as s:
        s.add(Message(id="m1", direction="out", customer_id="C1", channel="sms",
                      address="+85291234567", body="hi", status="sending"))
        await s.commit()
    async with app.engine.begin() as conn:
        await conn.execute(text("UPDATE message SET status='sent', provider_id='SM1' WHERE id='m1'"))
    for change in ("body='other'", "address='+85290000000'", "provider_id='SM2'"):
        with pytest.raises((IntegrityError, DBAPIError)):
            async with app.engine.begin() as conn:
                await conn.execute(text(f"UPDATE message SET {change} WHERE id='m1'"))
    async with app.sessions() as s:
        message = await s.get(Message, "m1")
        assert message is not None
        assert (message.status, message.body, message.provider_id) == ("sent", "hi", "SM1")


async def test_aware_datetimes_round_trip(app: App) -> None:
    shanghai = timezone(timedelta(hours=8))
    moment = datetime(2026, 2, 17, 9, 30, tzinfo=shanghai)
    async with app.sessions() as s:
        s.add(Event(type="t", summary="s", at=moment))
        await s.commit()
    async with app.sessions() as s:
        from sqlmodel import select

        stored = (await s.exec(select(Event))).one()
    assert stored.at.tzinfo is not None
    assert stored.at == moment
    assert stored.at.astimezone(UTC).hour == 1


async def test_models_and_migrations_agree(app: App) -> None:
    """A column added to a model without its migration (or the reverse) shows up here."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    async with app.engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), SQLModel.metadata))
    assert diff == []
