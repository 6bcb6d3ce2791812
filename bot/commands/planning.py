"""`outreach plan` and `outreach calendar import`."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from bot.bootstrap import App
from bot.commands.common import EXIT_REJECTED, err, fail, out, with_app
from bot.service.admin.calendar_import import read_calendar, store_calendar
from bot.service.customers.csv_encoding import EncodingError
from bot.service.planning.planner import PlanResult
from bot.service.planning.service import plan_day

calendar_app = typer.Typer(help="The working-day calendar (调休 arrangement).", no_args_is_help=True)


def plan(
    day: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD (default: today)")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="show what would be planned; write nothing")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="DESIGN.md's JSON shape")] = False,
) -> None:
    """Plan one day's touches: birthdays, festivals, new accounts, dormancy (idempotent)."""
    try:
        when = date.fromisoformat(day) if day else None
    except ValueError:
        fail(f"--date: {day!r} is not YYYY-MM-DD")

    async def work(a: App) -> PlanResult:
        return await plan_day(a, when, dry_run=dry_run)

    result = with_app(work)
    for warning in result.warnings:
        err.print(f"warning: {warning}", markup=False)
    if as_json:
        out.print(json.dumps(result.as_json(), ensure_ascii=False), markup=False)
        return
    table = Table("kind", "status", "touches", title=f"plan {result.day}"
                  + (" (dry run: nothing written)" if dry_run else ""))
    for kind, statuses in sorted(result.by_kind.items()):
        for status, n in sorted(statuses.items()):
            table.add_row(kind, status, str(n))
    out.print(table)
    if result.skipped_backfill:
        out.print(f"{result.skipped_backfill} long-dormant customers recorded as skipped_backfill")
    for channel, cap in result.capacity.items():
        line = f"{channel}: {cap['planned']} planned / {cap['capacity']} sendable in the window"
        if cap["expected_expired"]:
            line += f"; expected to expire: {cap['expected_expired']}"
        out.print(line)


@calendar_app.command("import")
def calendar_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False,
                                         help="CSV with lines date,working (1 or 0)")],
) -> None:
    """Import the official working-day arrangement for whole years (replaces those years)."""
    try:
        rows, errors = read_calendar(file)
    except EncodingError as exc:
        fail(str(exc))
    for line in errors:
        err.print(line, markup=False)
    if not rows:
        fail("no valid lines: nothing imported")

    async def work(a: App) -> dict[int, int]:
        async with a.sessions() as s:
            years = await store_calendar(s, rows)
            await s.commit()
            return years

    years = with_app(work)
    for year, n in years.items():
        out.print(f"calendar {year}: {n} days from the official arrangement")
    if errors:
        raise typer.Exit(EXIT_REJECTED)


def queue(
    branch: Annotated[str | None, typer.Option("--branch", help="one branch only")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="DESIGN.md's JSON shape")] = False,
) -> None:
    """Open callbacks, most urgent first (priority, then SLA)."""
    from bot.service.callbacks.queue import queue_view

    async def work(a: App) -> list[dict[str, object]]:
        async with a.sessions() as s:
            return await queue_view(s, branch, tz=a.settings.timezone, call_windows=not as_json)

    rows = with_app(work)
    if as_json:
        out.print(json.dumps(rows, ensure_ascii=False), markup=False)
        return
    table = Table("id", "priority", "customer", "branch", "reasons", "SLA", "status", "assignee",
                  "phone", "call (话术建议)", title="callback queue")
    for r in rows:
        sla = str(r["sla_due_at"])[:16] + (" BREACHED" if r["breached"] else "")
        table.add_row(str(r["callback_id"]), str(r["priority"]), str(r["customer_id"]),
                      str(r["branch"]), ", ".join(r["reasons"]),  # type: ignore[arg-type]
                      sla, str(r["status"]), str(r["assignee"] or ""), str(r["phone"]),
                      str(r.get("call_window", "")))
    out.print(table)
