"""Seed customers and plan days at a chosen local moment."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from bot.bootstrap import App
from bot.db.models import Branch, Bundle, Callback, Customer, Touch
from bot.service.planning.planner import PlanResult
from bot.service.planning.service import plan_day

SH = ZoneInfo("Asia/Shanghai")


def at(day: date, hh: int = 0, mm: int = 5) -> datetime:
    """A moment on a Shanghai day (planning runs just after local midnight)."""
    return datetime.combine(day, time(hh, mm), SH)


async def seed(app: App, *customers: dict[str, Any], branch: str = "SH01",
               festivals: dict[str, Any] | None = None, **branch_fields: Any) -> None:
    async with app.sessions() as s:
        if await s.get(Branch, branch) is None:
            s.add(Branch(code=branch, name=branch,
                         festivals_json=json.dumps(festivals) if festivals else None,
                         **branch_fields))
            await s.flush()
        for i, fields in enumerate(customers):
            base: dict[str, Any] = {"id": f"C{i + 1}", "name": "张三", "branch_code": branch,
                                    "phone": "+85291234567", "marketing_consent": True}
            base.update(fields)
            s.add(Customer(**base))
        await s.commit()


async def plan(app: App, day: date, *, today: date | None = None, dry_run: bool = False) -> PlanResult:
    return await plan_day(app, day, dry_run=dry_run, now=at(today or day))


async def touches(app: App) -> list[Touch]:
    async with app.sessions() as s:
        return list((await s.exec(select(Touch).order_by(col(Touch.id)))).all())


async def bundles(app: App) -> list[Bundle]:
    async with app.sessions() as s:
        return list((await s.exec(select(Bundle).order_by(col(Bundle.id)))).all())


async def callbacks(app: App) -> list[Callback]:
    async with app.sessions() as s:
        return list((await s.exec(select(Callback).order_by(col(Callback.id)))).all())
