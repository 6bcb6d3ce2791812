"""Whole-message keywords that act at once (DOMAIN.md "Opt-out"): opt-out, opt-in, help.

Checked before the classifier: a message that is only "TD" or "STOP" needs no reading. A
sentence that means the same ("请不要再发了") is the classifier's to find.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.domain.replies.normalize import normalize

# R and 拒收: the carriers' unified opt-out ("拒收请回复R") that ends every mainland marketing SMS.
OPT_OUT_WORDS = ("td", "t", "r", "退订", "拒收", "stop", "stopall", "unsubscribe", "cancel", "end",
                 "quit", "revoke", "optout")
OPT_IN_WORDS = ("start", "unstop", "订阅")
HELP_WORDS = ("help", "帮助", "info")
#: What a provider tells us it already handled (Twilio's OptOutType): no answer from us.
PROVIDER_TYPES = {"STOP": "opt_out", "START": "opt_in", "HELP": "help"}
#: The quick-reply buttons of our Telegram messages.
BUTTON_INTENTS = {"reply:opt_out": "opt_out", "reply:opt_in": "opt_in", "reply:help": "help"}
_EDGE_PUNCT = " \t\r\n.,!?;:~\"'()[]<>，。！？；：、…“”‘’（）【】《》"


@dataclass(frozen=True, slots=True)
class Keyword:
    """A recognised keyword: what it asks for, and whether the provider already answered it."""

    intent: str  # opt_out | opt_in | help
    word: str
    provider_answered: bool = False


def detect(text: str, *, provider_opt_out: str | None = None,
           provider_answered: bool = False) -> Keyword | None:
    """The keyword this whole message is, if any (any case, full-width folded by NFKC).

    `provider_opt_out` is the provider's own reading (Twilio's OptOutType); with
    `provider_answered` the provider has already sent the customer its confirmation."""
    if provider_opt_out and provider_opt_out.upper() in PROVIDER_TYPES:
        return Keyword(PROVIDER_TYPES[provider_opt_out.upper()], provider_opt_out.lower(), True)
    word = normalize(text).strip().strip(_EDGE_PUNCT)
    if re.search(r"\s", word):
        return None
    for intent, words in (("opt_out", OPT_OUT_WORDS), ("opt_in", OPT_IN_WORDS),
                          ("help", HELP_WORDS)):
        if word in words:
            return Keyword(intent, word, provider_answered)
    return None


def button_keyword(data: str | None) -> Keyword | None:
    """The keyword a pressed quick-reply button stands for, if it is one of ours."""
    if data in BUTTON_INTENTS:
        return Keyword(BUTTON_INTENTS[data], data)
    return None
