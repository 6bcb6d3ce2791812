"""Replies per second and scores of `classify` (rules + model), against the rules alone and a
naive keyword baseline.

    .venv/bin/python bench/classify_replies.py [--repeat N]
    .venv/bin/python bench/classify_replies.py --set PATH [--set PATH …]

`--set` scores any labelled TSV (`text<TAB>kind<TAB>intent`) and prints only aggregate figures
(accuracy, macro-F1, per-intent precision/recall/F1, the confusion matrix, a reliability table
with the expected calibration error, the count of risk-class replies read as positive/neutral
at ≥ CLASSIFIER_MIN_CONFIDENCE, replies/s): never a reply's text, so a locked evaluation set
can be scored without being read. The baseline is `str.lower` plus one `in` check per plain
word of the lexicons, first hit wins.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.domain.replies import classify, classify_rules
from bot.domain.replies import lexicon as lx
from bot.domain.replies.evaluation import (
    LabelledReply,
    Scored,
    confusion,
    evaluate,
    load_tsv,
    reliability,
    risk_read_quiet,
)

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "replies"
MIN_CONFIDENCE = 0.6  # CLASSIFIER_MIN_CONFIDENCE default
_PLAIN = re.compile(r"^[\w\u3400-\u9fff ]+$")
SHORT = {"not_me": "nm", "complaint": "co", "negative": "ng", "callback_request": "cb",
         "reschedule": "rs", "wrong_person": "wp", "opt_out": "oo", "opt_in": "oi",
         "help": "hp", "positive": "ps", "neutral": "nu"}


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


def rate(predict: Callable[[str, str | None], object], texts: list[tuple[str, str | None]]) -> float:
    """Replies per second of this process's CPU time (one core; other processes' load aside)."""
    started = time.process_time()
    for text, kind in texts:
        predict(text, kind)
    return len(texts) / (time.process_time() - started)


def score_set(path: Path, name: str, classifier: Callable[..., object]) -> None:
    """Aggregate figures only: no reply text is printed."""
    rows: list[LabelledReply] = load_tsv(path)
    results = [classifier(r.text, r.kind) for r in rows]
    scored = [Scored(r.intent, res.intent, res.confidence)  # type: ignore[attr-defined]
              for r, res in zip(rows, results, strict=True)]
    answers = iter(scored)
    report = evaluate(rows, lambda _t, _k: next(answers).predicted)
    print(f"== {path.name} ({name}): n={report.total} accuracy={report.accuracy:.3f} "
          f"macro-F1={report.macro_f1:.3f}")
    print(f"  {'intent':17} {'n':>4} {'P':>5} {'R':>5} {'F1':>5}")
    counts = {i: sum(r.intent == i for r in rows) for i in lx.INTENTS}
    for intent in lx.INTENTS:
        print(f"  {intent:17} {counts[intent]:>4} {report.precision[intent]:>5.2f} "
              f"{report.recall[intent]:>5.2f} {report.f1[intent]:>5.2f}")
    matrix = confusion(scored)
    print("  confusion (rows: label, columns: predicted)")
    print("     " + " ".join(f"{SHORT[i]:>3}" for i in lx.INTENTS))
    for label in lx.INTENTS:
        print(f"  {SHORT[label]:>2} " + " ".join(f"{matrix[label][p]:>3}" for p in lx.INTENTS))
    ece, table = reliability(scored)
    print(f"  calibration: ECE={ece:.3f} (10 equal-width bins)")
    for span, n, mean_conf, accuracy in table:
        print(f"    confidence {span}: n={n:>4} mean={mean_conf:.2f} accuracy={accuracy:.2f}")
    low = sum(s.confidence < MIN_CONFIDENCE for s in scored)
    wrong_confident = sum(s.confidence >= MIN_CONFIDENCE and s.label != s.predicted for s in scored)
    print(f"  below {MIN_CONFIDENCE} (to a person): {low}; wrong at ≥{MIN_CONFIDENCE}: "
          f"{wrong_confident}")
    print(f"  risk class read as positive/neutral at ≥{MIN_CONFIDENCE}: "
          f"{risk_read_quiet(scored, MIN_CONFIDENCE)}")
    texts = [(r.text, r.kind) for r in rows] * max(1, 5000 // max(1, len(rows)))
    print(f"  speed: {rate(classifier, texts):,.0f} replies/s ({len(texts)} classified, one core)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="passes over the labelled set")
    parser.add_argument("--set", dest="sets", type=Path, action="append", default=[],
                        help="a labelled TSV to score (aggregates only); repeatable")
    parser.add_argument("--rules-only", action="store_true",
                        help="with --set: score the rules alone (the classifier before the model)")
    args = parser.parse_args()
    classify("warm-up")
    if args.sets:
        classifier, name = ((classify_rules, "rules only") if args.rules_only
                            else (classify, "rules + model"))
        for path in args.sets:
            score_set(path, name, classifier)
        return
    rows = load_tsv(DATA / "labelled.tsv")
    texts = [(r.text, r.kind) for r in rows] * args.repeat
    baseline = make_baseline()
    print(f"{len(texts)} replies ({len(rows)} labelled × {args.repeat})")
    print(f"classify:  {rate(classify, texts):>10,.0f} replies/s (rules + model)")
    print(f"rules:     {rate(classify_rules, texts):>10,.0f} replies/s")
    print(f"baseline:  {rate(baseline, texts):>10,.0f} replies/s  "
          f"({len(baseline_keywords())} keywords, `in` each)")
    predictors: tuple[tuple[str, Callable[[str, str | None], str]], ...] = (
        ("classify", lambda t, k: classify(t, k).intent),
        ("rules", lambda t, k: classify_rules(t, k).intent),
        ("baseline", baseline),
    )
    for name, predict in predictors:
        for label, file in (("labelled", "labelled.tsv"), ("held-out", "heldout.tsv")):
            report = evaluate(load_tsv(DATA / file), predict)
            print(f"{name:9} {label:8} accuracy={report.accuracy:.3f} "
                  f"macro-F1={report.macro_f1:.3f}")


if __name__ == "__main__":
    main()
