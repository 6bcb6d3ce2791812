"""`outreach simulate reply`: a customer's reply through the real inbound path (log mode only)."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.bootstrap import App, build_channels, build_inbound
from bot.commands.common import out, with_app
from bot.service.inbound.simulate import SimulationRefused, simulate_reply

app = typer.Typer(help="Try the product without customers: simulated replies (log mode only).",
                  no_args_is_help=True)


@app.command("reply")
def reply(
    text: Annotated[str, typer.Argument(help="what the customer writes, e.g. '明天上午再打给我'")],
    customer: Annotated[str, typer.Option("--customer", help="customer id, e.g. D0002")],
    channel: Annotated[str, typer.Option("--channel", help="sms|email|telegram")] = "sms",
) -> None:
    """Feed one reply from a customer through matching, the classifier and the callback
    queue, exactly as a real one would go. Refused unless the channel is in log mode."""

    async def work(a: App) -> str:
        channels = build_channels(a.settings)
        try:
            done = await simulate_reply(build_inbound(a, channels), channels.mode(channel),
                                        customer, channel, text)
        finally:
            await channels.close()
        handled = done.handled
        line = f"stored as message {handled.message_id}: {done.intent or handled.action}"
        if done.confidence is not None:
            line += f" ({done.confidence:.2f})"
        if handled.callback_id:
            line += f"; callback {handled.callback_id} opened or joined"
        return line

    out.print(with_app(work, user_errors=(SimulationRefused,)))
