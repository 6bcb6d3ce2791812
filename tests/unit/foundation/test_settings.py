"""Settings: defaults of DESIGN.md, one-line errors, and .env.example kept complete."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[3]


def test_defaults_match_the_design() -> None:
    s = load_settings(_env_file=None)
    assert s.database_url == "sqlite+aiosqlite:///./outreach.db"
    assert (s.timezone, s.send_window, s.working_hours) == ("Asia/Shanghai", "09:00-20:00", "09:00-17:30")
    assert (s.twilio_rate_per_second, s.email_rate_per_second, s.telegram_rate_per_second) == (1, 5, 25)
    assert s.sms_routes == "+86:log,*:twilio"
    assert (s.dormancy_days, s.dormancy_reply_working_days, s.dormancy_due_working_days,
            s.dormancy_backfill_days) == (180, 2, 7, 30)
    assert s.callback_cap_per_quarter == 2 and s.assume_consent is False


@pytest.mark.parametrize(
    ("override", "name"),
    [
        ({"timezone": "Asia/Beijing"}, "OUTREACH_TIMEZONE"),
        ({"working_hours": "17:30-09:00"}, "OUTREACH_WORKING_HOURS"),
        ({"database_url": "mysql://x"}, "OUTREACH_DATABASE_URL"),
        ({"http_port": 70000}, "OUTREACH_HTTP_PORT"),
        ({"log_format": "xml"}, "OUTREACH_LOG_FORMAT"),
    ],
)
def test_a_wrong_setting_is_named_in_one_line(override: dict[str, object], name: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(_env_file=None, **override)
    message = str(info.value)
    assert message.startswith(f"configuration error: {name}: ")
    assert "\n" not in message


def test_telegram_token_without_secret_is_refused() -> None:
    with pytest.raises(SettingsError, match="TELEGRAM_WEBHOOK_SECRET"):
        load_settings(_env_file=None, telegram_bot_token="123:abc")


def test_env_example_lists_every_setting() -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    named = {
        line.lstrip("# ").split("=", 1)[0]
        for line in text.splitlines()
        if line.lstrip("# ").startswith("OUTREACH_") and "=" in line
    }
    expected = {f"OUTREACH_{field.upper()}" for field in Settings.model_fields}
    assert named == expected


def test_console_settings_defaults_and_words() -> None:
    s = load_settings(_env_file=None)
    assert (s.session_idle_minutes, s.login_lockout_attempts, s.docs_public) == (30, 0, False)
    assert s.served == {"webhooks", "api", "console"}
    assert s.mfa_roles == {"admin", "compliance"}
    assert s.console_base == s.public_url
    only = load_settings(_env_file=None, serve=" webhooks ", console_url="https://console.lan/")
    assert only.served == {"webhooks"} and only.console_base == "https://console.lan"


@pytest.mark.parametrize(
    ("override", "name", "words"),
    [
        ({"serve": "webhooks,smtp"}, "OUTREACH_SERVE", "'smtp'"),
        ({"serve": ""}, "OUTREACH_SERVE", "at least one"),
        ({"mfa_required_roles": "admin,sales"}, "OUTREACH_MFA_REQUIRED_ROLES", "'sales'"),
        ({"console_url": "console.lan"}, "OUTREACH_CONSOLE_URL", "http"),
        ({"login_lockout_attempts": -1}, "OUTREACH_LOGIN_LOCKOUT_ATTEMPTS", ""),
    ],
)
def test_console_settings_are_checked(override: dict[str, object], name: str, words: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(_env_file=None, **override)
    assert str(info.value).startswith(f"configuration error: {name}: ") and words in str(info.value)
