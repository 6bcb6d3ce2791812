"""The `outreach` command: see `outreach --help` and README.md."""

from __future__ import annotations

import typer

from bot.commands import branch, classify, customers, ops, planning, sending, staff, templates

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
app.command("run")(ops.run)
app.command("demo")(ops.demo)
app.command("check")(ops.check)
app.add_typer(ops.db_app, name="db")
app.add_typer(branch.app, name="branch")
app.add_typer(staff.app, name="staff")
app.add_typer(customers.import_app, name="import")
app.command("customer")(customers.customer_cmd)
app.command("plan")(planning.plan)
app.command("queue")(planning.queue)
app.command("classify")(classify.classify)
app.add_typer(planning.calendar_app, name="calendar")
app.add_typer(templates.app, name="templates")
app.command("dispatch")(sending.dispatch)
app.command("pause")(sending.pause)
app.command("resume")(sending.resume)
app.command("send-test")(sending.send_test)


def main() -> None:
    """Console-script entry point."""
    app()
