"""The JSON API's response shapes, so OpenAPI documents what each route returns."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class QueueItem(BaseModel):
    """One open callback in the queue (the `queue --json` shape, plus when to call)."""

    callback_id: int
    customer_id: str
    branch: str
    priority: str
    reasons: list[str]
    sla_due_at: str
    breached: bool
    status: str
    assignee: str | None
    phone: str
    suggested_call_at: str
    asked_by_customer: bool
    call_window: str | None = None


class Claimed(BaseModel):
    """The callback just claimed."""

    callback_id: int


class Recorded(BaseModel):
    """Where a recorded call left the callback."""

    callback_id: int
    status: str


class Contact(BaseModel):
    """The full contact, revealed to the holder or compliance (an event each time)."""

    phone: str
    name: str


class CallbackPage(BaseModel):
    """What the callback page shows (the console renders the same content)."""

    callback: dict[str, Any]
    customer: dict[str, Any]
    consent: dict[str, Any]
    addresses: list[dict[str, Any]]
    conversation: list[dict[str, Any]]
    calls: list[dict[str, Any]]
    earlier_callbacks: list[dict[str, Any]]
    script: dict[str, Any]
