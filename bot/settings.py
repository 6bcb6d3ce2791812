"""Settings: every knob of DESIGN.md, read from OUTREACH_* variables and `.env`."""

from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.domain.access import CONSOLE_ROLES

_WINDOW = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


def check_window(value: str) -> str:
    """Accept `HH:MM-HH:MM` with start before end; used for send windows and working hours."""
    match = _WINDOW.match(value.strip())
    if not match:
        raise ValueError(f"expected HH:MM-HH:MM, got {value!r}")
    start = int(match[1]) * 60 + int(match[2])
    end = int(match[3]) * 60 + int(match[4])
    if end <= start or end > 24 * 60:
        raise ValueError(f"window {value!r} must end after it starts, within one day")
    return value.strip()


def check_timezone(value: str) -> str:
    """Accept IANA time zone names only (Asia/Shanghai), so scheduling never guesses."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


#: Settings that take one of a few words, and those words.
CHOICES: dict[str, tuple[str, ...]] = {
    "log_level": ("DEBUG", "INFO", "WARNING", "ERROR"),
    "log_format": ("text", "json"),
    "telegram_mode": ("webhook", "polling"),
}

#: What one process's web server may serve (OUTREACH_SERVE): provider webhooks and customer
#: links (internet-facing), the JSON API and its docs, the staff console (intranet).
SERVE_PARTS = ("webhooks", "api", "console")


def check_words(value: str, allowed: tuple[str, ...]) -> str:
    """Accept a comma-separated list of known words (at least one), normalised to `a,b`."""
    words = [w.strip() for w in value.split(",") if w.strip()]
    unknown = [w for w in words if w not in allowed]
    if unknown or not words:
        raise ValueError(f"unknown {unknown[0]!r}; use words from: {', '.join(allowed)}"
                         if unknown else f"name at least one of: {', '.join(allowed)}")
    return ",".join(dict.fromkeys(words))


def check_url(value: str) -> str:
    """Accept http(s) URLs only, without the trailing slash (links are joined to it)."""
    if not value.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    return value.rstrip("/")


class Settings(BaseSettings):
    """The one settings object; built once in bootstrap, never at import time."""

    model_config = SettingsConfigDict(
        env_prefix="OUTREACH_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = "sqlite+aiosqlite:///./outreach.db"
    secret_key: str | None = None
    timezone: str = "Asia/Shanghai"
    send_window: str = "09:00-20:00"
    working_hours: str = "09:00-17:30"
    public_url: str = "http://127.0.0.1:8000"
    http_host: str = "127.0.0.1"
    http_port: int = Field(8000, ge=1, le=65535)

    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_api_base: str = "https://api.twilio.com"
    twilio_rate_per_second: float = Field(1, gt=0)
    email_rate_per_second: float = Field(5, gt=0)
    telegram_rate_per_second: float = Field(25, gt=0)
    dispatch_concurrency: int = Field(8, ge=1, le=64)
    sms_routes: str = "+86:log,*:twilio"

    smtp_host: str | None = None
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    email_from: str | None = None
    inbound_smtp: str = "127.0.0.1:2525"
    reply_domain: str = "replies.localhost"

    telegram_bot_token: str | None = None
    telegram_bot_username: str | None = None  # for t.me/<bot>?start=<token> links
    telegram_webhook_secret: str | None = None
    telegram_api_base: str = "https://api.telegram.org"
    telegram_mode: str = "webhook"
    hq_alert_email: str | None = None

    dormancy_days: int = Field(180, ge=1)
    dormancy_reply_working_days: int = Field(2, ge=0)
    dormancy_due_working_days: int = Field(7, ge=0)
    dormancy_backfill_days: int = Field(30, ge=0)
    new_account_reply_working_days: int = Field(2, ge=0)
    new_account_sla_working_days: int = Field(5, ge=0)
    callback_cap_per_quarter: int = Field(2, ge=0)
    assume_consent: bool = False

    send_max_attempts: int = Field(5, ge=1)
    circuit_failures: int = Field(10, ge=1)
    circuit_probe_seconds: float = Field(30, gt=0)
    shutdown_grace_seconds: float = Field(20, ge=0)  # SIGTERM: sends in flight may finish
    reconcile_grace_minutes: float = Field(10, ge=0)  # then a provider's "absent" counts
    spool_dir: Path = Path("./spool")
    claim_timeout_minutes: int = Field(30, ge=1)
    agent_max_held: int = Field(5, ge=1)
    sms_max_segments: int = Field(2, ge=1, le=10)
    sms_max_segments_en: int = Field(3, ge=1, le=10)
    reply_match_days: int = Field(7, ge=1)
    classifier_min_confidence: float = Field(0.6, ge=0, le=1)
    max_body_bytes: int = Field(65536, ge=1024)
    log_level: str = "INFO"
    log_format: str = "text"

    session_idle_minutes: int = Field(30, ge=1, le=24 * 60)
    login_lockout_attempts: int = Field(0, ge=0)  # 0: growing delay only, never a lock
    mfa_required_roles: str = "admin,compliance"
    console_url: str | None = None  # None: PUBLIC_URL
    serve: str = ",".join(SERVE_PARTS)
    docs_public: bool = False
    metrics_token: str | None = None  # None: /metrics open on HTTP_HOST

    @field_validator("send_window", "working_hours")
    @classmethod
    def _window(cls, value: str) -> str:
        return check_window(value)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        return check_timezone(value)

    @field_validator("database_url")
    @classmethod
    def _db(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("use sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST/DB")
        return value

    @field_validator(*CHOICES)
    @classmethod
    def _one_of(cls, value: str, info: ValidationInfo) -> str:
        allowed = CHOICES[info.field_name or ""]
        value = value.upper() if info.field_name == "log_level" else value
        if value not in allowed:
            raise ValueError(f"use {', '.join(allowed[:-1])} or {allowed[-1]}")
        return value

    @field_validator("public_url", "console_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else check_url(value)

    @field_validator("serve")
    @classmethod
    def _serve(cls, value: str) -> str:
        return check_words(value, SERVE_PARTS)

    @field_validator("mfa_required_roles")
    @classmethod
    def _mfa_roles(cls, value: str) -> str:
        if not value.strip():
            return ""  # nobody must; everyone may
        return check_words(value, CONSOLE_ROLES)

    @model_validator(mode="after")
    def _telegram_secret(self) -> Settings:
        if self.telegram_bot_token and not self.telegram_webhook_secret:
            raise ValueError(
                "OUTREACH_TELEGRAM_WEBHOOK_SECRET is required when OUTREACH_TELEGRAM_BOT_TOKEN is set"
            )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def served(self) -> frozenset[str]:
        """The parts of SERVE_PARTS this process's web server answers for."""
        return frozenset(self.serve.split(","))

    @property
    def mfa_roles(self) -> frozenset[str]:
        """Roles that must sign in to the console with a TOTP code."""
        return frozenset(filter(None, self.mfa_required_roles.split(",")))

    @property
    def console_base(self) -> str:
        """The console's own address: CONSOLE_URL, else PUBLIC_URL."""
        return self.console_url or self.public_url


class SettingsError(Exception):
    """A wrong setting, reduced to one line that names it."""


def load_settings(**overrides: object) -> Settings:
    """Build settings or raise SettingsError with one line naming the bad setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = first.get("loc") or ()
        name = f"OUTREACH_{str(loc[0]).upper()}" if loc else "settings"
        message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
        raise SettingsError(f"configuration error: {name}: {message}") from None
