"""TOTP second factor (RFC 6238, what authenticator apps speak): enrolment with a QR code as
inline SVG (no image files, no outside service) and code checks allowing one step of drift."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import Staff
from bot.service import events
from bot.service.admin.errors import AdminError

ISSUER = "outreach-bot"


class MfaError(AdminError):
    """An enrolment that cannot be confirmed (wrong code, already enrolled)."""


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


def code_ok(secret: str, code: str, now: datetime) -> bool:
    """A 6-digit code valid now, or one 30-second step before or after (clock drift)."""
    code = code.strip().replace(" ", "")
    return len(code) == 6 and code.isdigit() and pyotp.TOTP(secret).verify(
        code, for_time=now, valid_window=1)


async def confirm_enrolment(session: AsyncSession, staff: Staff, secret: str, code: str,
                            now: datetime) -> None:
    """Store the secret once the user proves their app produces its codes."""
    if staff.totp_secret:
        raise MfaError(f"{staff.username} already has a TOTP second factor")
    if not code_ok(secret, code, now):
        raise MfaError("the code does not match: check the phone's clock and try again")
    staff.totp_secret = secret
    events.record(session, "mfa.enrolled", f"{staff.username} enrolled a TOTP second factor",
                  branch_code=staff.branch_code, actor=staff.username)
