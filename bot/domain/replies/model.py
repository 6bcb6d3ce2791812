"""The learned half of the reply classifier: a multinomial logistic regression over the
character 1–4-grams (and English words and word pairs) of the normalised reply, plus the touch
kind's group, with weights shipped in `reply_model.json` beside this module.

Inference is plain Python: the features are a set of strings, each a dict lookup; a class's
score is its bias plus the sum of the weights found (one `zip` transposes them), and a softmax
with the fitted temperature turns the scores into probabilities. The weights come from
`scripts/train_replies.py` (`bot.domain.replies.training`); nothing is downloaded.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import pairwise

MODEL_FILE = "reply_model.json"
#: Long replies are read from their start: the intent is nearly always there.
MAX_CHARS = 240
_EN_WORD = re.compile(r"[a-z][a-z']*")


def text_features(norm: str) -> list[str]:
    """Character 1–4-grams of the normalised text (spaces mark the edges), English words and
    word pairs: fuzzy enough for typos, variants and phrasings no cue lists."""
    text = norm[:MAX_CHARS]
    padded = f" {text} "
    size = len(padded)
    # dict, not set: insertion order is the same in every process (training is reproducible).
    grams = dict.fromkeys(padded[i : i + n] for n in (1, 2, 3, 4) for i in range(size - n + 1))
    grams.pop(" ", None)
    grams.pop("  ", None)
    words = _EN_WORD.findall(text)
    grams.update(dict.fromkeys("w:" + word for word in words))
    grams.update(dict.fromkeys(f"w:{a}_{b}" for a, b in pairwise(words)))
    return list(grams)


def context_features(kind_group: str) -> list[str]:
    """The touch kind's group (identity / greeting / other / none): "不是我" means not_me on an
    asset-movement touch and wrong_person on a birthday greeting."""
    return [f"k:{kind_group}"]


@dataclass(frozen=True, slots=True)
class ReplyModel:
    """Weights per feature (one float per intent, in `intents` order), bias, temperature."""

    intents: tuple[str, ...]
    bias: tuple[float, ...]
    weights: dict[str, tuple[float, ...]]
    temperature: float
    meta: dict[str, object]

    def scores(self, text_feats: list[str], context: list[str]) -> list[float]:
        """Raw class scores: text features are scaled by 1/√n (a long reply is not surer)."""
        get = self.weights.get
        result = list(self.bias)
        found = [w for w in map(get, text_feats) if w is not None]
        if found:
            scale = 1 / math.sqrt(len(text_feats))
            for i, column in enumerate(zip(*found, strict=True)):
                result[i] += sum(column) * scale
        for weights in filter(None, map(get, context)):
            for i, w in enumerate(weights):
                result[i] += w
        return result

    def probabilities(self, text_feats: list[str], context: list[str]) -> dict[str, float]:
        """Calibrated probability of each intent."""
        return softmax(self.intents, self.scores(text_feats, context), self.temperature)

    def to_json(self) -> str:
        """Compact JSON: weights rounded to 4 decimals (what the test compares)."""
        payload = {
            "meta": self.meta,
            "intents": list(self.intents),
            "temperature": self.temperature,
            "bias": [round(b, 4) for b in self.bias],
            "weights": {f: [round(w, 4) for w in ws] for f, ws in sorted(self.weights.items())},
        }
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=False)

    @classmethod
    def from_json(cls, text: str) -> ReplyModel:
        data = json.loads(text)
        return cls(
            intents=tuple(data["intents"]),
            bias=tuple(float(b) for b in data["bias"]),
            weights={f: tuple(float(w) for w in ws) for f, ws in data["weights"].items()},
            temperature=float(data["temperature"]),
            meta=dict(data.get("meta", {})),
        )


def softmax(intents: tuple[str, ...], scores: list[float], temperature: float) -> dict[str, float]:
    top = max(scores)
    exps = [math.exp((s - top) / temperature) for s in scores]
    total = sum(exps)
    return {intent: e / total for intent, e in zip(intents, exps, strict=True)}


@cache
def shipped() -> ReplyModel:
    """The model shipped with the package (read once)."""
    text = resources.files(__package__).joinpath(MODEL_FILE).read_text(encoding="utf-8")
    return ReplyModel.from_json(text)
