"""Staff accounts: roles under the independence rule, argon2 passwords, hashed tokens."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import ApiToken, Branch, Staff, utcnow
from bot.domain.access import RoleError, check_role_assignment, needs_password
from bot.service import events
from bot.service.admin.errors import AdminError

_hasher = PasswordHasher()
MIN_PASSWORD = 8


class StaffError(AdminError):
    """A staff operation that cannot be done; the message is shown as is."""


def hash_token(token: str) -> str:
    """Tokens carry 256 random bits, so a plain SHA-256 is enough to store them."""
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str | None) -> str:
    """The argon2 hash of a new password, refusing short ones (add and change share it)."""
    if not password or len(password) < MIN_PASSWORD:
        raise StaffError(f"password: at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def verify_password(staff: Staff, password: str) -> bool:
    """Check a login password against the stored argon2 hash."""
    if not staff.password_hash or not staff.active:
        return False
    try:
        return _hasher.verify(staff.password_hash, password)
    except VerificationError:
        return False


async def add_staff(
    session: AsyncSession,
    username: str,
    role: str,
    branch: str | None,
    sales: bool,
    password: str | None,
    actor: str,
) -> Staff:
    """Create a staff account after checking role, branch, sales flag and password."""
    try:
        check_role_assignment(role, branch, sales)
    except RoleError as exc:
        raise StaffError(str(exc)) from exc
    if not username or len(username) > 64 or any(c.isspace() for c in username):
        raise StaffError("username: 1-64 characters without spaces")
    if branch and await session.get(Branch, branch) is None:
        raise StaffError(f"no branch {branch}; add it first with `outreach branch add {branch}`")
    existing = (await session.exec(select(Staff).where(Staff.username == username))).first()
    if existing is not None:
        raise StaffError(f"staff {username} exists")
    if needs_password(role):
        try:
            password_hash: str | None = hash_password(password)
        except StaffError as exc:
            raise StaffError(f"{exc} (read from stdin)") from None
    else:
        if password:
            raise StaffError("the system user has no password: it uses tokens only")
        password_hash = None
    staff = Staff(username=username, role=role, branch_code=branch, is_sales=sales,
                  password_hash=password_hash)
    session.add(staff)
    sales_note = " (sales)" if sales else ""
    events.record(session, "staff.added", f"staff {username} added as {role}{sales_note}",
                  branch_code=branch, actor=actor)
    return staff


async def get_staff(session: AsyncSession, username: str) -> Staff:
    """Find a staff member by username or raise a clear error."""
    staff = (await session.exec(select(Staff).where(Staff.username == username))).first()
    if staff is None:
        raise StaffError(f"no staff {username}")
    return staff


async def deactivate_staff(session: AsyncSession, username: str, actor: str) -> Staff:
    """Deactivate an account and revoke its tokens at once."""
    staff = await get_staff(session, username)
    if not staff.active:
        raise StaffError(f"staff {username} is already deactivated")
    staff.active = False
    staff.deactivated_at = utcnow()
    tokens = await session.exec(
        select(ApiToken).where(ApiToken.staff_id == staff.id, ApiToken.revoked_at.is_(None))  # type: ignore[union-attr]
    )
    for token in tokens:
        token.revoked_at = utcnow()
    events.record(session, "staff.deactivated", f"staff {username} deactivated",
                  branch_code=staff.branch_code, actor=actor)
    return staff


async def issue_token(session: AsyncSession, username: str, actor: str) -> tuple[str, str]:
    """Issue a bearer token; returns (token id, token). Only the hash is stored."""
    staff = await get_staff(session, username)
    if not staff.active:
        raise StaffError(f"staff {username} is deactivated")
    token_id = secrets.token_hex(4)
    token = f"ob_{token_id}_{secrets.token_urlsafe(32)}"
    session.add(ApiToken(id=token_id, staff_id=staff.id, token_hash=hash_token(token)))  # type: ignore[arg-type]
    events.record(session, "staff.token_issued", f"token {token_id} issued to {username}",
                  branch_code=staff.branch_code, actor=actor)
    return token_id, token


async def revoke_token(session: AsyncSession, username: str, token_id: str, actor: str) -> None:
    """Revoke one of a staff member's tokens by its id."""
    staff = await get_staff(session, username)
    token = await session.get(ApiToken, token_id)
    if token is None or token.staff_id != staff.id:
        raise StaffError(f"{username} has no token {token_id}")
    if token.revoked_at is not None:
        raise StaffError(f"token {token_id} is already revoked")
    token.revoked_at = utcnow()
    events.record(session, "staff.token_revoked", f"token {token_id} of {username} revoked",
                  branch_code=staff.branch_code, actor=actor)


async def staff_for_token(session: AsyncSession, token: str) -> Staff | None:
    """The active staff member a bearer token belongs to, if it is valid."""
    row = (
        await session.exec(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    ).first()
    if row is None or row.revoked_at is not None:
        return None
    staff = await session.get(Staff, row.staff_id)
    return staff if staff is not None and staff.active else None
