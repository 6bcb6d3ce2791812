"""The JSON API's response shapes, so OpenAPI documents what each route returns."""

from __future__ import annotations

from pydantic import BaseModel, Field


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


class SuggestedCall(BaseModel):
    """When to call: the time the customer asked for, else the next call window."""

    from_: str = Field(alias="from", description="ISO 8601 with the branch's offset")
    until: str | None = Field(description="end of the call window; none for an asked time")
    asked_by_customer: bool


class CallbackState(BaseModel):
    """The callback itself: why, how urgent, who holds it, how it ended."""

    callback_id: int
    status: str = Field(description="open | claimed | done | …")
    priority: str = Field(description="P0 (most urgent) .. P3")
    reasons: list[str]
    kind: str | None = Field(description="the touch it is about: new_account, dormancy, …")
    sla_due_at: str
    breached: bool
    due_at: str | None = Field(description="not to be called before this (no answer, asked time)")
    no_answer_attempts: int
    assignee: str | None
    held_by_you: bool
    compliance_flag: bool = Field(description="a new-account point was answered no")
    outcome: str | None
    suggested_call: SuggestedCall


class CustomerCard(BaseModel):
    """The customer as the viewer may see them: name and phone masked unless holding."""

    customer_id: str
    name: str = Field(description="in full for the holder, else masked (张*)")
    honorific: str | None = Field(description="how to address them; the holder only")
    phone: str = Field(description="masked (138****5678); the full number is a reveal")
    branch: str
    branch_name: str
    locale: str
    tier: str
    status: str
    opened_on: str | None
    last_trade_on: str | None


class Consent(BaseModel):
    """Marketing consent in effect and its last change."""

    marketing: bool
    changed_at: str | None
    channel: str | None


class Address(BaseModel):
    """One of the customer's addresses, masked, and whether dispatch may use it."""

    channel: str = Field(description="sms | email | telegram")
    address: str
    status: str = Field(description="ok, or why it is not used (bounced, blocked, …)")


class ConversationMessage(BaseModel):
    """A message in or out, in full; a reply carries what the classifier understood."""

    message_id: str
    at: str
    direction: str = Field(description="in | out")
    channel: str
    subject: str | None
    text: str
    status: str = Field(description="delivery status out (sent, delivered, …); received in")
    intent: str | None = Field(description="replies: the classifier's intent")
    confidence: float | None = Field(description="replies: the classifier's confidence, 0..1")
    cues: list[str] = Field(description="replies: the words that decided the intent")
    needs_review: bool


class CallRecord(BaseModel):
    """One call made on a callback (the record compliance reviews)."""

    at: str
    agent: str
    outcome: str
    identity: str = Field(description="customer | authorised_agent | not_verified")
    dialled: str = Field(description="masked; empty when not given")
    recording_ref: str | None
    notes: str | None
    follow_up_at: str | None


class EarlierCallback(BaseModel):
    """Another callback of the same customer, newest first, with its calls."""

    callback_id: int
    status: str
    outcome: str | None
    reasons: list[str]
    opened_at: str
    closed_at: str | None
    calls: list[CallRecord]


class ScriptPoint(BaseModel):
    """A compliance point the call must cover (new accounts), in the customer's language."""

    code: str
    question: str


class CallScript(BaseModel):
    """The call script (话术) for this kind of callback."""

    steps: list[str]
    points: list[ScriptPoint]


class CallbackPage(BaseModel):
    """What the callback page shows (the console renders the same content)."""

    callback: CallbackState
    customer: CustomerCard
    consent: Consent
    addresses: list[Address]
    conversation: list[ConversationMessage]
    calls: list[CallRecord]
    earlier_callbacks: list[EarlierCallback]
    script: CallScript
