"""Bearer-token authentication for /api/v1: one dependency; the role and branch rules
themselves are `bot.domain.access`, turned into 401/403 here."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from bot.db.models import Customer, Staff
from bot.domain.access import branch_scope, own_customer_refusal
from bot.service.admin.staff import staff_for_token
from bot.web.deps import WebContext, context

Ctx = Annotated[WebContext, Depends(context)]


#: Declared in OpenAPI, so "Authorize" in /docs works; checked by `current_staff`.
bearer = HTTPBearer(auto_error=False, description="a token from `outreach staff token USER`")


async def current_staff(
    ctx: Ctx, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Staff:
    """The active staff member behind `Authorization: Bearer <token>`, else 401."""
    if credentials is None or not credentials.credentials.strip():
        raise HTTPException(401, "bearer token required", headers={"WWW-Authenticate": "Bearer"})
    async with ctx.app.sessions() as s:
        staff = await staff_for_token(s, credentials.credentials.strip())
    if staff is None:
        raise HTTPException(401, "invalid or revoked token", headers={"WWW-Authenticate": "Bearer"})
    return staff


CurrentStaff = Annotated[Staff, Depends(current_staff)]


def readable_branch(staff: Staff, branch: str | None) -> str | None:
    """Which branch a user may read (403 otherwise): their own for branch roles, any for
    head office; never for sales staff (独立性原则)."""
    scope, refusal = branch_scope(staff, branch)
    if refusal:
        raise HTTPException(403, refusal)
    return scope


def not_own_customer(staff: Staff, customer: Customer) -> None:
    """Nobody looks up callback results of a customer whose sales_rep they are (独立性原则)."""
    refusal = own_customer_refusal(staff, customer.sales_rep)
    if refusal:
        raise HTTPException(403, refusal)
