"""`outreach classify [--kind K] [--json]`: one reply per stdin line."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from bot.domain.replies import classify as classify_reply

KINDS = ("holiday", "birthday", "new_account", "dormancy", "asset_movement")


def classify(
    kind: Annotated[str | None, typer.Option("--kind", help=f"the touch answered: {'|'.join(KINDS)}")] = None,
    as_json: Annotated[bool, typer.Option("--json", help='{"text", "intent", "confidence"} per line')] = False,
    why: Annotated[bool, typer.Option("--why", help="also print the cues behind each answer")] = False,
) -> None:
    """Classify replies read from stdin, one per line: `intent<TAB>confidence`."""
    if kind is not None and kind not in KINDS:
        sys.stderr.write(f"error: --kind {kind!r}: choose one of {', '.join(KINDS)}\n")
        raise typer.Exit(2)
    for line in sys.stdin:
        text = line.rstrip("\r\n")
        if not text.strip():
            continue
        result = classify_reply(text, kind)
        if as_json:
            record = {"text": text, "intent": result.intent, "confidence": round(result.confidence, 3)}
            if why:
                record["why"] = result.reasons
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            extra = f"\t{'; '.join(result.reasons)}" if why else ""
            sys.stdout.write(f"{result.intent}\t{result.confidence:.2f}{extra}\n")
