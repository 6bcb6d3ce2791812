"""Console sign-in: password (argon2), a growing delay after failures, the optional lock-out,
the TOTP step, password change and the checks a session passes on every request.

Nothing here sleeps or keeps state in memory: failures are counted in the database (per
account on `staff`, per client address in `loginfailure`), so every process applies the same
delay, and a caller told to wait gets the seconds in `LoginThrottled.retry_after`. Functions
that record a failure add it to the session before raising: the caller commits either way.
Events name the staff member (a username) and the client address, never what was typed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import LoginFailure, Staff, table
from bot.domain.access import console_refusal
from bot.domain.text import unstorable
from bot.service import events
from bot.service.admin.errors import AdminError
from bot.service.admin.mfa import CodeReused, accept_code
from bot.service.admin.staff import StaffError, get_staff, hash_password, verify_password
from bot.settings import Settings

#: The longest wait after failures; the delay doubles up to it (0, 1, 2, 4, … 30 s).
MAX_DELAY_SECONDS = 30
#: An address's failures older than this are forgotten (offices share one NAT address).
IP_MEMORY = timedelta(minutes=15)


class LoginError(AdminError):
    """A sign-in step refused; the web layer chooses the words the user sees by type."""


class BadCredentials(LoginError):
    """Wrong username, password or code; `retry_after` seconds before the next try counts."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class CodeAlreadyUsed(BadCredentials):
    """A right TOTP code used before (a replay): counted as a failure like a wrong code."""


class LoginThrottled(LoginError):
    """Too soon after failures: nothing was checked; try again in `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed attempts: wait {retry_after} s")
        self.retry_after = retry_after


class AccountLocked(LoginError):
    """LOGIN_LOCKOUT_ATTEMPTS failures in a row: an admin runs `outreach staff unlock USER`."""


class ConsoleRefused(LoginError):
    """The password was right but this role has no console (sales, system)."""


class PasswordChangeError(LoginError):
    """A password change refused; the subclass says why."""


class WrongCurrentPassword(PasswordChangeError):
    """The current password given with the change is wrong."""


class PasswordUnchanged(PasswordChangeError):
    """The new password is the current one."""


class WeakPassword(PasswordChangeError):
    """The new password is too short."""


@dataclass(frozen=True)
class LoginPolicy:
    """The settings sign-in reads; built once per web app."""

    lockout_attempts: int = 0
    mfa_roles: frozenset[str] = frozenset({"admin", "compliance"})

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginPolicy:
        return cls(settings.login_lockout_attempts, settings.mfa_roles)


SecondFactor = Literal["none", "totp", "enrol"]


@dataclass(frozen=True)
class PasswordOk:
    """The password step passed; `second` says what comes next (none: signed in)."""

    staff: Staff
    second: SecondFactor


def delay_after(failures: int) -> int:
    """Seconds to wait after `failures` in a row: 0, 0, 1, 2, 4, 8, 16, 30, 30, …"""
    if failures < 2:
        return 0
    return min(MAX_DELAY_SECONDS, 2 ** (failures - 2))


def _wait(failures: int, last_at: datetime | None, now: datetime) -> int:
    if not failures or last_at is None:
        return 0
    ready = last_at + timedelta(seconds=delay_after(failures))
    return max(0, math.ceil((ready - now).total_seconds()))


def _ip_failures(row: LoginFailure | None, now: datetime) -> int:
    return 0 if row is None or now - row.last_at > IP_MEMORY else row.failures


async def wait_seconds(session: AsyncSession, staff: Staff | None, ip: str, now: datetime) -> int:
    """How long before the next attempt for this account and address may be checked."""
    row = await session.get(LoginFailure, ip)
    ip_wait = _wait(_ip_failures(row, now), row.last_at if row else None, now)
    account_wait = _wait(staff.failed_logins, staff.last_failed_login_at, now) if staff else 0
    return max(ip_wait, account_wait)


@cache
def _decoy_hash() -> str:
    return hash_password("decoy-password-never-used")


async def _find(session: AsyncSession, username: str) -> Staff | None:
    if unstorable(username):  # nobody is called that, and PostgreSQL would fail the query
        return None
    return (await session.exec(select(Staff).where(Staff.username == username))).first()


async def check_password(session: AsyncSession, username: str, password: str, *, ip: str,
                         now: datetime, policy: LoginPolicy) -> PasswordOk:
    """The password step. Raises LoginThrottled (checked nothing), AccountLocked,
    BadCredentials (a failure recorded) or ConsoleRefused; with `second == "none"` the
    sign-in is complete and recorded."""
    staff = await _find(session, username)
    await _refuse_early(session, staff, ip, now)
    checked = staff if staff is not None else Staff(username="", role="agent",
                                                     password_hash=_decoy_hash())
    if staff is None or not verify_password(checked, password):
        raise await _failure(session, staff, ip, now, policy, "password")
    refusal = console_refusal(staff)
    if refusal:
        events.record(session, "login.refused", f"{staff.username}: {refusal}",
                      branch_code=staff.branch_code, actor=staff.username, payload={"ip": ip})
        raise ConsoleRefused(refusal)
    second: SecondFactor = ("totp" if staff.totp_secret
                            else "enrol" if staff.role in policy.mfa_roles else "none")
    if second == "none":
        await succeeded(session, staff, ip, now)
    return PasswordOk(staff, second)


async def check_totp(session: AsyncSession, staff_id: int, code: str, *, ip: str,
                     now: datetime, policy: LoginPolicy) -> Staff:
    """The TOTP step after a right password: throttled and counted like passwords; a code
    already used (a replay) counts as a failure too."""
    staff = await session.get(Staff, staff_id)
    await _refuse_early(session, staff, ip, now)
    if staff is None or console_refusal(staff) or not staff.totp_secret:
        raise BadCredentials("sign in again", 0)
    try:
        accepted = await accept_code(session, staff, staff.totp_secret, code, now)
    except CodeReused:
        raise await _failure(session, staff, ip, now, policy, "code (already used)",
                             CodeAlreadyUsed) from None
    if not accepted:
        raise await _failure(session, staff, ip, now, policy, "code")
    await succeeded(session, staff, ip, now)
    return staff


async def _refuse_early(session: AsyncSession, staff: Staff | None, ip: str,
                        now: datetime) -> None:
    wait = await wait_seconds(session, staff, ip, now)
    if wait:
        raise LoginThrottled(wait)
    if staff is not None and staff.locked_at is not None:
        raise AccountLocked(f"{staff.username} is locked: an admin must unlock it")


def _upsert(dialect: str) -> Any:
    module: Any = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table(LoginFailure))


async def _failure(session: AsyncSession, staff: Staff | None, ip: str, now: datetime,
                   policy: LoginPolicy, what: str,
                   error: type[BadCredentials] = BadCredentials) -> LoginError:
    """Count one failure for the address and the account (atomically: several processes may
    count at once), lock when the policy says so, record it; returns the error to raise."""
    failures = table(LoginFailure)
    conn = await session.connection()
    fresh = failures.c.last_at >= now - IP_MEMORY
    stmt = _upsert(conn.dialect.name).values(ip=ip, failures=1, last_at=now)
    await session.exec(stmt.on_conflict_do_update(index_elements=["ip"], set_={
        "failures": sa.case((fresh, failures.c.failures + 1), else_=1), "last_at": now}))
    payload = {"ip": ip}
    if staff is None:
        events.record(session, "login.failed", "console login failed: unknown username",
                      actor="anonymous", payload=payload)
        return BadCredentials("wrong username or password",
                              await wait_seconds(session, None, ip, now))
    staffs = table(Staff)
    await session.exec(sa.update(staffs).where(staffs.c.id == staff.id).values(
        failed_logins=staffs.c.failed_logins + 1, last_failed_login_at=now))
    await session.refresh(staff)
    events.record(session, "login.failed", f"console login of {staff.username} failed: wrong {what}",
                  branch_code=staff.branch_code, actor=staff.username,
                  payload={**payload, "failures": staff.failed_logins})
    if policy.lockout_attempts and staff.failed_logins >= policy.lockout_attempts:
        staff.locked_at = now
        events.record(session, "login.locked",
                      f"{staff.username} locked after {staff.failed_logins} failed logins",
                      branch_code=staff.branch_code, actor=staff.username, payload=payload)
        return AccountLocked(f"{staff.username} is locked: an admin must unlock it")
    return error(f"wrong {what}", await wait_seconds(session, staff, ip, now))


async def succeeded(session: AsyncSession, staff: Staff, ip: str, now: datetime) -> None:
    """A complete sign-in: the account's and the address's failures are forgotten."""
    staff.failed_logins = 0
    staff.last_failed_login_at = None
    await session.exec(sa.delete(table(LoginFailure)).where(table(LoginFailure).c.ip == ip))
    events.record(session, "login.ok", f"{staff.username} signed in to the console",
                  branch_code=staff.branch_code, actor=staff.username, payload={"ip": ip})


def session_refusal(staff: Staff | None, issued_at: datetime) -> str | None:
    """Why a console session issued at `issued_at` no longer holds, or None: the account is
    gone, deactivated, locked, lost console access, or was signed out everywhere since."""
    if staff is None:
        return "no such staff"
    refusal = console_refusal(staff)
    if refusal:
        return refusal
    if staff.locked_at is not None:
        return f"{staff.username} is locked"
    if staff.sessions_valid_after is not None and issued_at < staff.sessions_valid_after:
        return "signed out everywhere"
    return None


async def sign_out_everywhere(session: AsyncSession, staff: Staff, now: datetime,
                              actor: str) -> None:
    """Void every session issued before `now` (the caller reissues its own at `now`)."""
    staff.sessions_valid_after = now
    events.record(session, "staff.signed_out", f"sessions of {staff.username} ended",
                  branch_code=staff.branch_code, actor=actor)


async def change_password(session: AsyncSession, staff: Staff, current: str, new: str,
                          now: datetime) -> None:
    """Set a new password after checking the current one; other sessions end (they were
    issued before `now`)."""
    if not verify_password(staff, current):
        raise WrongCurrentPassword("the current password is wrong")
    if new == current:
        raise PasswordUnchanged("the new password is the current one")
    try:
        staff.password_hash = hash_password(new)
    except StaffError as exc:
        raise WeakPassword(str(exc)) from None
    events.record(session, "staff.password_changed", f"{staff.username} changed their password",
                  branch_code=staff.branch_code, actor=staff.username)
    await sign_out_everywhere(session, staff, now, actor=staff.username)


async def unlock(session: AsyncSession, username: str, actor: str) -> Staff:
    """`outreach staff unlock USER`: lift a lock-out and forget the account's failures."""
    staff = await get_staff(session, username)
    if staff.locked_at is None and not staff.failed_logins:
        raise StaffError(f"staff {username} is not locked")
    staff.locked_at = None
    staff.failed_logins = 0
    staff.last_failed_login_at = None
    events.record(session, "staff.unlocked", f"{username} unlocked",
                  branch_code=staff.branch_code, actor=actor)
    return staff
