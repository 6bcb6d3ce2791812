"""Checking one CSV line: each rule gives `column C: reason`, good values are normalised."""

from __future__ import annotations

from datetime import date

import pytest

from bot.service.customers.csv_rows import Cell, RowError, check_row

TODAY = date(2026, 11, 28)


def row(**cells: str) -> dict[str, str]:
    base = {"customer_id": "C1", "name": "张三", "branch": "SH01"}
    base.update(cells)
    return base


@pytest.mark.parametrize(
    ("cells", "column", "fragment"),
    [
        ({"customer_id": ""}, "customer_id", "required"),
        ({"name": "-"}, "name", "required"),
        ({"branch": "上海"}, "branch", "branch code"),
        ({"phone": "12345"}, "phone", "phone"),
        ({"phone": "+86 138 0013 800"}, "phone", "valid"),
        ({"email": "zhang@@example.com"}, "email", "email"),
        ({"birthday": "1990/01/02"}, "birthday", "YYYY-MM-DD"),
        ({"birthday": "1990-02-30"}, "birthday", "no such date"),
        ({"birthday": "2027-01-01"}, "birthday", "future"),
        ({"opened_on": "20260101"}, "opened_on", "YYYY-MM-DD"),
        ({"tier": "platinum"}, "tier", "diamond|gold|standard"),
        ({"locale": "zh-TW"}, "locale", "zh-CN|en"),
        ({"channels": "sms|wechat"}, "channels", "sms|email|telegram"),
        ({"channels": "sms|sms"}, "channels", "twice"),
        ({"salutation": "小姐"}, "salutation", "先生|女士"),
        ({"marketing_consent": "maybe"}, "marketing_consent", "yes|no"),
        ({"status": "dormant"}, "status", "active|closed|deceased|frozen"),
        ({"telegram_chat_id": "@zhang"}, "telegram_chat_id", "number"),
        ({"name": "张3"}, "name", "unexpected character"),
    ],
)
def test_each_rule_names_its_column(cells: dict[str, str], column: str, fragment: str) -> None:
    with pytest.raises(RowError) as info:
        check_row(row(**cells), TODAY)
    assert info.value.column == column
    assert fragment in info.value.reason


def test_phone_forms_become_e164() -> None:
    for raw in ("13800138000", "138-0013-8000", "+86 138 0013 8000", "008613800138000"):
        assert check_row(row(phone=raw), TODAY).values["phone"] == "+8613800138000"
    assert check_row(row(phone="+852 9123 4567"), TODAY).values["phone"] == "+85291234567"


def test_names_keep_the_middle_dot() -> None:
    assert check_row(row(name="阿依古丽·买买提江"), TODAY).name == "阿依古丽·买买提江"
    # A katakana dot typed by mistake becomes the middle dot.
    assert check_row(row(name="阿依古丽・买买提江"), TODAY).name == "阿依古丽·买买提江"


def test_empty_keeps_and_dash_clears() -> None:
    checked = check_row(row(phone="", email="-", tier="gold", marketing_consent="YES"), TODAY)
    assert checked.values["phone"] is Cell.KEEP
    assert checked.values["email"] is Cell.CLEAR
    assert checked.values["tier"] == "gold"
    assert checked.values["marketing_consent"] is True
    assert "birthday" not in checked.values  # column absent: nothing to say


def test_birthday_today_is_accepted() -> None:
    assert check_row(row(birthday="2026-11-28"), TODAY).values["birthday"] == TODAY


def test_demo_rows_are_valid_on_any_day() -> None:
    from datetime import timedelta

    from bot.service.admin.demo import demo_rows

    for offset in range(0, 366, 5):
        day = date(2026, 1, 1) + timedelta(days=offset)
        for row in demo_rows(day):
            check_row(row, day)  # raises on a bad demo row


@pytest.mark.parametrize(("cells", "secret"), [
    ({"phone": "+86 138 0013 800"}, "0013"),
    ({"phone": "1380013800x"}, "1380013800"),
    ({"name": "张3丰"}, "张3丰"),
])
def test_an_error_does_not_repeat_the_personal_data(cells: dict[str, str], secret: str) -> None:
    """Import reports are saved and mailed: the line and column find the value, the report
    shows it masked at most."""
    with pytest.raises(RowError) as info:
        check_row(row(**cells), TODAY)
    assert secret not in str(info.value)
