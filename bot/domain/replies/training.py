"""Training the reply model (`model.py`) in plain Python: reproducible, no dependency.

Multinomial logistic regression fitted by AdaGrad over shuffled passes (a fixed seed), L2
regularised; features seen fewer than `min_count` times are dropped. The softmax temperature is
fitted afterwards on out-of-fold predictions (k-fold over the same rows), so the shipped
probabilities are calibrated on replies the fold's model had not seen.

Used by `scripts/train_replies.py`; rows come from TSV files (`text<TAB>kind<TAB>intent`, the
labelled sets' format) and JSONL files of {"text", "kind", "intent"} (agents' corrections, as
`outreach replies export-labels` would write them).
"""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.domain.replies.evaluation import LabelledReply, load_tsv
from bot.domain.replies.lexicon import INTENTS
from bot.domain.replies.model import ReplyModel, softmax

Featurize = Callable[[str, str | None], tuple[list[str], list[str]]]


@dataclass(frozen=True, slots=True)
class Config:
    """Hyper-parameters; recorded in the weights file so a re-train can be checked."""

    epochs: int = 25
    learning_rate: float = 0.5
    l2: float = 1e-4
    min_count: int = 2
    folds: int = 5
    seed: int = 17
    temperatures: tuple[float, ...] = field(
        default=tuple(round(0.5 + 0.05 * i, 2) for i in range(51)))  # 0.5 … 3.0


def load_rows(paths: Iterable[Path]) -> list[LabelledReply]:
    """Rows of every file, in order: `.jsonl` as JSON lines, anything else as TSV."""
    rows: list[LabelledReply] = []
    for path in paths:
        if path.suffix == ".jsonl":
            rows.extend(_load_jsonl(path))
        else:
            rows.extend(load_tsv(path))
    return rows


def _load_jsonl(path: Path) -> list[LabelledReply]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        record = json.loads(line)
        intent = record.get("intent")
        if intent not in INTENTS:
            raise ValueError(f"{path.name}:{number}: unknown intent {intent!r}")
        kind = record.get("kind") or None
        rows.append(LabelledReply(str(record["text"]), kind, intent))
    return rows


def deduplicate(rows: Sequence[LabelledReply]) -> list[LabelledReply]:
    """One row per (text, kind); a later row wins (an agent's correction overrides a file)."""
    latest: dict[tuple[str, str | None], LabelledReply] = {}
    for row in rows:
        latest.pop((row.text, row.kind), None)
        latest[(row.text, row.kind)] = row
    return list(latest.values())


Example = tuple[list[str], list[str], int]


def featurize_all(rows: Sequence[LabelledReply], featurize: Featurize) -> list[Example]:
    index = {intent: i for i, intent in enumerate(INTENTS)}
    return [(*featurize(row.text, row.kind), index[row.intent]) for row in rows]


def fit(examples: Sequence[Example], config: Config, temperature: float = 1.0) -> ReplyModel:
    """AdaGrad on the multinomial log-loss, one shuffled pass per epoch."""
    k = len(INTENTS)
    counts: Counter[str] = Counter()
    for text_feats, rule_feats, _ in examples:
        counts.update(text_feats)
        counts.update(rule_feats)
    vocab = {f for f, c in counts.items() if c >= config.min_count}
    weights: dict[str, list[float]] = {f: [0.0] * k for f in sorted(vocab)}
    grads: dict[str, list[float]] = {f: [1e-8] * k for f in weights}
    bias, bias_grad = [0.0] * k, [1e-8] * k
    data = [([f for f in t if f in vocab], [f for f in r if f in vocab], y, len(t))
            for t, r, y in examples]
    order = list(range(len(data)))
    rng = random.Random(config.seed)
    rate, l2 = config.learning_rate, config.l2
    for _ in range(config.epochs):
        rng.shuffle(order)
        for position in order:
            text_feats, rule_feats, label, n = data[position]
            scale = 1 / math.sqrt(n) if n else 0.0
            active = [(f, scale) for f in text_feats] + [(f, 1.0) for f in rule_feats]
            scores = list(bias)
            for f, value in active:
                row = weights[f]
                for c in range(k):
                    scores[c] += row[c] * value
            top = max(scores)
            exps = [math.exp(s - top) for s in scores]
            total = sum(exps)
            error = [e / total for e in exps]
            error[label] -= 1.0
            for c in range(k):
                bias_grad[c] += error[c] ** 2
                bias[c] -= rate * error[c] / math.sqrt(bias_grad[c])
            for f, value in active:
                row, acc = weights[f], grads[f]
                for c in range(k):
                    g = error[c] * value + l2 * row[c]
                    acc[c] += g * g
                    row[c] -= rate * g / math.sqrt(acc[c])
    kept = {f: tuple(round(w, 4) for w in ws) for f, ws in weights.items()
            if max(abs(w) for w in ws) >= 1e-3}
    meta: dict[str, object] = {"rows": len(examples)}
    return ReplyModel(INTENTS, tuple(round(b, 4) for b in bias), kept, temperature, meta)


def out_of_fold_scores(examples: Sequence[Example], config: Config) -> list[list[float]]:
    """Each row's raw scores from a model trained on the other folds (fixed split)."""
    order = list(range(len(examples)))
    random.Random(config.seed + 1).shuffle(order)
    scores: list[list[float]] = [[] for _ in examples]
    for fold in range(config.folds):
        held = set(order[fold :: config.folds])
        model = fit([e for i, e in enumerate(examples) if i not in held], config)
        for i in held:
            text_feats, rule_feats, _ = examples[i]
            scores[i] = model.scores(text_feats, rule_feats)
    return scores


def best_temperature(scores: Sequence[list[float]], labels: Sequence[int],
                     config: Config) -> float:
    """The temperature with the lowest out-of-fold log-loss."""
    def loss(t: float) -> float:
        total = 0.0
        for row, label in zip(scores, labels, strict=True):
            p = softmax(INTENTS, row, t)[INTENTS[label]]
            total -= math.log(max(p, 1e-12))
        return total

    return min(config.temperatures, key=loss)


def train(rows: Sequence[LabelledReply], featurize: Featurize, config: Config,
          sources: Sequence[str] = (), temperature: float | None = None) -> ReplyModel:
    """Out-of-fold temperature (unless given), then the final model on every row."""
    examples = featurize_all(rows, featurize)
    if temperature is None:
        temperature = best_temperature(out_of_fold_scores(examples, config),
                                       [y for _, _, y in examples], config)
    model = fit(examples, config, temperature)
    model.meta.update({"sources": list(sources), "config": {
        "epochs": config.epochs, "learning_rate": config.learning_rate, "l2": config.l2,
        "min_count": config.min_count, "folds": config.folds, "seed": config.seed}})
    return model
