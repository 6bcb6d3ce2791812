"""Helpers shared by the CLI commands: run async work, turn known errors into exit codes."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import NoReturn, TypeVar

import typer
from rich.console import Console

from bot.bootstrap import App, StartupError, open_app
from bot.logs import guard_last_resort
from bot.settings import SettingsError, load_settings

T = TypeVar("T")
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print one line to stderr and leave with the contract's exit code."""
    err.print(f"[red]error:[/red] {message}", markup=True)
    raise typer.Exit(code)


def with_app(work: Callable[[App], Awaitable[T]], *, user_errors: tuple[type[Exception], ...] = ()) -> T:
    """Load settings, open the database (migrating it) and run `work`; known errors exit 2."""
    guard_last_resort()  # commands that configure no logging still print warnings redacted
    try:
        settings = load_settings()
    except SettingsError as exc:
        err.print(str(exc), markup=False)
        raise typer.Exit(EXIT_USAGE) from None

    async def _main() -> T:
        async with open_app(settings) as app:
            return await work(app)

    try:
        return asyncio.run(_main())
    except StartupError as exc:
        fail(str(exc))
    except user_errors as exc:
        # Rejected input (bad template, …) exits 1; wrong usage exits 2.
        fail(str(exc), EXIT_REJECTED if getattr(exc, "rejected_input", False) else EXIT_USAGE)


def read_stdin_secret() -> str | None:
    """Read a password from stdin (piped or typed), without echo when it is a terminal."""
    if sys.stdin is None:
        return None
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass("password: ") or None
    line = sys.stdin.readline()
    return line.rstrip("\r\n") or None
