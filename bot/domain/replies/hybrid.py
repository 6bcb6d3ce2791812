"""`classify`: the rules (classifier.py) and the learned model (model.py) together.

1. A whole-message keyword (TD, R, 拒收, STOP, START, HELP …) is decided by the rules at once.
2. Otherwise both read the reply. The rules give one intent and a confidence (their cues,
   negation, touch-kind logic and precedence); the model gives a calibrated probability per
   intent from the reply's character n-grams and the touch kind's group. The two are averaged:
   the rules' reading counts as their confidence on their intent, the rest spread evenly.
   The most probable intent wins; its averaged probability is the confidence.
3. Risk guard: a reply read as `positive` or `neutral` while a risk class (not_me, complaint,
   opt_out) has some weight, from the model or the rules, is never confident: its confidence
   is capped below CLASSIFIER_MIN_CONFIDENCE, so it goes to a person instead of being only
   recorded (and marketing waits while it is reviewed).

Why a mixture and not the rules as model features: the rules were written on the labelled set
(they score 1.000 there), so a model trained on it learns to trust them blindly; averaged,
each keeps its own accuracy (5-fold cross-validation on train.tsv: see README.md).
"""

from __future__ import annotations

from bot.domain.kinds import IDENTITY_KINDS, NO_QUESTION_KINDS
from bot.domain.replies.classifier import Classification, classify_rules
from bot.domain.replies.model import ReplyModel, context_features, shipped, text_features
from bot.domain.replies.normalize import normalize

RISK = ("not_me", "complaint", "opt_out")
QUIET = frozenset({"positive", "neutral"})
#: Weight of the rules' reading in the average (the model has 1 − RULES_WEIGHT).
RULES_WEIGHT = 0.5
#: Risk-class probability above which a quiet reading is capped (the guard).
RISK_GUARD = 0.10
#: Below CLASSIFIER_MIN_CONFIDENCE (0.6 by default): the reply goes to a person.
GUARDED_CONFIDENCE = 0.55


def kind_group(kind: str | None) -> str:
    """identity (the touch asks "was this you?"), greeting, other, or none."""
    kind = (kind or "").strip().lower() or None
    if kind is None:
        return "none"
    if kind in IDENTITY_KINDS:
        return "identity"
    if kind in NO_QUESTION_KINDS:
        return "greeting"
    return "other"


def featurize(text: str, kind: str | None) -> tuple[list[str], list[str]]:
    """The model's input for one reply: its text features, and whether the touch asked "was
    this you?" (a bare "不是我"/"NO" there is not_me). Other kind groups are left to the rules:
    as features they learned the training files' kind mix (a plain "谢谢，一切都好" answering a
    dormancy touch came out `neutral`)."""
    group = kind_group(kind)
    return text_features(normalize(text)), context_features(group) if group == "identity" else []


def is_keyword(result: Classification) -> bool:
    return bool(result.reasons) and result.reasons[0].startswith("keyword ")


def combine(model_probs: dict[str, float], rules: Classification) -> dict[str, float]:
    """The average of the model's distribution and the rules' (their confidence on their
    intent, the remainder spread over the other intents). An intent whose cue the rules saw
    negated ("不满意", "我不会投诉的") gets nothing from the model (n-grams cannot see negation):
    that share goes to the rules' reading."""
    if rules.negated:
        moved = sum(p for i, p in model_probs.items() if i in rules.negated and i != rules.intent)
        model_probs = {i: (0.0 if i in rules.negated and i != rules.intent else p)
                       + (moved if i == rules.intent else 0.0) for i, p in model_probs.items()}
    others = (1 - rules.confidence) / (len(model_probs) - 1)
    return {intent: (1 - RULES_WEIGHT) * p
            + RULES_WEIGHT * (rules.confidence if intent == rules.intent else others)
            for intent, p in model_probs.items()}


def classify(text: str, kind: str | None = None, model: ReplyModel | None = None) -> Classification:
    """Classify one reply; `kind` is the touch kind it answers (None when unknown)."""
    rules = classify_rules(text, kind)
    if is_keyword(rules):
        return rules
    model = model if model is not None else shipped()
    model_probs = model.probabilities(*featurize(text, kind))
    probs = combine(model_probs, rules)
    intent = max(probs, key=probs.__getitem__)
    if intent == "wrong_person" and rules.intent == "not_me":
        # A denial the rules read as not_me (the touch kind, or no kind): not_me comes first,
        # as in the rules' precedence; a wrong not_me costs a call, a missed one a fraud.
        intent = "not_me"
    confidence = min(probs[intent], rules.ceiling)
    best_model = max(model_probs, key=model_probs.__getitem__)
    reasons = [f"{intent} {confidence:.2f} = average of rules ({rules.intent} "
               f"{rules.confidence:.2f}) and model ({best_model} {model_probs[best_model]:.2f}, "
               f"{intent} {model_probs[intent]:.2f})"]
    if intent in QUIET:
        risk = max(RISK, key=probs.__getitem__)
        flagged = rules.intent in RISK or any(i in RISK for i in rules.also)
        if (probs[risk] >= RISK_GUARD or flagged) and confidence > GUARDED_CONFIDENCE:
            confidence = GUARDED_CONFIDENCE
            reasons.append(f"risk guard: {risk} {probs[risk]:.2f}"
                           f"{' (rules: ' + rules.intent + ')' if flagged else ''}"
                           " → not confident, a person reads it")
    reasons.extend(rules.reasons)
    also = tuple(i for i in rules.also if i != intent)
    return Classification(intent, round(min(confidence, 0.99), 3), reasons, also)
