"""Who may hold which role: the independence rule (独立性原则) and branch scoping."""

from __future__ import annotations

ROLES = ("sales", "agent", "hq_agent", "branch_admin", "compliance", "admin", "system")
BRANCH_REQUIRED = frozenset({"sales", "agent", "branch_admin"})
BRANCH_OPTIONAL = frozenset({"compliance"})
BRANCH_REFUSED = frozenset({"hq_agent", "admin", "system"})
SALES_FLAG_ALLOWED = frozenset({"sales", "branch_admin"})
CALLBACK_ROLES = frozenset({"agent", "hq_agent"})


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
