"""Access rules: roles, branch scope and the independence rule (独立性原则), defined once."""

from __future__ import annotations

from typing import Protocol

ROLES = ("sales", "agent", "hq_agent", "branch_admin", "compliance", "admin", "system")
BRANCH_REQUIRED = frozenset({"sales", "agent", "branch_admin"})
BRANCH_OPTIONAL = frozenset({"compliance"})
BRANCH_REFUSED = frozenset({"hq_agent", "admin", "system"})
SALES_FLAG_ALLOWED = frozenset({"sales", "branch_admin"})
CALLBACK_ROLES = frozenset({"agent", "hq_agent"})
#: Who signs in to the staff console: everyone but sales (营销序列) and the token-only system.
CONSOLE_ROLES = ("agent", "hq_agent", "branch_admin", "compliance", "admin")


class RoleError(ValueError):
    """A role assignment the rules forbid; the message is shown to the operator as is."""


def check_role_assignment(role: str, branch: str | None, sales_flag: bool) -> None:
    """Raise RoleError with a clear message when role, branch and sales flag don't fit."""
    if role not in ROLES:
        raise RoleError(f"unknown role {role!r}; choose one of: {', '.join(ROLES)}")
    if role in BRANCH_REQUIRED and not branch:
        raise RoleError(f"role {role} belongs to one branch: add --branch CODE")
    if role in BRANCH_REFUSED and branch:
        raise RoleError(f"role {role} works for every branch: leave out --branch")
    if sales_flag and role in CALLBACK_ROLES:
        raise RoleError(
            f"independence rule: sales staff cannot do callback work, so {role} is refused "
            "(营销序列人员不得担任回访工作)"
        )
    if sales_flag and role not in SALES_FLAG_ALLOWED:
        raise RoleError("--sales is only for roles sales and branch_admin")


def needs_password(role: str) -> bool:
    """Everyone logs in with a password except `system`, which uses tokens only."""
    return role != "system"


# --- who may do what: one place for the console, the API and the queue -----------------


class StaffLike(Protocol):
    """What the access rules read of a staff member (the `Staff` table row fits)."""

    username: str
    role: str
    branch_code: str | None
    is_sales: bool
    active: bool


def in_sales_sequence(staff: StaffLike) -> bool:
    """营销序列: a sales rep, or a branch admin flagged as sales."""
    return staff.is_sales or staff.role == "sales"


def callback_work_refusal(staff: StaffLike) -> str | None:
    """Why this person may not claim or record callbacks (独立性原则), or None."""
    if not staff.active:
        return f"{staff.username} is deactivated"
    if in_sales_sequence(staff):
        return "independence rule: sales staff cannot do callback work (营销序列人员不得回访)"
    if staff.role not in CALLBACK_ROLES:
        return f"{staff.username} ({staff.role}) does not work the callback queue"
    return None


def console_refusal(staff: StaffLike) -> str | None:
    """Why this person may not use the staff console (sign in or stay signed in), or None."""
    if not staff.active:
        return f"{staff.username} is deactivated"
    if staff.role not in CONSOLE_ROLES:
        return f"role {staff.role} has no console access"
    return None


def read_refusal(staff: StaffLike) -> str | None:
    """Why this person may not read callback work and customers' records, or None."""
    if in_sales_sequence(staff) or staff.role == "system":
        return "sales staff cannot read callback work (独立性原则)"
    return None


def branch_scope(staff: StaffLike, asked: str | None) -> tuple[str | None, str | None]:
    """(the branch this person may read, None for all; why the one asked for is refused).

    Branch roles and branch compliance see their own branch; head office sees any."""
    refused = read_refusal(staff)
    if refused:
        return None, refused
    if staff.role in ("agent", "branch_admin") or (staff.role == "compliance" and staff.branch_code):
        if asked not in (None, staff.branch_code):
            return None, f"{staff.username} works for branch {staff.branch_code}"
        return staff.branch_code, None
    return asked, None


def own_customer_refusal(staff: StaffLike, sales_rep: str | None) -> str | None:
    """Nobody works or reads the callbacks of a customer whose sales rep they are."""
    if sales_rep and sales_rep == staff.username:
        return f"{staff.username} is this customer's sales rep: independence rule (独立性原则)"
    return None
