"""Lunar → solar conversion for festivals, via ``lunardate`` (1900–2099)."""

from __future__ import annotations

from datetime import date

from lunardate import LunarDate


def lunar_to_solar(lunar_year: int, month: int, day: int) -> date:
    """Solar date of a (non-leap-month) lunar date; ValueError if it does not exist."""
    solar = LunarDate(lunar_year, month, day).to_solar_date()
    return date(solar.year, solar.month, solar.day)
