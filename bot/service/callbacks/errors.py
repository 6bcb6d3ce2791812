"""What the callback queue refuses, one type per reason; the API maps each type to a status."""

from __future__ import annotations


class QueueError(ValueError):
    """Root of every refusal of a queue action; the message says why, for the agent."""


class NotFound(QueueError):
    """No such callback."""


class NotHeld(QueueError):
    """The callback is not claimed by this agent (released, expired or someone else's)."""


class TooManyHeld(QueueError):
    """The agent already holds AGENT_MAX_HELD callbacks."""


class NotAllowed(QueueError):
    """This person may not do it: a sales rep (独立性原则), a role outside the queue, inactive."""


class BadOutcome(QueueError):
    """The recorded call is incomplete or invalid (unknown outcome, missing recording reference,
    follow-up without a time or time zone)."""
