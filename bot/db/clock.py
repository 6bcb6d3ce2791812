"""The one clock for stored timestamps."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Aware, UTC."""
    return datetime.now(UTC)
