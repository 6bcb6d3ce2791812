"""Validation accepts the defaults and rejects each broken case with the message a user needs."""

import re

import pytest

from message_templates import BUNDLE, LOCALES, TEMPLATE_KINDS, default_source, validate
from tests.unit.templates.helpers import (
    LONG_URL,
    SMS_SAMPLE_IDS,
    SMS_SAMPLES,
)

GOOD_SMS = "【{{ sms_signature }}】{{ honorific }},值此{{ festival_name }}之际,祝您节日快乐!{{ opt_out_hint }}"
GOOD_EMAIL = (
    "{% block subject %}节日问候{% endblock %}"
    "{% block text %}{{ honorific }},节日快乐!{{ unsubscribe_link }}{% endblock %}"
    '{% block html %}<p>{{ honorific }},节日快乐!<a href="{{ unsubscribe_link }}">退订</a></p>'
    "{% endblock %}"
)
GOOD_TELEGRAM = (
    "{% block html %}<b>{{ honorific }}</b>,节日快乐!{% endblock %}"
    "{% block buttons %}谢谢 | reply:positive\n退订 | reply:opt_out{% endblock %}"
)


def _check(
    source: str,
    channel: str = "sms",
    kind: str = "holiday",
    *,
    two_way: bool | None = None,
    max_segments: int = 2,
) -> list[str]:
    return validate(
        source,
        kind,
        channel,
        "zh-CN",
        public_url=LONG_URL,
        two_way=two_way,
        max_segments=max_segments,
    )


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("channel", ["email", "telegram"])
@pytest.mark.parametrize("kind", TEMPLATE_KINDS)
def test_default_email_and_telegram_pass_validation(kind: str, channel: str, locale: str) -> None:
    assert validate(default_source(kind, channel, locale), kind, channel, locale) == []


_TOO_LONG = re.compile(r"^短信过长：.*需 (\d+) 条，超过上限 (\d+) 条（组合 ([a-z_+]+)，(双|单)向线路，长样本）")


@pytest.mark.parametrize("two_way", [True, False], ids=["two-way", "one-way"])
@pytest.mark.parametrize(("locale", "festivals"), SMS_SAMPLES, ids=SMS_SAMPLE_IDS)
@pytest.mark.parametrize("kind", TEMPLATE_KINDS)
def test_default_sms_pass_validation_for_the_long_sample(
    kind: str, locale: str, festivals: tuple[str, ...], two_way: bool
) -> None:
    """Every kind and every realistic bundle (the longest included) passes validation with the
    default limits: long sample, full-length links on a long PUBLIC_URL."""
    problems = validate(default_source(kind, "sms", locale), kind, "sms", locale,
                        public_url=LONG_URL, two_way=two_way, festival_names=festivals)
    assert problems == []


def test_english_bundles_need_the_third_segment() -> None:
    """Why SMS_MAX_SEGMENTS_EN is 3: held to 2, validation names the English bundles that
    cannot fit, each with its size; the Chinese ones still pass at 2."""
    problems = validate(default_source(BUNDLE, "sms", "en"), BUNDLE, "sms", "en",
                        public_url=LONG_URL, max_segments_en=2)
    reported = {}
    for problem in problems:
        match = _TOO_LONG.match(problem)
        assert match and match.group(2) == "2", problem
        reported[(match.group(3), match.group(4))] = int(match.group(1))
    assert ("new_account+birthday+holiday", "单") in reported
    assert ("new_account+birthday+holiday", "双") in reported
    assert set(reported.values()) == {3}
    assert validate(default_source(BUNDLE, "sms", "zh-CN"), BUNDLE, "sms", "zh-CN",
                    public_url=LONG_URL, max_segments=2, max_segments_en=2) == []


def test_the_english_limit_applies_to_english_only() -> None:
    """A 3-segment text passes in English and fails in Chinese; 4 fail in both."""
    wishes = "【{{ sms_signature }}】Happy {{ festival_name }}! " + "Best wishes. " * 8
    three, four = wishes + "{{ opt_out_hint }}", wishes + "Best wishes. " * 6 + "{{ opt_out_hint }}"
    assert validate(three, "holiday", "sms", "en", two_way=True) == []
    for source, locale in ((three, "zh-CN"), (four, "en")):
        problems = validate(source, "holiday", "sms", locale, two_way=True)
        assert [p[:4] for p in problems] == ["短信过长"], problems


@pytest.mark.parametrize(
    ("channel", "source"),
    [
        ("sms", GOOD_SMS),
        ("email", GOOD_EMAIL),
        ("telegram", GOOD_TELEGRAM),
    ],
)
def test_a_correct_override_passes(channel: str, source: str) -> None:
    assert _check(source, channel) == []


def test_syntax_error_reports_its_line() -> None:
    source = (
        "【{{ sms_signature }}】\n{{ honorific }},\n\n{{ festival_name }快乐!\n{{ opt_out_hint }}"
    )
    problems = _check(source)
    assert len(problems) == 1
    assert problems[0].startswith("第4行：模板语法错误")
    assert "line 4: syntax error" in problems[0]
    unclosed = _check("【{{ sms_signature }}】\n{% if two_way_sms %}\n回复TD退订\n{% endfor %}\n")
    assert unclosed[0].startswith("第4行：")


def test_unknown_variable_is_named_with_its_line() -> None:
    problems = _check(GOOD_SMS.replace("{{ honorific }}", "\n{{ customer_nmae }}"))
    assert problems == [
        "第2行：未知变量 customer_nmae（可用变量见 outreach templates vars） / "
        "line 2: unknown variable customer_nmae (see outreach templates vars)"
    ]


def test_attribute_error_at_render_is_reported() -> None:
    problems = _check(GOOD_SMS.replace("{{ honorific }}", "{{ honorific.nope }}"))
    assert len(problems) == 1 and "nope" in problems[0]


@pytest.mark.parametrize(
    "expr",
    [
        "''.__class__.__mro__[1].__subclasses__()",
        "customer_name.__class__.__base__",
        "cycler.__init__.__globals__",
        "branch_name.format.__globals__",
        "bundle_kinds.append('x')",
        "'a' * 100000000",
        "2 ** 100000",
        "f()",
    ],
)
def test_sandbox_escapes_fail_safely(expr: str) -> None:
    recursive = "{% macro f() %}{{ f() }}{% endmacro %}"
    problems = _check(recursive + "【{{ sms_signature }}】{{ " + expr + " }}{{ opt_out_hint }}")
    assert len(problems) == 1
    assert any(word in problems[0] for word in ("安全沙箱", "未知变量", "RecursionError"))


def test_sandbox_security_error_maps_to_a_message() -> None:
    problems = _check("【{{ sms_signature }}】{{ ''.__class__.__mro__ }}{{ opt_out_hint }}")
    assert problems[0].startswith("第1行：安全沙箱拦截了模板中不允许的操作")
    assert "__class__" in problems[0]


def test_sms_without_signature_is_rejected() -> None:
    problems = _check(GOOD_SMS.replace("【{{ sms_signature }}】", "【示例证券】"))
    assert any("签名" in p for p in problems)


def test_marketing_sms_without_opt_out_is_rejected() -> None:
    problems = _check(GOOD_SMS.replace("{{ opt_out_hint }}", ""))
    assert any("退订提示" in p for p in problems)


def test_hard_coded_td_hint_fails_on_one_way_routes_only() -> None:
    source = GOOD_SMS.replace("{{ opt_out_hint }}", "回复TD退订")
    assert _check(source, two_way=True) == []
    problems = _check(source, two_way=False)
    assert len(problems) == 1 and "单向线路" in problems[0]


def test_too_long_sms_is_rejected_with_its_size() -> None:
    source = GOOD_SMS.replace("祝您节日快乐!", "祝您节日快乐!" * 12)
    problems = _check(source)
    assert problems and all(p.startswith("短信过长") for p in problems)
    assert "UCS-2" in problems[0]
    assert _check(source, max_segments=4) == []


def test_service_sms_with_a_link_is_rejected() -> None:
    source = "【{{ sms_signature }}】欢迎开户,详见 {{ telegram_link }}。我们不会索要密码。"
    problems = _check(source, kind="new_account")
    assert problems == ["服务类消息不得包含链接 / service messages must not contain links"]


def test_service_sms_without_password_warning_is_rejected() -> None:
    problems = _check("【{{ sms_signature }}】欢迎开户!", kind="new_account")
    assert any("密码" in p for p in problems)


def test_email_needs_a_subject() -> None:
    missing = GOOD_EMAIL.replace("{% block subject %}节日问候{% endblock %}", "")
    assert "缺少 {% block subject %} 块" in _check(missing, "email")[0]
    empty = GOOD_EMAIL.replace("节日问候", "")
    assert any("邮件主题为空" in p for p in _check(empty, "email"))


@pytest.mark.parametrize(
    "trick",
    [
        "{{ honorific|safe }}",
        "{% autoescape false %}{{ honorific }}{% endautoescape %}",
    ],
)
def test_email_html_must_stay_escaped(trick: str) -> None:
    source = GOOD_EMAIL.replace("<p>{{ honorific }}", "<p>" + trick)
    problems = _check(source, "email")
    assert problems and all("转义" in p for p in problems)


def test_marketing_email_needs_unsubscribe_link_in_both_parts() -> None:
    no_text_link = GOOD_EMAIL.replace("节日快乐!{{ unsubscribe_link }}", "节日快乐!")
    problems = _check(no_text_link, "email")
    assert len(problems) == 1 and "text 部分须包含退订链接" in problems[0]
    no_links = GOOD_EMAIL.replace("{{ unsubscribe_link }}", "")
    assert len(_check(no_links, "email")) == 2


@pytest.mark.parametrize("markup", ["<div>", "<br>", "<br/>", "<span>", "<a onclick='x'>"])
def test_telegram_disallowed_markup_is_rejected(markup: str) -> None:
    source = GOOD_TELEGRAM.replace("<b>{{ honorific }}</b>", markup + "{{ honorific }}")
    assert any("Telegram" in p or "<span>" in p for p in _check(source, "telegram"))


def test_telegram_allowed_tags_pass() -> None:
    body = (
        "<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>i</ins><s>s</s>"
        "<strike>s</strike><del>d</del><code>c</code><pre>p</pre><tg-spoiler>t</tg-spoiler>"
        '<span class="tg-spoiler">x</span><blockquote>q</blockquote><a href="https://x.cn">a</a>'
    )
    source = GOOD_TELEGRAM.replace("<b>{{ honorific }}</b>", body + "{{ honorific }}")
    assert _check(source, "telegram") == []


def test_telegram_marketing_needs_opt_out_button_and_known_codes() -> None:
    no_opt_out = GOOD_TELEGRAM.replace("\n退订 | reply:opt_out", "")
    assert any("退订按钮" in p for p in _check(no_opt_out, "telegram"))
    bad_code = GOOD_TELEGRAM.replace("reply:positive", "reply:yes_please")
    assert any("reply:yes_please" in p for p in _check(bad_code, "telegram"))


def test_bundle_override_is_checked_for_every_realistic_combination() -> None:
    source = (
        "【{{ sms_signature }}】{{ honorific }},"
        "{% if 'holiday' in bundle_kinds %}{{ festival_name }}快乐!{% endif %}"
        "{{ opt_out_hint }}"
    )
    problems = _check(source, kind="bundle")
    # new_account bundles lack the password warning; the rest are fine.
    assert problems and all("密码" in p for p in problems)


def test_unknown_slot_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        validate(GOOD_SMS, "anniversary", "sms", "zh-CN")
