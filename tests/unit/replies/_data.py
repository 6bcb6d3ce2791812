"""Paths and loaders for the labelled reply files shared by the reply tests."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from bot.domain.replies.evaluation import LabelledReply, load_tsv

DATA = Path(__file__).resolve().parents[2] / "data" / "replies"
LABELLED = DATA / "labelled.tsv"
HELDOUT = DATA / "heldout.tsv"


@cache
def labelled() -> tuple[LabelledReply, ...]:
    return tuple(load_tsv(LABELLED))


@cache
def heldout() -> tuple[LabelledReply, ...]:
    return tuple(load_tsv(HELDOUT))
