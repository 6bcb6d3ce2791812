"""Labelled reply files and the figures the classifier is judged by (accuracy, macro-F1, recall).

Shared by the tests, the bench script and the README so the numbers quoted
anywhere come from one computation.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.domain.replies.lexicon import INTENTS


@dataclass(frozen=True, slots=True)
class LabelledReply:
    """One hand-labelled reply: its text, the touch kind it answered (or None), its intent."""

    text: str
    kind: str | None
    intent: str


@dataclass(frozen=True, slots=True)
class Report:
    """Scores over a labelled set; `errors` lists (reply, predicted intent)."""

    total: int
    accuracy: float
    macro_f1: float
    precision: dict[str, float]
    recall: dict[str, float]
    f1: dict[str, float]
    errors: list[tuple[LabelledReply, str]]

    def summary(self) -> str:
        """Multi-line table for humans (bench output, failing-test messages)."""
        lines = [f"n={self.total} accuracy={self.accuracy:.3f} macro-F1={self.macro_f1:.3f}"]
        for intent in INTENTS:
            lines.append(
                f"  {intent:17} P={self.precision[intent]:.2f} "
                f"R={self.recall[intent]:.2f} F1={self.f1[intent]:.2f}"
            )
        for reply, predicted in self.errors:
            lines.append(f"  ✗ {reply.intent} → {predicted}: {reply.text!r} [{reply.kind}]")
        return "\n".join(lines)


def load_tsv(path: Path) -> list[LabelledReply]:
    """Read `text<TAB>kind<TAB>intent` lines; '#' lines are comments; unknown intents fail loudly."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        text, kind, intent = line.split("\t")
        if intent not in INTENTS:
            raise ValueError(f"{path.name}:{number}: unknown intent {intent!r}")
        rows.append(LabelledReply(text, kind or None, intent))
    return rows


def evaluate(rows: Iterable[LabelledReply], predict: Callable[[str, str | None], str]) -> Report:
    """Score `predict(text, kind) -> intent` against the labels."""
    true_pos: Counter[str] = Counter()
    false_pos: Counter[str] = Counter()
    false_neg: Counter[str] = Counter()
    errors: list[tuple[LabelledReply, str]] = []
    total = 0
    for row in rows:
        total += 1
        predicted = predict(row.text, row.kind)
        if predicted == row.intent:
            true_pos[row.intent] += 1
        else:
            false_pos[predicted] += 1
            false_neg[row.intent] += 1
            errors.append((row, predicted))
    precision, recall, f1 = {}, {}, {}
    for intent in INTENTS:
        tp = true_pos[intent]
        precision[intent] = tp / (tp + false_pos[intent]) if tp + false_pos[intent] else 0.0
        recall[intent] = tp / (tp + false_neg[intent]) if tp + false_neg[intent] else 0.0
        p, r = precision[intent], recall[intent]
        f1[intent] = 2 * p * r / (p + r) if p + r else 0.0
    accuracy = sum(true_pos.values()) / total if total else 0.0
    macro_f1 = sum(f1.values()) / len(INTENTS)
    return Report(total, accuracy, macro_f1, precision, recall, f1, errors)


RISK_CLASSES = ("not_me", "complaint", "opt_out")


@dataclass(frozen=True, slots=True)
class Scored:
    """One reply's label, the predicted intent and its confidence."""

    label: str
    predicted: str
    confidence: float


def confusion(scored: Iterable[Scored]) -> dict[str, Counter[str]]:
    """label → Counter(predicted)."""
    matrix: dict[str, Counter[str]] = {intent: Counter() for intent in INTENTS}
    for row in scored:
        matrix[row.label][row.predicted] += 1
    return matrix


def reliability(scored: Iterable[Scored], bins: int = 10) -> tuple[float, list[tuple[str, int, float, float]]]:
    """Expected calibration error and its table: (confidence bin, n, mean confidence, accuracy).

    ECE = Σ over bins of n_bin / N × |accuracy_bin − mean confidence_bin|, equal-width bins."""
    rows = list(scored)
    table = []
    ece = 0.0
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        inside = [r for r in rows if low <= r.confidence < high or (b == bins - 1 and r.confidence == 1.0)]
        if not inside:
            continue
        mean_conf = sum(r.confidence for r in inside) / len(inside)
        accuracy = sum(r.label == r.predicted for r in inside) / len(inside)
        ece += len(inside) / len(rows) * abs(accuracy - mean_conf)
        table.append((f"{low:.1f}–{high:.1f}", len(inside), mean_conf, accuracy))
    return ece, table


def risk_read_quiet(scored: Iterable[Scored], min_confidence: float = 0.6) -> int:
    """Risk-class replies (not_me, complaint, opt_out) read as positive/neutral with confidence
    ≥ min_confidence: each one would be recorded and nobody would read it."""
    return sum(1 for r in scored if r.label in RISK_CLASSES
               and r.predicted in ("positive", "neutral") and r.confidence >= min_confidence)
