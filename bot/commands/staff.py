"""`outreach staff add|deactivate|token|unlock`."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.bootstrap import App
from bot.commands.common import out, read_stdin_secret, with_app
from bot.domain.access import ROLES, needs_password
from bot.service.admin.logins import unlock as unlock_staff
from bot.service.admin.staff import (
    StaffError,
    add_staff,
    deactivate_staff,
    issue_token,
    revoke_token,
)

app = typer.Typer(help="Staff accounts, roles and API tokens.", no_args_is_help=True)


@app.command("add")
def add(
    username: str,
    role: Annotated[str, typer.Option("--role", help=f"one of: {', '.join(ROLES)}")],
    branch: Annotated[str | None, typer.Option(
        "--branch", help="required for sales, agent, branch_admin; optional for compliance")] = None,
    sales: Annotated[bool, typer.Option(
        "--sales", help="in the marketing sequence (营销序列): never does callback work")] = False,
) -> None:
    """Add a staff member; the password is read from stdin (none for `system`).

    Example: echo 'long-password' | outreach staff add wang --role agent --branch SH01
    """
    password = read_stdin_secret() if needs_password(role) else None

    async def work(a: App) -> None:
        async with a.sessions() as s:
            await add_staff(s, username, role, branch, sales, password, actor="cli")
            await s.commit()

    with_app(work, user_errors=(StaffError,))
    out.print(f"staff {username} added as {role}")


@app.command("deactivate")
def deactivate(username: str) -> None:
    """Deactivate a staff member; their tokens stop working at once."""

    async def work(a: App) -> None:
        async with a.sessions() as s:
            await deactivate_staff(s, username, actor="cli")
            await s.commit()

    with_app(work, user_errors=(StaffError,))
    out.print(f"staff {username} deactivated")


@app.command("token")
def token(
    username: str,
    revoke: Annotated[str | None, typer.Option("--revoke", help="token id to revoke")] = None,
) -> None:
    """Issue a bearer token for the API (printed once; only its hash is kept), or revoke one."""

    async def work(a: App) -> tuple[str, str] | None:
        async with a.sessions() as s:
            if revoke:
                await revoke_token(s, username, revoke, actor="cli")
                result = None
            else:
                result = await issue_token(s, username, actor="cli")
            await s.commit()
            return result

    result = with_app(work, user_errors=(StaffError,))
    if result is None:
        out.print(f"token {revoke} revoked")
        return
    token_id, secret = result
    out.print(f"token id: {token_id}")
    out.print(secret)
    out.print("keep it now: it is shown only this once", style="yellow")


@app.command("unlock")
def unlock(username: str) -> None:
    """Unlock a console account locked after OUTREACH_LOGIN_LOCKOUT_ATTEMPTS failed logins."""

    async def work(a: App) -> None:
        async with a.sessions() as s:
            await unlock_staff(s, username, actor="cli")
            await s.commit()

    with_app(work, user_errors=(StaffError,))
    out.print(f"staff {username} unlocked")
