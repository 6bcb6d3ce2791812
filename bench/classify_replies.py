"""Replies per second of `classify` over the labelled set, against a naive keyword baseline.

The baseline is the cheapest thing that could work: `str.lower` plus one `in`
check per keyword (every plain word in the lexicons), first hit wins. It shows
what the normalisation, negation and precedence cost.

    .venv/bin/python bench/classify_replies.py [--repeat N]
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Callable
from pathlib import Path

from bot.domain.replies import classify
from bot.domain.replies import lexicon as lx
from bot.domain.replies.evaluation import evaluate, load_tsv

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "replies"
_PLAIN = re.compile(r"^[\w\u3400-\u9fff ]+$")


def baseline_keywords() -> list[tuple[str, str]]:
    """(keyword, intent) for every alternative in the lexicons that is a plain word."""
    pairs = []
    for intent, cues in lx.cues().items():
        for pattern, _weight, _negation in cues:
            for word in pattern.split("|"):
                if _PLAIN.match(word) and len(word) > 1:
                    pairs.append((word, intent))
    return pairs


def make_baseline() -> Callable[[str, str | None], str]:
    keywords = baseline_keywords()

    def predict(text: str, kind: str | None = None) -> str:
        lowered = text.lower()
        for word, intent in keywords:
            if word in lowered:
                return intent
        return "neutral"

    return predict


def rate(predict: Callable[[str, str | None], str], texts: list[tuple[str, str | None]]) -> float:
    started = time.perf_counter()
    for text, kind in texts:
        predict(text, kind)
    return len(texts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="passes over the labelled set")
    args = parser.parse_args()
    rows = load_tsv(DATA / "labelled.tsv")
    texts = [(r.text, r.kind) for r in rows] * args.repeat
    baseline = make_baseline()
    classify("warm-up")
    ours = rate(lambda t, k: classify(t, k).intent, texts)
    raw = rate(baseline, texts)
    print(f"{len(texts)} replies ({len(rows)} labelled × {args.repeat})")
    print(f"classify:  {ours:>10,.0f} replies/s")
    print(f"baseline:  {raw:>10,.0f} replies/s  ({len(baseline_keywords())} keywords, `in` each)")
    for name, predict in (("classify", lambda t, k: classify(t, k).intent), ("baseline", baseline)):
        for label, file in (("labelled", "labelled.tsv"), ("held-out", "heldout.tsv")):
            report = evaluate(load_tsv(DATA / file), predict)
            print(
                f"{name:9} {label:8} accuracy={report.accuracy:.3f} macro-F1={report.macro_f1:.3f}"
            )


if __name__ == "__main__":
    main()
