"""JSON API v1: the callback queue (list, claim next, release, keep, record the call)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, field_validator

from bot.domain.text import unstorable
from bot.service.callbacks.detail import callback_detail, reveal_contact
from bot.service.callbacks.errors import (
    BadOutcome,
    NotAllowed,
    NotFound,
    NotHeld,
    QueueError,
    TooManyHeld,
)
from bot.service.callbacks.outcomes import CallOutcome, record_outcome
from bot.service.callbacks.queue import claim_next, queue_view, release, still_working
from bot.web.api.models import CallbackPage, Claimed, Contact, QueueItem, Recorded
from bot.web.auth import Ctx, CurrentStaff, readable_branch

router = APIRouter(tags=["callbacks"])


class OutcomeIn(BaseModel):
    """What an agent records after a call."""

    outcome: str = Field(description="resolved | follow_up | no_answer | wrong_number | complaint_registered")
    dialled: str | None = Field(None, max_length=40)
    recording_ref: str | None = Field(None, max_length=200)
    identity: str = Field("not_verified", description="customer | authorised_agent | not_verified")
    notes: str | None = Field(None, max_length=4000)
    follow_up_at: datetime | None = None
    method: str = Field("phone", description="phone | sms | email | visit")
    answers: dict[str, bool] = Field(default_factory=dict, description=(
        "new-account compliance points answered: own_will, risks_explained, "
        "no_promised_returns, no_trading_for_you, no_private_fees (a false flags the callback)"))

    @field_validator("outcome", "dialled", "recording_ref", "identity", "notes", "method")
    @classmethod
    def _storable(cls, value: str | None) -> str | None:
        problem = unstorable(value) if value is not None else None
        if problem:
            raise ValueError(f"{problem} cannot be stored")
        return value


#: A callback id as the database can hold it: anything else is 422, not a server error.
CallbackId = Annotated[int, Path(ge=1, le=2**31 - 1)]


#: HTTP status of each queue refusal, by type.
QUEUE_STATUS: dict[type[QueueError], int] = {
    NotFound: 404, NotAllowed: 403, NotHeld: 409, TooManyHeld: 409, BadOutcome: 422}


async def queue_refused(_: Request, exc: Exception) -> JSONResponse:
    """A queue refusal as its HTTP status (the app registers this for QueueError)."""
    status = next((code for kind, code in QUEUE_STATUS.items() if isinstance(exc, kind)), 403)
    return JSONResponse({"detail": str(exc)}, status_code=status)


#: A branch code as `outreach branch add` takes it: anything else is 422, not a server error.
BranchCode = Annotated[str | None, Query(max_length=32, pattern=r"^[\w-]+$",
                                         description="a branch code")]


@router.get("/callbacks", response_model=list[QueueItem])
async def list_callbacks(staff: CurrentStaff, ctx: Ctx, branch: BranchCode = None) -> list[dict[str, Any]]:
    """Open callbacks, most urgent first (the `queue --json` shape)."""
    scope = readable_branch(staff, branch)
    async with ctx.app.sessions() as s:
        return await queue_view(s, scope, tz=ctx.app.settings.timezone, call_windows=True,
                                viewer=staff.username)


@router.post("/callbacks/claim-next", response_model=Claimed,
             responses={204: {"description": "nothing to claim"}})
async def claim(staff: CurrentStaff, ctx: Ctx) -> Response | Claimed:
    """Take the most urgent callback you may work; 204 when there is none."""
    callback_id = await claim_next(ctx.app.engine, staff, ctx.app.settings)
    if callback_id is None:
        return Response(status_code=204)
    return Claimed(callback_id=callback_id)


@router.get("/callbacks/{callback_id}", response_model=CallbackPage)
async def callback(callback_id: CallbackId, staff: CurrentStaff, ctx: Ctx) -> dict[str, Any]:
    """What the callback page shows: the customer's words and ours in full, earlier calls,
    consent and addresses, when to call and the script. Each view is recorded."""
    async with ctx.app.sessions() as s:
        detail = await callback_detail(s, callback_id, staff, ctx.app.settings)
        await s.commit()
    return detail


@router.post("/callbacks/{callback_id}/reveal", response_model=Contact)
async def reveal(callback_id: CallbackId, staff: CurrentStaff, ctx: Ctx) -> dict[str, str]:
    """The full phone number and name, for the agent holding the callback or compliance;
    each call is recorded."""
    async with ctx.app.sessions() as s:
        contact = await reveal_contact(s, callback_id, staff)
        await s.commit()
    return contact


@router.post("/callbacks/{callback_id}/release", status_code=204)
async def release_callback(callback_id: CallbackId, staff: CurrentStaff, ctx: Ctx) -> None:
    """Give a held callback back to the queue."""
    async with ctx.app.sessions() as s:
        await release(s, callback_id, staff)
        await s.commit()


@router.post("/callbacks/{callback_id}/still-working", status_code=204)
async def keep_claim(callback_id: CallbackId, staff: CurrentStaff, ctx: Ctx) -> None:
    """Keep a claim past the claim timeout."""
    async with ctx.app.sessions() as s:
        await still_working(s, callback_id, staff)
        await s.commit()


@router.post("/callbacks/{callback_id}/outcome", response_model=Recorded)
async def outcome(callback_id: CallbackId, body: OutcomeIn, staff: CurrentStaff, ctx: Ctx) -> dict[str, Any]:
    """Record the call and move the callback on."""
    async with ctx.app.sessions() as s:
        callback = await record_outcome(s, callback_id, staff, CallOutcome(**body.model_dump()),
                                        ctx.app.settings)
        await s.commit()
        return {"callback_id": callback.id, "status": callback.status}
