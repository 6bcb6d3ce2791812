"""Bearer-token authentication for /api/v1: one dependency, role and branch checks here."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from bot.db.models import Customer, Staff
from bot.service.staff import staff_for_token
from bot.web.deps import WebContext, context

Ctx = Annotated[WebContext, Depends(context)]


async def current_staff(request: Request, ctx: Ctx) -> Staff:
    """The active staff member behind `Authorization: Bearer <token>`, else 401."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(401, "bearer token required", headers={"WWW-Authenticate": "Bearer"})
    async with ctx.app.sessions() as s:
        staff = await staff_for_token(s, token.strip())
    if staff is None:
        raise HTTPException(401, "invalid or revoked token", headers={"WWW-Authenticate": "Bearer"})
    return staff


CurrentStaff = Annotated[Staff, Depends(current_staff)]


def readable_branch(staff: Staff, branch: str | None) -> str | None:
    """Which branch a user may read: their own for branch roles, any for head office."""
    if staff.is_sales or staff.role in ("sales", "system"):
        raise HTTPException(403, "sales staff cannot read callback work (独立性原则)")
    if staff.role in ("agent", "branch_admin") or (staff.role == "compliance" and staff.branch_code):
        if branch not in (None, staff.branch_code):
            raise HTTPException(403, f"{staff.username} works for branch {staff.branch_code}")
        return staff.branch_code
    return branch


def not_own_customer(staff: Staff, customer: Customer) -> None:
    """Nobody looks up callback results of a customer whose sales_rep they are (独立性原则)."""
    if customer.sales_rep and customer.sales_rep == staff.username:
        raise HTTPException(403, f"{staff.username} is this customer's sales rep: "
                                 "independence rule (独立性原则)")
