"""Every shipped default renders, and what it renders obeys the messaging rules."""

import re

import pytest

from message_templates import (
    BUNDLE,
    CHANNELS,
    KINDS,
    LOCALES,
    RenderedMessage,
    TemplateRenderError,
    is_marketing,
    render,
    sample_variables,
)
from message_templates.sms import SegmentLimits
from message_templates.telegram import check_html
from tests.unit.templates.helpers import (
    ALL_MEMBER_SETS,
    LONG_BRANCH_FESTIVAL,
    LONG_URL,
    SMS_MEMBER_SETS,
    SMS_SAMPLE_IDS,
    SMS_SAMPLES,
)

LINK = re.compile(r"https?://|www\.")
#: ASCII punctuation touching Chinese: wrong in Chinese text (，！？：。 are full-width).
ASCII_PUNCT_IN_CHINESE = re.compile(r"[\u4e00-\u9fff】][,!?:;.]|[,!?:;][\u4e00-\u9fff【]")


def _render(
    kinds: tuple[str, ...], channel: str, locale: str, two_way_sms: bool = True
) -> RenderedMessage:
    variables = sample_variables(
        locale, bundle_kinds=kinds, public_url=LONG_URL, two_way_sms=two_way_sms
    )
    return render(kinds, channel, locale, variables)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("kinds", ALL_MEMBER_SETS, ids="+".join)
def test_every_default_renders(kinds: tuple[str, ...], channel: str, locale: str) -> None:
    for two_way in (True, False):
        msg = _render(kinds, channel, locale, two_way_sms=two_way)
        assert msg.template_kind == (kinds[0] if len(kinds) == 1 else BUNDLE)
        assert msg.text.strip()
        assert "{{" not in msg.text and "{%" not in msg.text
        if channel == "sms":
            assert msg.sms is not None and msg.sms.segments >= 1
            assert msg.text.startswith("【示例证券】")
            assert "\n" not in msg.text
        if channel == "email":
            assert msg.subject and "\n" not in msg.subject
            assert msg.html and msg.html.lstrip().startswith("<!DOCTYPE html>")
        if channel == "telegram":
            assert check_html(msg.html or "") == []
            assert msg.buttons


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kinds", [k for k in ALL_MEMBER_SETS if is_marketing(k)], ids="+".join)
def test_marketing_sms_ends_with_opt_out_hint(kinds: tuple[str, ...], locale: str) -> None:
    two_way = _render(kinds, "sms", locale, two_way_sms=True).text
    one_way = _render(kinds, "sms", locale, two_way_sms=False).text
    assert two_way.endswith("回复TD退订" if locale == "zh-CN" else "Reply STOP to opt out")
    assert one_way.endswith(f"{LONG_URL}/u/Ab3dEf7hJk9m")
    assert two_way.count("退订") + two_way.count("STOP") == 1  # one hint, not one per member


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("two_way", [True, False])
def test_new_account_has_no_link_and_warns_about_passwords(
    channel: str, locale: str, two_way: bool
) -> None:
    msg = _render(("new_account",), channel, locale, two_way_sms=two_way)
    body = f"{msg.subject or ''}\n{msg.text}\n{msg.html or ''}"
    assert not LINK.search(body)
    assert not msg.marketing
    if locale == "zh-CN":
        assert "本公司不会以任何方式索要您的密码或验证码" in body
    elif channel == "sms":  # shortened to keep SMS within 2 segments
        assert "We never ask for passwords or codes." in body
    else:
        assert re.search(r"never ask for (your )?passwords? or verification codes", body)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", ["new_account", "dormancy"])
def test_reply_kinds_ask_a_question(kind: str, locale: str) -> None:
    for channel in CHANNELS:
        text = _render((kind,), channel, locale).text
        assert "?" in text or "？" in text


def test_bundle_reads_as_one_message() -> None:
    text = _render(("holiday", "birthday"), "sms", "zh-CN").text
    assert "值此中秋节之际，又逢您生日" in text
    assert text.count("欧阳女士") == 1
    assert text.count("【示例证券】") == 1
    full = _render(("new_account", "birthday", "holiday"), "email", "zh-CN")
    assert full.text.count("欧阳女士") == 1
    assert full.text.count("客服电话") == 1


def test_single_member_bundle_uses_the_kind_template() -> None:
    variables = sample_variables("zh-CN", bundle_kinds=["birthday"])
    as_bundle = render(BUNDLE, "sms", "zh-CN", variables)
    as_kind = render("birthday", "sms", "zh-CN", variables)
    assert as_bundle.template_kind == "birthday"
    assert as_bundle.text == as_kind.text


@pytest.mark.parametrize("locale", LOCALES)
def test_telegram_buttons_follow_the_kind(locale: str) -> None:
    greeting = {b.intent for b in _render(("holiday",), "telegram", locale).buttons}
    service = {b.intent for b in _render(("new_account",), "telegram", locale).buttons}
    dormant = {b.intent for b in _render(("dormancy",), "telegram", locale).buttons}
    assert "opt_out" in greeting and "opt_out" not in service
    assert dormant == {"positive", "callback_request", "opt_out"}
    assert all(
        b.data.startswith("reply:") for b in _render(KINDS, "telegram", locale).buttons
    )


@pytest.mark.parametrize("channel", ["email", "telegram"])
def test_html_parts_escape_customer_data(channel: str) -> None:
    variables = sample_variables("zh-CN", bundle_kinds=["holiday"])
    variables["honorific"] = "<script>alert(1)</script>"
    msg = render("holiday", channel, "zh-CN", variables)
    assert "<script>" not in (msg.html or "")
    assert "&lt;script&gt;" in (msg.html or "")
    if channel == "email":
        assert "<script>alert(1)</script>" in msg.text  # plain text is not HTML-escaped


def test_sms_is_not_html_escaped() -> None:
    variables = sample_variables("zh-CN", bundle_kinds=["holiday"])
    variables["branch_name"] = "A&B营业部"
    assert "A&B营业部" in render("holiday", "sms", "zh-CN", variables).text


def test_missing_variable_fails_loudly() -> None:
    variables = sample_variables("zh-CN", bundle_kinds=["holiday"])
    del variables["festival_name"]
    with pytest.raises(TemplateRenderError) as err:
        render("holiday", "sms", "zh-CN", variables)
    assert "festival_name" in err.value.messages[0]


def test_override_source_replaces_the_default() -> None:
    variables = sample_variables("zh-CN", bundle_kinds=["holiday"])
    source = "【{{ sms_signature }}】{{ honorific }},{{ festival_name }}快乐!{{ opt_out_hint }}"
    msg = render("holiday", "sms", "zh-CN", variables, source=source)
    assert msg.text == "【示例证券】欧阳女士,中秋节快乐!回复TD退订"


def _long_sample(
    kinds: tuple[str, ...], locale: str, festivals: tuple[str, ...], two_way: bool
) -> dict[str, object]:
    variables = sample_variables(
        locale,
        long=True,
        public_url=LONG_URL,
        two_way_sms=two_way,
        bundle_kinds=kinds,
        festival_names=festivals,
    )
    if festivals:
        assert variables["festival_name"] == LONG_BRANCH_FESTIVAL
    return variables


@pytest.mark.parametrize("two_way", [True, False], ids=["two-way", "one-way"])
@pytest.mark.parametrize(("locale", "festivals"), SMS_SAMPLES, ids=SMS_SAMPLE_IDS)
@pytest.mark.parametrize("kinds", SMS_MEMBER_SETS, ids="+".join)
def test_default_sms_size_for_the_long_sample(
    kinds: tuple[str, ...], locale: str, festivals: tuple[str, ...], two_way: bool
) -> None:
    """SMS_MAX_SEGMENTS (2) in Chinese, SMS_MAX_SEGMENTS_EN (3) in English, for the long sample
    with full-length links on a long PUBLIC_URL."""
    variables = _long_sample(kinds, locale, festivals, two_way)
    info = render(kinds, "sms", locale, variables).sms
    assert info is not None and info.encoding == "UCS-2"  # 【】 forces UCS-2, English too
    assert info.segments <= SegmentLimits().for_locale(locale), info


@pytest.mark.parametrize("two_way", [True, False], ids=["two-way", "one-way"])
@pytest.mark.parametrize(("locale", "festivals"), SMS_SAMPLES, ids=SMS_SAMPLE_IDS)
@pytest.mark.parametrize("kinds", SMS_MEMBER_SETS, ids="+".join)
def test_default_sms_content_rules(
    kinds: tuple[str, ...], locale: str, festivals: tuple[str, ...], two_way: bool
) -> None:
    """One signature, salutation and opt-out hint; reply kinds invite an answer; the branch is
    named once where there is room (never in bundles on one-way routes or in English)."""
    variables = _long_sample(kinds, locale, festivals, two_way)
    text = render(kinds, "sms", locale, variables).text
    assert text.startswith(f"【{variables['sms_signature']}】")
    assert text.count("【") == 1
    assert text.count(variables["customer_name"]) == 1
    branch = text.count(variables["branch_name"])
    if len(kinds) > 1:
        assert branch == (1 if locale == "zh-CN" and two_way else 0)
    else:
        assert branch == 1 if kinds == ("new_account",) else branch <= 1
    if "holiday" in kinds:
        assert variables["festival_name"] in text
    if is_marketing(kinds):
        assert text.endswith(variables["opt_out_hint"])
        assert text.lower().count("退订" if locale == "zh-CN" else "opt out") == 1
    if "new_account" in kinds:
        assert ("密码" if locale == "zh-CN" else "password") in text
    if {"new_account", "dormancy"} & set(kinds):
        assert "?" in text or "？" in text
        if two_way:
            assert re.search("回复告知|欢迎直接回复" if locale == "zh-CN" else "Just reply", text)
        else:
            assert variables["service_phone"] in text
    if locale == "zh-CN":
        assert not ASCII_PUNCT_IN_CHINESE.search(text), text
