"""The labelled sets are what the issue asks for: size, intents, languages, and variety."""

from __future__ import annotations

import hashlib
import re
from collections import Counter

from bot.domain.replies._t2s import T2S
from bot.domain.replies.lexicon import INTENTS
from tests.unit.replies._data import HELDOUT, heldout, labelled

# Frozen before any classifier code existed; changing it needs a new, untuned file.
HELDOUT_SHA256 = "6c285d0566e8102eb3c1c8a283aee306b853f3f3310538ef686cbea6c30f4a55"
KINDS = {
    "new_account", "dormancy", "birthday", "holiday", "asset_movement", "account_closed",
    "post_trade", "tier_care", "rep_departure", "complaint_followup",
}  # fmt: skip
CJK = re.compile(r"[\u3400-\u9fff]")
ASCII_LETTER = re.compile(r"[A-Za-z]")
FULL_WIDTH = re.compile(r"[\uff01-\uff5e]")
EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf]")


def is_chinese(text: str) -> bool:
    return CJK.search(text) is not None


def is_english(text: str) -> bool:
    """No CJK and at least three ASCII letters (so 'TD' and 'T' count as neither)."""
    return not is_chinese(text) and len(ASCII_LETTER.findall(text)) >= 3


def test_labelled_counts_per_intent() -> None:
    counts = Counter(row.intent for row in labelled())
    assert set(counts) == set(INTENTS)
    assert all(counts[i] >= 30 for i in INTENTS), counts
    assert all(counts[i] >= 50 for i in ("not_me", "complaint", "opt_out")), counts


def test_labelled_language_shares() -> None:
    rows = labelled()
    chinese = sum(is_chinese(r.text) for r in rows) / len(rows)
    english = sum(is_english(r.text) for r in rows) / len(rows)
    assert chinese >= 0.60, chinese
    assert english >= 0.20, english


def test_labelled_variety() -> None:
    texts = [r.text for r in labelled()]
    traditional = sum(any(ord(c) in T2S for c in t) for t in texts)
    mixed = sum(is_chinese(t) and bool(re.search(r"[A-Za-z]{2,}", t)) for t in texts)
    assert traditional >= 30, traditional
    assert mixed >= 10, mixed
    assert sum(bool(FULL_WIDTH.search(t)) for t in texts) >= 5
    assert sum(bool(EMOJI.search(t)) for t in texts) >= 15
    assert sum(r.kind is not None for r in labelled()) >= 80


def test_kinds_are_touch_kinds() -> None:
    assert {r.kind for r in (*labelled(), *heldout())} - {None} <= KINDS


def test_heldout_is_frozen_and_covers_every_intent() -> None:
    assert hashlib.sha256(HELDOUT.read_bytes()).hexdigest() == HELDOUT_SHA256
    rows = heldout()
    assert len(rows) >= 150
    assert {r.intent for r in rows} == set(INTENTS)


def test_no_reply_in_both_sets_or_twice() -> None:
    dev = [(r.text, r.kind) for r in labelled()]
    assert len(dev) == len(set(dev))
    assert not set(dev) & {(r.text, r.kind) for r in heldout()}
