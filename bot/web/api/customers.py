"""JSON API v1: one customer as staff may see it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException

from bot.db.models import Customer
from bot.domain.text import unstorable
from bot.service.customers.view import customer_view
from bot.web.auth import Ctx, CurrentStaff, not_own_customer, readable_branch

router = APIRouter(tags=["customers"])


@router.get("/customers/{customer_id}")
async def customer(customer_id: str, staff: CurrentStaff, ctx: Ctx) -> dict[str, Any]:
    """One customer, masked, with consent, addresses and the whole timeline."""
    if unstorable(customer_id):  # no id holds one (imports refuse them); PostgreSQL would fail
        raise HTTPException(404, "no such customer")
    async with ctx.app.sessions() as s:
        row = await s.get(Customer, customer_id)
        if row is None:
            raise HTTPException(404, "no such customer")
        readable_branch(staff, row.branch_code)
        not_own_customer(staff, row)
        view = await customer_view(s, customer_id, ctx.app.settings)
    assert view is not None
    return view
