"""The learned half of the reply classifier: shipped weights, re-training, the risk guard."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from bot.domain.replies import INTENTS, classify
from bot.domain.replies.evaluation import (
    RISK_CLASSES,
    Scored,
    load_tsv,
    reliability,
    risk_read_quiet,
)
from bot.domain.replies.hybrid import GUARDED_CONFIDENCE, featurize
from bot.domain.replies.model import MODEL_FILE, ReplyModel, shipped
from bot.domain.replies.training import Config, deduplicate, load_rows, train
from tests.unit.replies._data import DATA, HELDOUT, LABELLED, heldout, labelled

ROOT = Path(__file__).resolve().parents[3]
TRAIN = DATA / "train.tsv"
MIN_CONFIDENCE = 0.6  # CLASSIFIER_MIN_CONFIDENCE default


def _script():  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(ROOT / "scripts"))
    import train_replies

    return train_replies


def test_shipped_weights_are_what_the_script_trains() -> None:
    """Re-training (with the shipped, out-of-fold temperature) gives the same bytes: the weights
    are reproducible from the files in the repository."""
    script = _script()
    shipped_text = (ROOT / "bot" / "domain" / "replies" / MODEL_FILE).read_text(encoding="utf-8")
    meta = json.loads(shipped_text)
    rows = script.model_rows(deduplicate(load_rows(script.DEFAULT_SOURCES)))
    model = train(rows, featurize, Config(), meta["meta"]["sources"],
                  temperature=meta["temperature"])
    assert model.to_json() + "\n" == shipped_text


def test_the_script_refuses_evaluation_sets(tmp_path: Path) -> None:
    script = _script()
    with pytest.raises(SystemExit):
        script.main([str(HELDOUT), "--out", str(tmp_path / "m.json")])


def test_corrections_as_jsonl_override_the_files(tmp_path: Path) -> None:
    corrections = tmp_path / "labels.jsonl"
    corrections.write_text(
        json.dumps({"text": "收到", "kind": "", "intent": "positive"}, ensure_ascii=False) + "\n"
        + json.dumps({"text": "这钱谁动了", "kind": "asset_movement", "intent": "not_me"},
                     ensure_ascii=False) + "\n", encoding="utf-8")
    rows = deduplicate(load_rows([LABELLED, corrections]))
    assert next(r for r in rows if r.text == "收到" and r.kind is None).intent == "positive"
    assert rows[-1].intent == "not_me" and rows[-1].kind == "asset_movement"
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "x", "intent": "maybe"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="unknown intent"):
        load_rows([bad])


def test_training_replies_are_not_evaluation_replies() -> None:
    trained = {r.text for r in load_tsv(TRAIN)}
    assert len(trained) >= 1000
    assert not trained & {r.text for r in heldout()}
    assert {r.intent for r in load_tsv(TRAIN)} == set(INTENTS)


def test_probabilities_are_a_distribution() -> None:
    probs = shipped().probabilities(*featurize("我要投诉你们", None))
    assert set(probs) == set(INTENTS) and abs(sum(probs.values()) - 1) < 1e-9
    assert max(probs, key=probs.__getitem__) == "complaint"


def test_risk_guard_caps_a_quiet_reading_with_risk_weight() -> None:
    """A model sure of `neutral` but giving opt_out 0.2: the reply still reaches a person."""
    bias = [-5.0] * len(INTENTS)
    bias[INTENTS.index("neutral")], bias[INTENTS.index("opt_out")] = 5.0, 3.6
    stub = ReplyModel(INTENTS, tuple(bias), {}, 1.0, {})
    result = classify("收到", None, model=stub)
    assert result.intent == "neutral"
    assert result.confidence == GUARDED_CONFIDENCE < MIN_CONFIDENCE
    assert any(r.startswith("risk guard") for r in result.reasons)


@pytest.mark.parametrize("rows", [labelled, heldout, lambda: load_tsv(TRAIN)],
                         ids=["labelled", "heldout", "train"])
def test_no_risk_reply_is_confidently_quiet(rows) -> None:  # type: ignore[no-untyped-def]
    scored = [Scored(r.intent, *_read(r.text, r.kind)) for r in rows()]
    assert risk_read_quiet(scored, MIN_CONFIDENCE) == 0
    assert all(s.confidence < MIN_CONFIDENCE for s in scored
               if s.label in RISK_CLASSES and s.predicted in ("positive", "neutral"))


def _read(text: str, kind: str | None) -> tuple[str, float]:
    result = classify(text, kind)
    return result.intent, result.confidence


def test_reliability_table() -> None:
    scored = [Scored("a", "a", 0.95), Scored("a", "b", 0.95), Scored("a", "a", 0.15)]
    ece, table = reliability(scored)
    assert [(span, n) for span, n, _, _ in table] == [("0.1–0.2", 1), ("0.9–1.0", 2)]
    assert ece == pytest.approx(1 / 3 * 0.85 + 2 / 3 * 0.45)
