"""`outreach import customers FILE.csv` and `outreach customer ID`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from bot.bootstrap import App
from bot.commands.common import EXIT_REJECTED, err, fail, out, with_app
from bot.service.customers.csv_encoding import EncodingError
from bot.service.customers.csv_reader import ImportFileError
from bot.service.customers.importer import ImportReport, import_customers
from bot.service.customers.view import customer_view
from bot.service.planning.planner import PlanResult
from bot.service.planning.service import plan_day

import_app = typer.Typer(help="Import data from files.", no_args_is_help=True)


@import_app.command("customers")
def import_customers_cmd(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         help="customer CSV (UTF-8 or GB18030)")],
) -> None:
    """Upsert customers from a CSV by customer_id.

    Required columns customer_id,name,branch; optional phone,email,telegram_chat_id,
    birthday,opened_on,last_trade_on,tier,sales_rep,locale,channels,salutation,
    marketing_consent,consent_at,status. An empty cell keeps the stored value; `-` clears it.
    Bad lines are printed as `line N, column C: reason` and skipped; exit code 1 if any.
    """
    progress = Progress(TextColumn("importing"), BarColumn(), MofNCompleteColumn(),
                        TimeRemainingColumn(), console=err, transient=True)

    async def work(a: App) -> tuple[ImportReport, PlanResult | None]:
        task = progress.add_task("import", total=None)
        with progress:
            report = await import_customers(
                a.engine, file, a.settings,
                progress=lambda n: progress.advance(task, n),
                total=lambda n: progress.update(task, total=n),
                say=lambda line: progress.console.print(line, markup=False),
            )
        # Changed customers may be due today (a new account opened yesterday): re-plan today.
        replanned = await plan_day(a) if report.created or report.updated else None
        return report, replanned

    report, replanned = with_app(work, user_errors=(ImportFileError, EncodingError))
    out.print(
        f"{file.name} ({report.encoding}): {report.lines} lines; created {report.created}, "
        f"updated {report.updated}, unchanged {report.unchanged}, rejected {report.error_count}"
    )
    if replanned is not None:
        planned = sum(s.get("planned", 0) for s in replanned.by_kind.values())
        out.print(f"re-planned {replanned.day}: {planned} touch(es) planned for today")
    if report.kept_learned:
        out.print(f"kept {report.kept_learned} value(s) the bot learned (opt-outs, Telegram bindings)")
    if report.error_count:
        raise typer.Exit(EXIT_REJECTED)


def customer_cmd(
    customer_id: Annotated[str, typer.Argument(help="customer_id as imported")],
    as_json: Annotated[bool, typer.Option("--json", help="DESIGN.md's JSON shape")] = False,
) -> None:
    """Show one customer (masked) with consent, addresses and timeline."""

    async def work(a: App) -> dict[str, Any] | None:
        async with a.sessions() as s:
            return await customer_view(s, customer_id, a.settings)

    view = with_app(work)
    if view is None:
        fail(f"no customer {customer_id}")
    if as_json:
        out.print(json.dumps(view, ensure_ascii=False, indent=2), markup=False)
        return
    c = view["customer"]
    out.print(f"[bold]{c['customer_id']}[/bold] {c['name']}  branch {c['branch']}  "
              f"{c['tier']}  {c['status']}  {c['locale']}")
    consent = view["consent"]
    out.print(f"marketing consent: {'yes' if consent['marketing'] else 'no'}"
              + (f" (since {consent['changed_at']})" if consent["changed_at"] else ""))
    for address in view["addresses"]:
        out.print(f"  {address['channel']:<9} {address['address']}  {address['status']}")
    table = Table("at", "type", "actor", "channel", "summary", title="timeline")
    for item in view["timeline"]:
        table.add_row(item["at"][:19], item["type"], item["actor"], item["channel"] or "",
                      item["summary"])
    out.print(table)
