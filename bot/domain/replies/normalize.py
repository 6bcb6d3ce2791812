"""Reply text normalisation: one canonical form for the lexicons to match against.

Customers type full-width letters from a Chinese IME (ＴＤ, ！), traditional
characters, emoji, and shout with repeated punctuation. The lexicons are written
once, in lower-case simplified Chinese and ASCII English, so every reply is
folded into that form first.
"""

from __future__ import annotations

import re
import unicodedata

from bot.domain.replies._t2s import T2S

# Emoji that carry a meaning for the classifier become word tokens the lexicons
# know (EMO_POS, EMO_NEG, EMO_OK); any other pictograph is dropped.
EMO_POS = "emopos"
EMO_NEG = "emoneg"
EMO_OK = "emook"

_POSITIVE_EMOJI = "👍😊😀😁😄😃🙂☺😍🥰❤♥💕💖🌹🎉🎊🎂🙏👏💯🤝🌸🧧🏮🥮🍻😘🤗🎁✌💐"
_NEGATIVE_EMOJI = "😡😠🤬👎💩😤😒🙄😭😢😞😩😫💔🤮😱😰😖😣😑😓🤡"
_OK_EMOJI = "👌🆗✅"

_EMOJI_TOKENS: dict[int, str] = {}
for _ch in _POSITIVE_EMOJI:
    _EMOJI_TOKENS[ord(_ch)] = f" {EMO_POS} "
for _ch in _NEGATIVE_EMOJI:
    _EMOJI_TOKENS[ord(_ch)] = f" {EMO_NEG} "
for _ch in _OK_EMOJI:
    _EMOJI_TOKENS[ord(_ch)] = f" {EMO_OK} "

_TABLE: dict[int, int | str] = {**T2S, **_EMOJI_TOKENS}

# Pictographs, dingbats, variation selectors, zero-width joiners, skin tones.
_OTHER_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0e\ufe0f\u200d\u20e3\U000e0020-\U000e007f]"
)
_REPEATED_PUNCT = re.compile(r"([!?.,;:~、。，！？…·\-*#])\1+")
_SPACES = re.compile(r"\s+")
# Ideographic and curly punctuation NFKC leaves alone, mapped to ASCII.
_PUNCT = str.maketrans({"。": ".", "、": ",", "…": ".", "“": '"', "”": '"', "‘": "'", "’": "'"})
_CJK = re.compile(r"[\u3400-\u9fff]")
# Text emoticons, after lower-casing: T_T and QAQ are crying faces, not the opt-out "T".
_EMOTICON_NEG = re.compile(r"(?<![a-z0-9])(?:t_t|t\.t|qaq|:-?\(|:'\()(?![a-z0-9])")
_EMOTICON_POS = re.compile(r"(?<![a-z0-9])(?::-?\)|:-?d|\^_?\^)(?![a-z0-9])")


def normalize(text: str) -> str:
    """Fold a reply into the lexicons' form: half-width, simplified, lower-case, emoji as tokens."""
    folded = unicodedata.normalize("NFKC", text)
    folded = folded.translate(_TABLE)
    folded = _OTHER_EMOJI.sub(" ", folded)
    folded = folded.translate(_PUNCT).lower()
    folded = _EMOTICON_NEG.sub(f" {EMO_NEG} ", folded)
    folded = _EMOTICON_POS.sub(f" {EMO_POS} ", folded)
    folded = _REPEATED_PUNCT.sub(r"\1", folded)
    return _SPACES.sub(" ", folded).strip()


def has_cjk(text: str) -> bool:
    """True when the text contains a CJK ideograph (a Chinese reply, possibly mixed)."""
    return _CJK.search(text) is not None
