"""Cue lexicons for reply intents: the weighted cues in `cues.toml`, and the patterns
the classifier combines with the touch kind (data only; the logic is in classifier.py).

Patterns match the output of `normalize()`: lower-case, simplified Chinese,
half-width ASCII, emoji as the tokens emopos / emoneg / emook. Each cue is
(regex, weight, on_negation): on_negation None means a negator before the cue
is ignored (the cue already contains its own negation), CANCEL means a negator
removes the cue, and an intent name means a negated cue votes for that intent
instead ("不满意" → negative, "not unhappy" → positive, "don't stop" → opt_in).
A weight of 1.0 or more is a strong cue: enough on its own to decide.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Final

from bot.domain.replies.keywords import HELP_WORDS, OPT_IN_WORDS, OPT_OUT_WORDS

Cue = tuple[str, float, str | None]
CANCEL: Final = ""

INTENTS: Final = (
    "not_me",
    "complaint",
    "negative",
    "callback_request",
    "reschedule",
    "wrong_person",
    "opt_out",
    "opt_in",
    "help",
    "positive",
    "neutral",
)



def en(pattern: str) -> str:
    """Wrap an English pattern in ASCII word boundaries (Python's \\b treats 汉字 as letters)."""
    return rf"(?<![a-z0-9])(?:{pattern})(?![a-z0-9])"


# Negators and the words containing a negator character that negate nothing.
ZH_NEGATORS: Final = "不没别未无非勿莫甭唔"
ZH_NOT_NEGATIONS: Final = (
    "非常|不错|不好意思|不客气|不用谢|没问题|没事|不过|无论|别人|别家|差不多|不少|不断|"
    "无比|未来|不仅|莫名|无语|不怎么样|"
    + en("no thanks?|no thank you|no problem|no worries|not only|no doubt")
)
EN_NEGATORS: Final = frozenset(
    "not no never dont don't didnt didn't doesnt doesn't isnt isn't wasnt wasn't arent aren't "
    "wont won't cant can't cannot without hardly nothing".split()
)
# A negator reaches a cue only inside its clause.
CLAUSE_BREAK: Final = r"[,.!?;:\n]|但是|但|可是|不过|就是|只是|" + en("but|however|though")
ZH_NEGATION_WINDOW: Final = 3
EN_NEGATION_WINDOW: Final = 3

# Whole-message keywords (Twilio style: the message is the keyword, any case, with
# punctuation, emoji and politeness around it): the words that act at once (`keywords`),
# and variants the classifier also reads as the whole message.
OPT_OUT_KEYWORDS: Final = "|".join((*OPT_OUT_WORDS, "退定", "退", "unsub", "取消订阅", "拉黑"))
OPT_IN_KEYWORDS: Final = "|".join(
    (*OPT_IN_WORDS, "subscribe", "resubscribe", "optin", "恢复订阅", "重新订阅", "取消退订"))
HELP_KEYWORDS: Final = "|".join((*HELP_WORDS, "helpme", "ineedhelp", "needhelp", "求助"))
KEYWORD_FILLERS: Final = (
    r"please|pls|plz|again|thanks|thank you|thx|reply|回复|回|谢谢|谢了|多谢|请|麻烦|吧|啊|呀|了|"
    r"emopos|emoneg|emook"
)



@cache
def cues() -> dict[str, list[Cue]]:
    """The weighted cues per intent, from `cues.toml` beside this module (read once)."""
    data = tomllib.loads(resources.files(__package__).joinpath("cues.toml")
                         .read_text(encoding="utf-8"))
    return {intent: [(en(cue["en"]) if "en" in cue else cue["re"], float(cue["weight"]),
                      _NEGATED.get(cue.get("negated"), cue.get("negated")))
                     for cue in rows]
            for intent, rows in data.items()}


_NEGATED: Final = {None: None, "cancel": CANCEL}

# Evidence that only means something together with the touch kind.
PERSON_DENIAL: Final = r"(?<!是)不是(我|本人)(?!们)|" + en(
    r"not me|wasn'?t me|wasnt me|isn'?t me|it'?s not me"
)
ACCOUNT_DENIAL: Final = (
    r"没.{0,6}?(开户|开过户|开过账户|开过|开的户|注册过|去过)|(不是|并非|非)(我|本人)(本人|自己)?开|"
    r"没(有)?申请过|谁.{0,6}开的户|"
    + en(
        r"(never|didn'?t|did not|have not|haven'?t) (opened|open|signed up|sign up|registered|register|applied|apply)"
    )
)
BARE_DENIAL: Final = (
    r"^(没有|没|不是|不是的|否|no|nope|nah)(啊|呀|哦|的)?[!.?]*$|"
    r"不知道|不清楚|不晓得|不记得|没印象|什么转账|啥转账|哪(来|里来)的(转账|钱)|"
    + en(r"what transfer|which transfer|didn'?t do anything|no idea what")
)
# On an identity touch, a negation next to the customer ("我完全没印象", "I don't
# recognise") is a weak not_me: weak so that "我没时间" stays a reschedule.
IDENTITY_WEAK_DENIAL: Final = (
    r"(我|本人).{0,4}(没(?!问题|事)|不(?!错|客气|好意思|用谢)|未)|(没|不是|非)(我|本人)|"
    + en(r"not my|(i|we) (don'?t|do not|didn'?t|did not|never)")
)
# Time words make a reply a reschedule when combined with a contact verb or busyness.
TIME_WORDS: Final = (
    r"今天|明天|明早|明晚|后天|今晚|上午|下午|中午|晚上|傍晚|早上|下班|"
    r"(周|星期|礼拜)[一二三四五六日天末1-7]|下(个)?(周|星期|礼拜)|下个?月|"
    r"(?<![有好快慢差多少低高这降涨调])([零一二两三四五六七八九十]{1,3}|\d{1,2})点(?=钟|半|后|以后|之后|前|左右|多|\d|[一二三四五六七八九十]|[,.!?]|再|打|给|联系|$)|"
    r"\d{1,2}:\d{2}|([一二两三四五六七八九十半\d]+)个?(小时|钟头|分钟|天)(后|以后|之后)|过([一二两三四五六七八九十半\d]+)个?(小时|钟头|分钟|天)|"
    + en(
        r"tomorrow|tonight|morning|afternoon|evening|next week|monday|tuesday|wednesday|thursday|friday|saturday|sunday|weekend|\d{1,2}(:\d\d)? ?(am|pm)|in (an|one|two|\d+|half an) (hours?|minutes?|mins?|hrs?)|after \d"
    )
)
CONTACT_WORDS: Final = (
    r"再(联系|打|说|聊|约|回|谈|来电)|打(给|过来|我)|联系|回(你|复|电)|call|有空|可以|"
    + en(r"call|ring|contact|talk|try again|try me|reach|text")
)
# Capitalised name after "I'm not" / "who is": checked on the un-lowered text.
RAW_WRONG_PERSON: Final = r"\b(I'?m|I am|this is) not (Mr\.?|Mrs\.?|Ms\.?|Miss|Dr\.?)?\s?[A-Z][a-z]+\b|\bwho is [A-Z][a-z]+\b"
RAW_NAME_STOPWORDS: Final = frozenset(
    {"I", "It", "The", "This", "That", "A", "An", "Sure", "Happy", "Interested"}
)
