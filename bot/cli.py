"""The `outreach` command: see `outreach --help` and README.md."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from bot.commands import (
    branch,
    classify,
    customers,
    ops,
    planning,
    sending,
    simulate,
    staff,
    templates,
)

app = typer.Typer(
    name="outreach",
    help=(
        "outreach-bot: greetings and follow-ups (客户回访) for a securities brokerage.\n\n"
        "Start with `outreach demo` (SQLite, channels in log mode, demo data). "
        "Settings come from OUTREACH_* variables or .env; see README.md."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
#: Subcommands and command groups, in the order `outreach --help` lists them.
COMMANDS: tuple[tuple[str, Callable[..., Any] | typer.Typer], ...] = (
    ("run", ops.run), ("demo", ops.demo), ("check", ops.check), ("db", ops.db_app),
    ("branch", branch.app), ("staff", staff.app), ("import", customers.import_app),
    ("customer", customers.customer_cmd), ("plan", planning.plan), ("queue", planning.queue),
    ("classify", classify.classify), ("calendar", planning.calendar_app),
    ("templates", templates.app), ("dispatch", sending.dispatch), ("pause", sending.pause),
    ("resume", sending.resume), ("send-test", sending.send_test), ("simulate", simulate.app),
)
for _name, _command in COMMANDS:
    if isinstance(_command, typer.Typer):
        app.add_typer(_command, name=_name)
    else:
        app.command(_name)(_command)


def main() -> None:
    """Console-script entry point."""
    app()
