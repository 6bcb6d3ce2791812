"""Festivals: the rulebook's set, lunar dates for any year, branch festivals and offsets."""

from __future__ import annotations

from datetime import date, timedelta

import holidays
import pytest

from bot.calendars import lunar_to_solar
from bot.domain.calendar import WorkingCalendar
from bot.domain.festivals import (
    BUILTIN_FESTIVALS,
    MAX_NAME_ZH,
    Festival,
    ForbiddenFestivalError,
    branch_festivals,
    festival_dates,
    greeting_dates,
    greetings_due_on,
    longest_festival_name,
    lunar_festival,
    solar_festival,
)

WITH_DRAGON_BOAT = branch_festivals({"dragon_boat": True})


def test_default_set_is_the_rulebook_list_with_dragon_boat_off() -> None:
    on = {f.code for f in branch_festivals() if f.enabled}
    assert on == {"new_year", "spring_festival", "labour_day", "mid_autumn", "national_day"}
    off = {f.code for f in branch_festivals() if not f.enabled}
    assert off == {"dragon_boat"}
    assert not any("清明" in f.name_zh for f in BUILTIN_FESTIVALS)


@pytest.mark.parametrize(
    ("year", "spring", "dragon_boat", "mid_autumn"),
    [
        (2026, date(2026, 2, 17), date(2026, 6, 19), date(2026, 9, 25)),
        (2027, date(2027, 2, 6), date(2027, 6, 9), date(2027, 9, 15)),
    ],
)
def test_lunar_festivals(year: int, spring: date, dragon_boat: date, mid_autumn: date) -> None:
    dates = festival_dates(year, WITH_DRAGON_BOAT, lunar_to_solar)
    assert dates["spring_festival"] == spring
    assert dates["dragon_boat"] == dragon_boat
    assert dates["mid_autumn"] == mid_autumn
    assert dates["new_year"] == date(year, 1, 1)
    assert dates["labour_day"] == date(year, 5, 1)
    assert dates["national_day"] == date(year, 10, 1)


def test_2035_lunar_festivals_agree_with_holidays_china() -> None:
    dates = festival_dates(2035, WITH_DRAGON_BOAT, lunar_to_solar)
    cn = holidays.China(years=2035, language="en_US", observed=False)
    for code, name in (
        ("spring_festival", "Chinese New Year (Spring Festival)"),
        ("dragon_boat", "Dragon Boat Festival"),
        ("mid_autumn", "Mid-Autumn Festival"),
    ):
        first_day = min(cn.get_named(name, lookup="exact"))
        assert dates[code] == first_day, code


def test_every_year_has_every_builtin_festival() -> None:
    for year in range(1901, 2100):
        assert len(festival_dates(year, WITH_DRAGON_BOAT, lunar_to_solar)) == 6, year


def test_disabled_festivals_are_left_out() -> None:
    assert "dragon_boat" not in festival_dates(2026, branch_festivals(), lunar_to_solar)
    off = branch_festivals({"labour_day": False})
    assert "labour_day" not in festival_dates(2026, off, lunar_to_solar)


def test_qingming_is_refused_by_code_and_name() -> None:
    for make in (
        lambda: solar_festival("qingming", "踏青", "Outing", "04-05"),
        lambda: solar_festival("outing", "清明节", "Outing", "04-05"),
        lambda: solar_festival("outing", "踏青", "Tomb-Sweeping Day", "04-05"),
        lambda: branch_festivals({"qingming": True}),
    ):
        with pytest.raises(ForbiddenFestivalError):
            make()


def test_branch_custom_festivals() -> None:
    lantern = lunar_festival("lantern", "元宵节", "Lantern Festival", 1, 15)
    eve = lunar_festival("new_year_eve", "除夕", "New Year's Eve", 12, 30)
    womens = solar_festival("womens_day", "妇女节", "Women's Day", "03-08", enabled=False)
    leap = solar_festival("leap", "闰日", "Leap Day", "02-29")
    fests = branch_festivals({"womens_day": True}, [lantern, eve, womens, leap])
    dates = festival_dates(2026, fests, lunar_to_solar)
    assert dates["lantern"] == date(2026, 2, 17) + timedelta(days=14)  # 正月十五
    assert dates["new_year_eve"] == date(2026, 2, 16)  # 腊月只有29天: the last day
    assert dates["womens_day"] == date(2026, 3, 8)
    assert dates["leap"] == date(2026, 2, 28)
    assert festival_dates(2028, fests, lunar_to_solar)["leap"] == date(2028, 2, 29)
    assert lantern.name("en") == "Lantern Festival" and lantern.name("zh-CN") == "元宵节"


@pytest.mark.parametrize(
    "make",
    [
        lambda: solar_festival("x", "某节", "X", "3-8"),
        lambda: solar_festival("x", "某节", "X", "02-30"),
        lambda: lunar_festival("x", "某节", "X", 13, 1),
        lambda: lunar_festival("x", "某节", "X", 1, 31),
        lambda: solar_festival("bad:code", "某节", "X", "03-08"),
        lambda: solar_festival("x", "", "X", "03-08"),
        lambda: solar_festival("x", "节" * (MAX_NAME_ZH + 1), "X", "03-08"),
        lambda: Festival("x", "某节", "X", solar=(3, 8), lunar=(1, 1)),
        lambda: branch_festivals({"no_such": True}),
        lambda: branch_festivals(custom=[solar_festival("mid_autumn", "中秋", "M", "09-15")]),
    ],
)
def test_invalid_festivals_are_refused(make: object) -> None:
    with pytest.raises(ValueError):
        make()  # type: ignore[operator]


def test_greeting_offsets_use_working_days(cal: WorkingCalendar) -> None:
    on_day = greeting_dates(2026, branch_festivals(), cal, lunar_to_solar)
    assert on_day["spring_festival"] == date(2026, 2, 17)  # a holiday is fine for a greeting
    before = greeting_dates(2026, branch_festivals(), cal, lunar_to_solar, -1)
    assert before["national_day"] == date(2026, 9, 30)
    assert before["spring_festival"] == date(2026, 2, 14)  # the make-up Saturday
    assert before["mid_autumn"] == date(2026, 9, 24)
    assert greeting_dates(2027, branch_festivals(), cal, lunar_to_solar, -1)["new_year"] == date(
        2026, 12, 31
    )
    with pytest.raises(ValueError, match="offset_working_days"):
        greeting_dates(2026, branch_festivals(), cal, lunar_to_solar, 1)


def test_greetings_due_on_a_day_include_next_years_new_year(cal: WorkingCalendar) -> None:
    fests = branch_festivals()
    assert greetings_due_on(date(2026, 12, 31), fests, cal, lunar_to_solar, -1) == {
        "new_year": 2027
    }
    assert greetings_due_on(date(2031, 10, 1), fests, cal, lunar_to_solar) == {
        "national_day": 2031,
        "mid_autumn": 2031,  # 中秋 falls on 国庆 in 2031
    }
    assert greetings_due_on(date(2026, 3, 10), fests, cal, lunar_to_solar) == {}


def test_longest_name_for_templates() -> None:
    zh_names = [f.name_zh for f in BUILTIN_FESTIVALS]
    assert len(longest_festival_name("zh-CN")) == max(map(len, zh_names))
    assert longest_festival_name("en") == "Dragon Boat Festival"
    custom = [
        *BUILTIN_FESTIVALS,
        solar_festival("anniv", "营业部成立纪念日", "Anniversary", "06-01"),
    ]
    assert longest_festival_name("zh-CN", custom) == "营业部成立纪念日"
