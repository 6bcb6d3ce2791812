"""The `outreach` subcommands (Typer), an entry point; `bot.cli` wires them."""
