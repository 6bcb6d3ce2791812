"""Rules + weighted lexicons: which of the eleven intents a customer's reply expresses.

Chosen over a model because it ships as plain Python, runs tens of thousands of
replies a second, and every decision lists the cues that made it (staff and
compliance can see why a reply became a P0). The steps, in order:

1. whole-message keywords (TD, STOP, START, HELP …) decide at once, Twilio style;
2. every lexicon cue that matches adds its weight to an intent; a negator in the
   cue's clause (不/没/别, not/don't/never) cancels or flips it;
3. evidence that depends on the touch kind ("不是我" answering an asset-movement
   touch is not_me, answering a birthday greeting is wrong_person);
4. the highest-precedence intent with a strong score wins (not_me > complaint >
   wrong_person > opt_out/opt_in > reschedule > help > callback_request >
   negative > positive > neutral), so "谢谢你们让我亏了" is negative (sarcasm)
   and "不是我操作的，我要投诉" is not_me; with no strong score, the best score wins.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field, replace
from functools import cache

from bot.domain.kinds import IDENTITY_KINDS, NO_QUESTION_KINDS
from bot.domain.replies import lexicon as lx
from bot.domain.replies.normalize import normalize

PRECEDENCE: tuple[str, ...] = (
    "not_me",
    "complaint",
    "wrong_person",
    "opt_out",
    "opt_in",
    "reschedule",
    "help",
    "callback_request",
    "negative",
    "positive",
    "neutral",
)
STRONG = 1.0
KEYWORD_CONFIDENCE = 0.97
# Intents whose evidence makes a competing winner doubtful when it scores as high.
_CONTESTING = frozenset(
    {"not_me", "complaint", "wrong_person", "opt_out", "opt_in", "reschedule", "help"}
)


@dataclass(frozen=True, slots=True)
class Classification:
    """One reply's intent, how sure the classifier is (0..1), and the cues behind it."""

    intent: str
    confidence: float
    reasons: list[str] = field(default_factory=list)
    # Other intents with strong evidence (e.g. opt_out inside a complaint), for the action layer.
    also: tuple[str, ...] = ()
    # Intents whose cue a negator cancelled or turned ("不满意": negative kept, positive negated);
    # the model, which cannot see negation, must not read them back from the n-grams.
    negated: tuple[str, ...] = ()
    # The most confidence any reading of this reply deserves (emoji only, "嗯?", "？？").
    ceiling: float = 1.0


@dataclass(frozen=True, slots=True)
class _CueSpec:
    intent: str
    weight: float
    on_negation: str | None


@cache
def _compiled_cues() -> list[tuple[re.Pattern[str], dict[str, _CueSpec]]]:
    """One alternation per intent; the named group that matched identifies the cue."""
    compiled = []
    for intent, cues in lx.cues().items():
        specs: dict[str, _CueSpec] = {}
        parts = []
        for index, (pattern, weight, on_negation) in enumerate(cues):
            name = f"c{index}"
            specs[name] = _CueSpec(intent, weight, on_negation)
            parts.append(f"(?P<{name}>{pattern})")
        compiled.append((re.compile("|".join(parts)), specs))
    return compiled


_CLAUSE = re.compile(lx.CLAUSE_BREAK)
_NOT_NEGATION = re.compile(lx.ZH_NOT_NEGATIONS)
_EN_WORD = re.compile(r"[a-z']+")
_PERSON_DENIAL = re.compile(lx.PERSON_DENIAL)
_ACCOUNT_DENIAL = re.compile(lx.ACCOUNT_DENIAL)
_BARE_DENIAL = re.compile(lx.BARE_DENIAL)
_IDENTITY_WEAK_DENIAL = re.compile(lx.IDENTITY_WEAK_DENIAL)
_TIME = re.compile(lx.TIME_WORDS)
_CONTACT = re.compile(lx.CONTACT_WORDS)
_RAW_WRONG_PERSON = re.compile(lx.RAW_WRONG_PERSON)
_FILLERS = re.compile(lx.KEYWORD_FILLERS)
_NON_WORD = re.compile(r"[^a-z0-9\u3400-\u9fff]+")
_EMO_TOKEN = re.compile(r"emo(?:pos|neg|ok)")
_CONTENT = re.compile(r"[a-z0-9\u3400-\u9fff]")


def _keyword_pattern(words: str) -> re.Pattern[str]:
    """The words, repeated ("退订退订", "拒收r"); a one-letter word (T, R) only last ("rt" is none)."""
    longer = "|".join(w for w in words.split("|") if len(w) > 1)
    single = "|".join(w for w in words.split("|") if len(w) == 1)
    return re.compile(f"(?:{longer})*(?:{longer}{'|' + single if single else ''})")


_KEYWORDS = (
    ("opt_out", _keyword_pattern(lx.OPT_OUT_KEYWORDS)),
    ("opt_in", _keyword_pattern(lx.OPT_IN_KEYWORDS)),
    ("help", _keyword_pattern(lx.HELP_KEYWORDS)),
)
_FUZZY_KEYWORDS = tuple(
    (intent, word)
    for intent, words in (("opt_out", lx.OPT_OUT_KEYWORDS), ("opt_in", lx.OPT_IN_KEYWORDS))
    for word in words.split("|")
    if word.isascii() and len(word) >= 5
)


def classify_rules(text: str, kind: str | None = None) -> Classification:
    """The rules' reading of one reply; `kind` is the touch kind it answers (None when unknown).

    `bot.domain.replies.classify` weighs this against the learned model (`hybrid.py`)."""
    norm = normalize(text)
    keyword = _whole_message_keyword(norm)
    if keyword is not None:
        intent, word = keyword
        return Classification(intent, KEYWORD_CONFIDENCE, [f"keyword {intent} '{word}'"])

    content = _CONTENT.findall(_EMO_TOKEN.sub(" ", norm))
    scores = dict.fromkeys(lx.INTENTS, 0.0)
    reasons: list[str] = []
    # Punctuation and emoji only ("？？", "👍"): only the emoji mean anything.
    _score_cues(norm if content else " ".join(_EMO_TOKEN.findall(norm)), scores, reasons)
    _score_kind_context(norm, (kind or "").strip().lower() or None, scores, reasons)
    _score_time(norm, scores, reasons)
    raw_match = _RAW_WRONG_PERSON.search(unicodedata.normalize("NFKC", text))  # case kept
    if raw_match and raw_match.group(0).split()[-1] not in lx.RAW_NAME_STOPWORDS:
        scores["wrong_person"] += 1.8
        reasons.append(f"wrong_person +1.8 '{raw_match.group(0)}' (a name)")
    _resolve_opt_conflict(scores, reasons)
    result = _decide(norm, len(content), scores, reasons)
    negated = tuple(dict.fromkeys(r.split()[1].split("→")[0] for r in reasons
                                  if r.startswith("negated ")))
    return replace(result, negated=negated) if negated else result


def _whole_message_keyword(norm: str) -> tuple[str, str] | None:
    """TD / STOP / START / HELP as the whole message, politeness and emoji aside."""
    bare = _NON_WORD.sub("", _FILLERS.sub(" ", norm))
    if not bare or (len(bare) > 1 and set(bare) == {"t"}):  # "TT": a crying face
        return None
    for intent, pattern in _KEYWORDS:
        if pattern.fullmatch(bare):
            return intent, bare
    if bare.isascii() and bare.isalpha() and len(bare) >= 5:
        for intent, word in _FUZZY_KEYWORDS:
            if _within_one_edit(bare, word):
                return intent, f"{bare}≈{word}"
    return None


def _within_one_edit(a: str, b: str) -> bool:
    """Damerau–Levenshtein distance ≤ 1 (one typo: insert, delete, substitute, swap)."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        swapped = i + 1 < len(a) and a[i] == b[i + 1] and a[i + 1] == b[i]
        return a[i + 1 :] == b[i + 1 :] or (swapped and a[i + 2 :] == b[i + 2 :])
    longer, shorter = (a, b) if len(a) > len(b) else (b, a)
    return longer[i + 1 :] == shorter[i:]


def _score_cues(norm: str, scores: dict[str, float], reasons: list[str]) -> None:
    """Add every distinct lexicon cue's weight, applying negation where the cue allows it."""
    masked: set[int] | None = None
    for pattern, specs in _compiled_cues():
        seen: set[str] = set()
        for match in pattern.finditer(norm):
            name, hit = match.lastgroup, match.group(0)
            if name is None or hit in seen:  # a word repeated ("谢谢谢谢") counts once
                continue
            seen.add(hit)
            spec = specs[name]
            if spec.on_negation is not None:
                if masked is None:
                    masked = {i for m in _NOT_NEGATION.finditer(norm) for i in range(*m.span())}
                negators = _negators_before(norm, match.start(), masked)
                if negators % 2 == 1:
                    if spec.on_negation == lx.CANCEL:
                        reasons.append(f"negated {spec.intent} '{hit}' (cancelled)")
                    else:
                        weight = round(spec.weight * 0.9, 2)
                        scores[spec.on_negation] += weight
                        reasons.append(
                            f"negated {spec.intent}→{spec.on_negation} +{weight} '{hit}'"
                        )
                    continue
            scores[spec.intent] += spec.weight
            reasons.append(f"{spec.intent} +{spec.weight} '{hit}'")


def _negators_before(norm: str, start: int, masked: set[int]) -> int:
    """Negators in the cue's clause just before it (不是不满意 has two: they cancel)."""
    clause_start = 0
    for match in _CLAUSE.finditer(norm, 0, start):
        clause_start = match.end()
    window_start = max(clause_start, start - lx.ZH_NEGATION_WINDOW)
    count = sum(
        1 for i in range(window_start, start) if norm[i] in lx.ZH_NEGATORS and i not in masked
    )
    words = [
        m.group(0) for m in _EN_WORD.finditer(norm, clause_start, start) if m.start() not in masked
    ][-lx.EN_NEGATION_WINDOW :]
    return count + sum(1 for word in words if word in lx.EN_NEGATORS)


def _score_kind_context(
    norm: str, kind: str | None, scores: dict[str, float], reasons: list[str]
) -> None:
    """Denials mean not_me on account-action touches and wrong_person on greetings."""
    identity = kind in IDENTITY_KINDS
    greeting = kind in NO_QUESTION_KINDS
    label = kind or "no kind"
    match = _PERSON_DENIAL.search(norm)
    if match:
        intent, weight = (
            ("not_me", 1.5) if identity else ("wrong_person", 1.5) if greeting else ("not_me", 0.7)
        )
        scores[intent] += weight
        reasons.append(f"{label}: denial '{match.group(0)}' → {intent} +{weight}")
    match = _ACCOUNT_DENIAL.search(norm)
    if match:
        intent, weight = (
            ("wrong_person", 1.5)
            if greeting
            else ("not_me", 1.8 if identity or kind is None else 1.2)
        )
        scores[intent] += weight
        reasons.append(f"{label}: account denial '{match.group(0)}' → {intent} +{weight}")
    if identity and not any(scores[i] for i in ("not_me", "neutral", "reschedule", "opt_out")):
        match = _IDENTITY_WEAK_DENIAL.search(norm)
        if match:
            scores["not_me"] += 0.9
            reasons.append(f"{label}: negation near the customer '{match.group(0)}' → not_me +0.9")
    match = _BARE_DENIAL.search(norm)
    if match:
        intent, weight = (
            ("not_me", 1.5) if identity else ("not_me", 0.5) if kind is None else ("neutral", 0.3)
        )
        scores[intent] += weight
        reasons.append(f"{label}: '{match.group(0)}' → {intent} +{weight}")


def _score_time(norm: str, scores: dict[str, float], reasons: list[str]) -> None:
    """A time asked for, with a contact verb or busyness, is a reschedule."""
    hits = [m.group(0) for m in _TIME.finditer(norm)]
    if not hits:
        return
    weight = min(1.2, 0.6 * len(hits))
    contact = _CONTACT.search(norm)
    if contact or scores["reschedule"] > 0:
        weight += 0.6
    scores["reschedule"] += weight
    verb = f" + '{contact.group(0)}'" if contact else ""
    reasons.append(f"reschedule +{weight:.1f} time {hits}{verb}")


def _resolve_opt_conflict(scores: dict[str, float], reasons: list[str]) -> None:
    """Opt-out words inside an opt-in request narrate the past ("误点退订了，帮我恢复")."""
    out, back = scores["opt_out"], scores["opt_in"]
    if out > 0 and back > 0:
        loser = "opt_out" if back >= out else "opt_in"
        scores[loser] = 0.0
        reasons.append(f"opt_in/opt_out conflict: {loser} dropped")


def _decide(
    norm: str, content_chars: int, scores: dict[str, float], reasons: list[str]
) -> Classification:
    """Precedence among strong intents, else the best score; confidence from the evidence."""
    strong = [intent for intent in PRECEDENCE if scores[intent] >= STRONG]
    if strong:
        intent = strong[0]
    else:
        best = max(PRECEDENCE, key=lambda i: (scores[i], -PRECEDENCE.index(i)))
        intent = best if scores[best] > 0 else "neutral"
    score = scores[intent]
    if score <= 0:
        reasons.append("no cue: neutral by default")
        confidence = 0.3 if content_chars > 3 else 0.2
        return Classification("neutral", confidence, reasons,
                              ceiling=0.5 if content_chars == 0 else 1.0)

    confidence = 1 - math.exp(-score)
    rivals = [i for i in PRECEDENCE if i != intent and scores[i] >= score and i in _CONTESTING]
    if rivals:
        confidence *= 0.85
        reasons.append(f"precedence: {intent} over {', '.join(rivals)}")
    if intent not in strong:
        confidence *= 0.9
    ceiling = 1.0
    if content_chars == 0:
        ceiling = 0.65  # emoji only: a hint, not a statement
    elif content_chars <= 2 and norm.endswith("?"):
        ceiling = 0.5  # "嗯?": a question we cannot read
    confidence = min(confidence, ceiling)
    also = tuple(i for i in PRECEDENCE if i != intent and scores[i] >= STRONG)
    return Classification(intent, round(min(confidence, 0.95), 3), reasons, also,
                           ceiling=ceiling)
