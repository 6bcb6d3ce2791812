"""Chinese defaults use full-width punctuation: no ASCII ,!?:;() next to a Chinese character.

URLs, HTML attributes, Jinja syntax, phone numbers and English stay ASCII; only
punctuation touching Chinese text is wrong (，！？：；（） are the Chinese forms).
"""

import re

import pytest

from message_templates import RenderedMessage, render, sample_variables
from message_templates.catalog import KINDS, REALISTIC_BUNDLES, normalize_kinds
from message_templates.telegram import to_plain_text
from tests.unit.templates.helpers import LONG_URL

#: A Chinese character or Chinese (full-width / CJK) punctuation.
_CJK = r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]"
ASCII_PUNCT_NEXT_TO_CHINESE = re.compile(rf"{_CJK}[,!?:;()]|[,!?:;()]{_CJK}")

#: Every kind alone and every bundle that can really happen.
MEMBER_SETS = [(k,) for k in KINDS] + [
    normalize_kinds(b) for b in sorted(REALISTIC_BUNDLES, key=lambda b: (len(b), sorted(b)))
]


def _parts(msg: RenderedMessage) -> dict[str, str]:
    """Everything the customer reads: HTML as sent and as displayed (tags stripped)."""
    html = msg.html or ""
    parts = {"text": msg.text, "html": html, "html (displayed)": to_plain_text(html)}
    if msg.channel == "email":
        parts["subject"] = msg.subject or ""
    for i, button in enumerate(msg.buttons):
        parts[f"button {i}"] = button.label
    return parts


def _offences(text: str) -> list[str]:
    """Each offending spot with a little context, for a readable failure."""
    return [
        text[max(m.start() - 8, 0) : m.end() + 8]
        for m in ASCII_PUNCT_NEXT_TO_CHINESE.finditer(text)
    ]


@pytest.mark.parametrize("long", [False, True], ids=["normal", "long"])
@pytest.mark.parametrize("channel", ["email", "telegram"])
@pytest.mark.parametrize("kinds", MEMBER_SETS, ids="+".join)
def test_zh_defaults_use_full_width_punctuation(
    kinds: tuple[str, ...], channel: str, long: bool
) -> None:
    variables = sample_variables("zh-CN", long=long, public_url=LONG_URL, bundle_kinds=kinds)
    msg = render(kinds, channel, "zh-CN", variables)
    if channel == "telegram":
        assert msg.buttons
    offences = {part: found for part, text in _parts(msg).items() if (found := _offences(text))}
    assert offences == {}


@pytest.mark.parametrize(
    ("text", "bad"),
    [
        ("欧阳女士,您好!", True),
        ("近来一切可好?", True),
        ("客服电话:400-820-8888", True),
        ("(回复TD退订)", True),
        ("顺利;满意", True),
        ("<b>示例营业部</b>,<i>祝您</i>", False),  # tags sit between: caught once stripped
        ("欧阳女士，您好！客服电话：400-820-8888", False),
        ('<p style="color: #888;">退订：https://a.example/u/x?y=1</p>', False),
        ("Ms. Ouyang, hello!", False),
    ],
)
def test_the_check_flags_ascii_punctuation_only_next_to_chinese(text: str, bad: bool) -> None:
    assert bool(_offences(text)) is bad


def test_the_check_sees_through_tags() -> None:
    assert _offences(to_plain_text("<b>示例营业部</b>,<i>祝您</i>")) != []
