"""The Chinese half of every validation message uses full-width punctuation.

A branch admin reads "短信过长：……，需 3 条，超过上限 2 条（组合 holiday，单向线路，长样本）",
not "短信过长:……,需 3 条,超过上限 2 条(组合 holiday,单向线路,长样本)". English tokens
embedded in the Chinese (variable names, Jinja's own error text, reply:opt_out) stay as they
are; only ASCII : , ( ) ; touching a Chinese character is wrong. The one exception is the colon
of the button prefix reply: — syntax the admin types, so "文字 | reply:意图" keeps it.
"""

import re

import pytest

from message_templates import VARIABLES, validate
from message_templates.telegram import BUTTON_PREFIX
from tests.unit.templates.helpers import LONG_URL

#: A Chinese character, CJK / full-width punctuation (【】，：（）) or a Chinese quote mark.
_CJK = r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef\u201c\u201d]"
#: The button prefix's own colon ("reply:意图") is code, not Chinese punctuation.
_PREFIX_WORD = re.escape(BUTTON_PREFIX.removesuffix(":"))
ASCII_PUNCT_NEXT_TO_CHINESE = re.compile(
    rf"{_CJK}[:,();]|[,();]{_CJK}|(?<!\b{_PREFIX_WORD}):{_CJK}"
)

GOOD_SMS = (
    "【{{ sms_signature }}】{{ honorific }}，值此{{ festival_name }}之际，祝您节日快乐！"
    "{{ opt_out_hint }}"
)
GOOD_EMAIL = (
    "{% block subject %}节日问候{% endblock %}"
    "{% block text %}{{ honorific }}，节日快乐！{{ unsubscribe_link }}{% endblock %}"
    '{% block html %}<p>{{ honorific }}，节日快乐！<a href="{{ unsubscribe_link }}">退订</a></p>'
    "{% endblock %}"
)
GOOD_TELEGRAM = (
    "{% block html %}<b>{{ honorific }}</b>，节日快乐！{% endblock %}"
    "{% block buttons %}谢谢 | reply:positive\n退订 | reply:opt_out{% endblock %}"
)

#: (case id, template source, channel, a fragment the expected message contains).
BROKEN = [
    (
        "syntax error",
        GOOD_SMS.replace("{{ festival_name }}", "{{ festival_name }"),
        "sms",
        "模板语法错误",
    ),
    (
        "unknown variable",
        GOOD_SMS.replace("{{ honorific }}", "{{ customer_nmae }}"),
        "sms",
        "未知变量 customer_nmae",
    ),
    (
        "no such attribute",
        GOOD_SMS.replace("{{ honorific }}", "{{ honorific.nope }}"),
        "sms",
        "变量没有这个属性或键",
    ),
    (
        "sandbox",
        GOOD_SMS.replace("{{ honorific }}", "{{ ''.__class__.__mro__ }}"),
        "sms",
        "安全沙箱",
    ),
    (
        "sms too long",
        GOOD_SMS.replace("祝您节日快乐！", "祝您节日快乐！" * 12),
        "sms",
        "短信过长",
    ),
    # This message had no ASCII punctuation even before; kept as a guard.
    (
        "missing signature",
        GOOD_SMS.replace("【{{ sms_signature }}】", "【示例证券】"),
        "sms",
        "签名",
    ),
    (
        "missing opt-out hint",
        GOOD_SMS.replace("{{ opt_out_hint }}", ""),
        "sms",
        "退订提示",
    ),
    ("include", "{% include 'x' %}" + GOOD_SMS, "sms", "不能引用其他模板"),
    (
        "safe filter",
        GOOD_EMAIL.replace("<p>{{ honorific }}", "<p>{{ honorific|safe }}"),
        "email",
        "|safe",
    ),
    (
        "missing opt-out button",
        GOOD_TELEGRAM.replace("\n退订 | reply:opt_out", ""),
        "telegram",
        "退订按钮",
    ),
    ("unclosed tag", GOOD_TELEGRAM.replace("</b>", ""), "telegram", "标签未闭合"),
    # This message had no ASCII punctuation even before; kept as a guard.
    (
        "disallowed tag",
        GOOD_TELEGRAM.replace("<b>{{ honorific }}</b>", "<div>{{ honorific }}</div>"),
        "telegram",
        "不支持标签 <div>",
    ),
    (
        "self-closing tag",
        GOOD_TELEGRAM.replace("</b>", "</b><br/>"),
        "telegram",
        "不支持自闭合标签 <br/>",
    ),
    (
        "malformed button line",
        GOOD_TELEGRAM.replace("谢谢 | reply:positive", "谢谢 reply:positive"),
        "telegram",
        "按钮第1行",
    ),
    (
        "unknown reply code",
        GOOD_TELEGRAM.replace("reply:positive", "reply:yes_please"),
        "telegram",
        "回复代码未知",
    ),
]


def _chinese_part(message: str) -> str:
    """The Chinese half of a bilingual "中文 / English" message."""
    zh, sep, _en = message.partition(" / ")
    assert sep, f"not a bilingual message: {message}"
    return zh


def _offences(text: str) -> list[str]:
    """Each offending spot with a little context, for a readable failure."""
    return [
        text[max(m.start() - 8, 0) : m.end() + 8]
        for m in ASCII_PUNCT_NEXT_TO_CHINESE.finditer(text)
    ]


@pytest.mark.parametrize(
    ("source", "channel", "fragment"),
    [case[1:] for case in BROKEN],
    ids=[case[0] for case in BROKEN],
)
def test_validation_messages_use_full_width_punctuation(
    source: str, channel: str, fragment: str
) -> None:
    problems = validate(source, "holiday", channel, "zh-CN", public_url=LONG_URL)
    assert any(fragment in p for p in problems), problems
    offences = {p: found for p in problems if (found := _offences(_chinese_part(p)))}
    assert offences == {}


@pytest.mark.parametrize("name", list(VARIABLES))
def test_variable_descriptions_use_full_width_punctuation(name: str) -> None:
    assert _offences(VARIABLES[name].zh) == []


@pytest.mark.parametrize(
    "old",
    [
        "第1行：模板语法错误:unexpected '}'",
        "第1行：未知变量 customer_nmae(可用变量见 outreach templates vars)",
        "短信过长:长样本渲染后 178 个 UCS-2 字符单位,需 3 条,超过上限 2 条(组合 holiday,单向线路,长样本)",
        "称谓:先生 / 女士 / 空",
        "营销消息须有退订按钮(如“退订 | reply:opt_out”)(组合 holiday)",
        "标签未闭合:b",
        "Telegram 不支持自闭合标签 <br/>(换行请直接换行)",
        "按钮第1行应为“文字 | reply:意图”:谢谢 reply:positive",
        "按钮“谢谢”的回复代码未知:reply:yes_please(可用 reply:positive、reply:opt_out 等)",
    ],
)
def test_the_check_flags_the_old_wording(old: str) -> None:
    assert _offences(old) != []


@pytest.mark.parametrize("bad", ["意图:reply", "replay:意图", "xreply:意图", "reply(意图"])
def test_the_reply_prefix_exception_is_narrow(bad: str) -> None:
    assert _offences(bad) != []


@pytest.mark.parametrize(
    "fine",
    [
        "第1行：模板语法错误：unexpected '}'",
        "营销消息须有退订按钮（如“退订 | reply:opt_out”）",
        "变量没有这个属性或键：'str object' has no attribute 'nope'",
        "合并发送的回访类型列表（bundle 模板用，如 ['birthday', 'holiday']）",
        "按钮第1行应为“文字 | reply:意图”：谢谢 reply:positive",
        "按钮“谢谢”的回复代码未知：reply:好的（可用 reply:positive、reply:opt_out 等）",
    ],
)
def test_the_check_leaves_embedded_english_alone(fine: str) -> None:
    assert _offences(fine) == []
