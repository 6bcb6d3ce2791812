"""Shared fixtures: the production calendar stack (holidays.China + lunardate)."""

from __future__ import annotations

import pytest

from bot.calendars import build_working_calendar
from bot.domain.calendar import WorkingCalendar


@pytest.fixture(scope="session")
def cal() -> WorkingCalendar:
    """One calendar for read-only tests; warning tests build their own."""
    return build_working_calendar()
