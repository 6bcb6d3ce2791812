"""Branch settings: add, change and show a 营业部's own configuration."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import Branch, utcnow
from bot.service import events
from bot.service.admin.errors import AdminError
from bot.settings import Settings, check_timezone, check_window


class BranchError(AdminError):
    """A branch setting that cannot be accepted; the message names the setting."""


@dataclass
class BranchChanges:
    """Fields an operator may set; None means 'leave as is'."""

    name: str | None = None
    sms_signature: str | None = None
    service_phone: str | None = None
    timezone: str | None = None
    send_window: str | None = None
    working_hours: str | None = None
    assume_consent: bool | None = None
    recording_ref_required: bool | None = None
    manager_email: str | None = None
    manager_phone: str | None = None

    def validated(self) -> dict[str, Any]:
        """Check each given value and return only the ones to apply."""
        values = {k: v for k, v in self.__dict__.items() if v is not None}
        sig = values.get("sms_signature")
        if sig is not None:
            sig = sig.strip().strip("【】").strip()
            if not 2 <= len(sig) <= 12:
                raise BranchError(
                    "--sms-signature: 2 to 12 characters, as registered (e.g. XX证券)"
                )
            values["sms_signature"] = sig
        try:
            if "timezone" in values:
                check_timezone(values["timezone"])
            if "send_window" in values:
                check_window(values["send_window"])
            if "working_hours" in values:
                check_window(values["working_hours"])
        except ValueError as exc:
            raise BranchError(str(exc)) from exc
        if "service_phone" in values:
            values["service_phone"] = _phone(values["service_phone"], "--service-phone")
        if "manager_phone" in values:
            values["manager_phone"] = _phone(values["manager_phone"], "--manager-phone")
        if "manager_email" in values:
            values["manager_email"] = _email(values["manager_email"])
        if "name" in values and not values["name"].strip():
            raise BranchError("--name must not be empty")
        return values


def _phone(value: str, option: str) -> str:
    """Service lines may be short numbers such as 95xxx, so accept digits and dashes."""
    cleaned = value.strip()
    if not cleaned or not all(c.isdigit() or c in "+- ()" for c in cleaned):
        raise BranchError(f"{option}: not a phone number: {value!r}")
    return cleaned


def _email(value: str) -> str:
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise BranchError(f"--manager-email: {exc}") from exc


def default_branch(code: str, settings: Settings) -> Branch:
    """A branch created with the installation's defaults (e.g. met first in an import)."""
    return Branch(
        code=code,
        name=code,
        timezone=settings.timezone,
        send_window=settings.send_window,
        working_hours=settings.working_hours,
    )


async def add_branch(
    session: AsyncSession, code: str, changes: BranchChanges, settings: Settings, actor: str
) -> Branch:
    """Create a branch; refuses an existing code so a typo never rewrites another branch."""
    if not code or len(code) > 32 or not code.replace("-", "").replace("_", "").isalnum():
        raise BranchError("branch code: 1-32 letters, digits, - or _")
    if await session.get(Branch, code) is not None:
        raise BranchError(f"branch {code} exists; use `outreach branch set {code}`")
    branch = default_branch(code, settings)
    for key, value in changes.validated().items():
        setattr(branch, key, value)
    session.add(branch)
    events.record(session, "branch.added", f"branch {code} added", branch_code=code, actor=actor)
    return branch


@dataclass
class FestivalChanges:
    """Festival options of `branch set`: switches, own festivals, offset."""

    switches: list[str] = field(default_factory=list)
    add: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    offset: int | None = None

    def any(self) -> bool:
        return bool(self.switches or self.add or self.remove or self.offset is not None)


async def set_branch(
    session: AsyncSession, code: str, changes: BranchChanges, actor: str,
    festivals: FestivalChanges | None = None,
) -> Branch:
    """Change some settings of a branch and record what changed."""
    from bot.service.admin.festivals import FestivalError, apply_festival_changes

    branch = await session.get(Branch, code)
    if branch is None:
        raise BranchError(f"no branch {code}; add it with `outreach branch add {code}`")
    values = changes.validated()
    festivals = festivals or FestivalChanges()
    if not values and not festivals.any():
        raise BranchError("nothing to change: give at least one option (see --help)")
    for key, value in values.items():
        setattr(branch, key, value)
    if festivals.any():
        try:
            values["festivals"] = apply_festival_changes(
                branch, festivals.switches, festivals.add, festivals.remove, festivals.offset)
        except FestivalError as exc:
            raise BranchError(str(exc)) from exc
    branch.updated_at = utcnow()
    events.record(
        session,
        "branch.changed",
        f"branch {code}: {', '.join(sorted(values))} changed",
        branch_code=code,
        actor=actor,
        payload={"fields": sorted(values), "festivals": values.get("festivals")},
    )
    return branch
