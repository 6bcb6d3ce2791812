"""TOTP second factor (RFC 6238, what authenticator apps speak): enrolment with a QR code as
inline SVG (no image files, no outside service) and code checks allowing one step of drift.

A code is good once: the 30-second step of the last accepted code is kept on `staff`, and a
code whose step is not newer is refused (RFC 6238 §5.2), so a code someone saw over a
shoulder or in a proxy log cannot sign in again within its window.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno
import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import Staff, table
from bot.service import events
from bot.service.admin.errors import AdminError

ISSUER = "outreach-bot"


class MfaError(AdminError):
    """An enrolment that cannot be confirmed (wrong code, already enrolled)."""


class CodeReused(MfaError):
    """A right code whose time step was already used (a replay): wait for the next code."""


@dataclass(frozen=True)
class Enrolment:
    """What the enrolment page shows: the secret (typed by hand if need be), its otpauth URI
    and the QR code of that URI as an inline `<svg>`."""

    secret: str
    uri: str
    qr_svg: str


def new_secret() -> str:
    """A fresh base32 secret (160 bits)."""
    return pyotp.random_base32(32)


def enrolment(username: str, secret: str) -> Enrolment:
    """The enrolment view of `secret` for this user (the secret is kept by the caller until
    the first code confirms it)."""
    uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)
    svg = segno.make(uri, error="m").svg_inline(scale=4, title="TOTP")
    return Enrolment(secret, uri, svg)


def code_step(secret: str, code: str, now: datetime) -> int | None:
    """The 30-second step a 6-digit code belongs to (now, or one step before or after for
    clock drift), or None when it matches none of them."""
    code = code.strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    matches = [step for step in (current - 1, current, current + 1)
               if hmac.compare_digest(totp.generate_otp(step), code)]
    return max(matches, default=None)


async def accept_code(session: AsyncSession, staff: Staff, secret: str, code: str,
                      now: datetime) -> bool:
    """Check a code and mark its step used: False for a wrong code, CodeReused for a step not
    newer than the last accepted one. The mark is one conditional UPDATE, so two processes
    given the same code at the same moment accept it once."""
    step = code_step(secret, code, now)
    if step is None:
        return False
    await session.flush()  # a staff member added in this session gets its row (and id)
    staffs = table(Staff)
    newer = sa.or_(staffs.c.totp_last_step.is_(None), staffs.c.totp_last_step < step)
    marked = await session.exec(sa.update(staffs).where(staffs.c.id == staff.id, newer)
                                .values(totp_last_step=step))
    if marked.rowcount != 1:
        raise CodeReused("this code was already used: wait for the next one")
    await session.refresh(staff)
    return True


async def confirm_enrolment(session: AsyncSession, staff: Staff, secret: str, code: str,
                            now: datetime) -> None:
    """Store the secret once the user proves their app produces its codes (the code is then
    spent: it cannot sign in again)."""
    if staff.totp_secret:
        raise MfaError(f"{staff.username} already has a TOTP second factor")
    if not await accept_code(session, staff, secret, code, now):
        raise MfaError("the code does not match: check the phone's clock and try again")
    staff.totp_secret = secret
    events.record(session, "mfa.enrolled", f"{staff.username} enrolled a TOTP second factor",
                  branch_code=staff.branch_code, actor=staff.username)
