"""`outreach run`, `demo`, `check` and `db upgrade|backup`."""

from __future__ import annotations

import sqlite3
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.bootstrap import (
    App,
    build_channels,
    build_dispatcher,
    build_inbound,
    configure_logging,
    safe_url,
)
from bot.commands.common import err, fail, out, with_app
from bot.db.migrate import current_revision
from bot.domain.masking import mask_email
from bot.run.runner import AlreadyRunning, serve, sqlite_run_lock
from bot.service.admin.demo import (
    DEMO_PASSWORD,
    DEMO_REPLIES,
    DEMO_STAFF,
    ensure_secret_key,
    seed_demo,
)
from bot.service.admin.templates import oversized_sms_defaults, sms_limits
from bot.service.dispatch.channel_state import adapter_states, channel_states
from bot.service.inbound.simulate import SimulationRefused, simulate_reply
from channels.base import ChecksReach
from channels.registry import CHANNEL_NAMES, Channels

db_app = typer.Typer(help="Database schema and backups.", no_args_is_help=True)


class Only(StrEnum):
    web = "web"
    scheduler = "scheduler"
    smtp = "smtp"


def run(only: Annotated[Only | None, typer.Option("--only", help="run one part only")] = None) -> None:
    """Run the service: scheduler (plan, dispatch, sweep), web server and SMTP receiver."""

    async def work(a: App) -> None:
        configure_logging(a.settings)
        with sqlite_run_lock(a.settings.database_url):
            await serve(a, only.value if only else None)

    with_app(work, user_errors=(AlreadyRunning,))


def demo(
    seed_only: Annotated[bool, typer.Option(
        "--seed-only", help="seed the demo data and stop instead of running")] = False,
) -> None:
    """Seed a demo branch, staff and ~50 customers (idempotent), then run."""
    if ensure_secret_key(Path(".env")):
        out.print("wrote a new OUTREACH_SECRET_KEY to .env")

    async def work(a: App) -> None:
        result = await seed_demo(a)
        r = result.customers
        out.print(
            f"demo: branch {'created' if result.branch_created else 'present'}, "
            f"{result.staff_created} staff added, customers: {r.created} created, "
            f"{r.updated} updated, {r.unchanged} unchanged"
        )
        if result.staff_created:
            users = ", ".join(u for u, role, *_ in DEMO_STAFF if role != "system")
            out.print(f"demo logins ({users}) use the password {DEMO_PASSWORD!r}: demo only")
        if result.today:
            summary = "; ".join(f"{kind}: " + ", ".join(f"{n} {status}" for status, n in sorted(s.items()))
                                for kind, s in sorted(result.today.items()))
            out.print(f"planned today: {summary}")
        channels = build_channels(a.settings)
        try:
            out.print("channels: " + ", ".join(f"{c} {channels.mode(c)}" for c in CHANNEL_NAMES))
            for line in await _first_replies(a, channels):
                out.print(f"reply: {line}")
        finally:
            await channels.close()
        out.print(f"console: {a.settings.console_base}/console/ (demo-agent / {DEMO_PASSWORD})")
        if not seed_only:
            configure_logging(a.settings)
            with sqlite_run_lock(a.settings.database_url):
                await serve(a, None)

    with_app(work, user_errors=(AlreadyRunning,))


async def _first_replies(a: App, channels: Channels) -> list[str]:
    """Send today's due messages, then let a few demo customers answer through the real
    inbound path (once: each reply has a fixed id), so the queue shows work at once."""
    dispatcher = build_dispatcher(a, channels)
    for _ in range(5):
        if not (await dispatcher.tick()).claimed:
            break
    processor, lines = build_inbound(a, channels), []
    for customer, channel, words, meaning in DEMO_REPLIES:
        try:
            done = await simulate_reply(processor, channels.mode(channel), customer, channel,
                                        words, provider_id=f"demo-{customer}")
        except SimulationRefused:
            continue  # a live channel in a trial: its replies come from customers only
        if not done.handled.duplicate:
            lines.append(f"{customer} ({channel}) 「{words}」 → {meaning}")
    return lines


def check() -> None:
    """Check settings, the database and each channel's mode."""

    async def work(a: App) -> bool:
        ok = True
        out.print(f"settings: ok (time zone {a.settings.timezone}, send window {a.settings.send_window})")
        try:
            async with a.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            out.print(f"database: ok ({safe_url(a.settings.database_url)}, "
                      f"schema {await current_revision(a.engine)})")
        except Exception as exc:  # report any failure as one line
            ok = False
            out.print(f"database: FAILED ({exc.__class__.__name__})")
        channels = build_channels(a.settings)
        try:
            ok = await _check_channels(a, channels) and ok
        finally:
            await channels.close()
        if "console" in a.settings.served and not a.settings.secret_key:
            ok = False
            out.print("console: OUTREACH_SECRET_KEY is not set, so `outreach run` cannot serve "
                      "the console (its sessions are signed with it; `outreach demo` writes one "
                      "to .env)")
        out.print(f"sms routes: {a.settings.sms_routes}")
        if "+86:log" in a.settings.sms_routes.replace(" ", ""):
            out.print("warning: +86 SMS is only logged (no licensed mainland provider): P0 phone "
                      "alerts to mainland numbers are not delivered; they also go by email")
        if a.settings.hq_alert_email:
            out.print(f"head-office alerts: {mask_email(a.settings.hq_alert_email)}")
        async with a.sessions() as session:
            oversized = await oversized_sms_defaults(session, a.settings)
        limits = sms_limits(a.settings).describe()
        if oversized:
            out.print(f"warning: {len(oversized)} default SMS need more segments than allowed "
                      f"({limits}) for the long sample (PUBLIC_URL is "
                      f"{len(a.settings.public_url)} characters; a shorter one helps one-way "
                      "routes; or approve shorter branch templates):")
            for cell in oversized:
                out.print(f"  {cell.describe()}")
        else:
            out.print(f"sms templates: every default fits {limits} for the long sample")
        return ok

    if not with_app(work):
        raise typer.Exit(2)


async def _check_channels(a: App, channels: Channels) -> bool:
    """One line per channel: its mode and state, and whether its provider answers from here."""
    try:
        async with a.sessions() as session:
            states = await channel_states(session, channels)
    except Exception:  # the database line above already said what is wrong
        states = adapter_states(channels)
    ok = True
    for channel in CHANNEL_NAMES:
        mode = channels.mode(channel)
        if mode == "log":
            why = channels.notes.get(channel, "no credentials")
            out.print(f"{channel}: log ({why}: messages are recorded as logged)")
            continue
        notes = [await adapter.reachable() for adapter in channels.adapters(channel)
                 if isinstance(adapter, ChecksReach)]
        state = "" if states[channel] == "ok" else f", {states[channel]}"
        out.print(f"{channel}: {mode}{state} ({'; '.join(notes) or 'credentials set'})")
        ok = ok and not any("NOT reachable" in n for n in notes)
    return ok


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema to the newest version (also done at every start)."""

    async def work(a: App) -> str | None:
        return await current_revision(a.engine)

    out.print(f"database at schema {with_app(work)}")


@db_app.command("backup")
def db_backup(file: Annotated[Path, typer.Argument(help="where to write the copy")]) -> None:
    """Copy a SQLite database safely while it runs (PostgreSQL: use pg_dump, see README)."""
    from bot.settings import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        fail(str(exc))
    url = make_url(settings.database_url)
    if not url.drivername.startswith("sqlite") or not url.database:
        fail("db backup is for SQLite; for PostgreSQL use pg_dump (see README)")
    if file.exists():
        fail(f"{file} exists; choose a new file name")
    source = sqlite3.connect(url.database)
    target = sqlite3.connect(file)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()
    err.print(f"backed up {url.database} to {file}")
