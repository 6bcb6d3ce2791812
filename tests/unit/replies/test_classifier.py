"""Targeted behaviour of the reply classifier: the cases the metrics could average away."""

from __future__ import annotations

import pytest

from bot.domain.replies import INTENTS, classify

LOW = 0.6  # CLASSIFIER_MIN_CONFIDENCE default


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("不是不满意", "positive"),
        ("没有不满意的地方", "positive"),
        ("不满意", "negative"),
        ("不太满意", "negative"),
        ("不是很满意", "negative"),
        ("not unhappy with it", "positive"),
        ("not happy with the app", "negative"),
        ("not bad at all", "positive"),
        ("no complaints, all good", "positive"),
        ("don't stop sending me news", "opt_in"),
        ("我不会投诉的，放心", "neutral"),
    ],
)
def test_negation(text: str, intent: str) -> None:
    assert classify(text).intent == intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("ＴＤ", "opt_out"),
        ("ＳＴＯＰ", "opt_out"),
        ("我要投诉！！！", "complaint"),
        ("ＨＥＬＰ", "help"),
    ],
)
def test_full_width(text: str, intent: str) -> None:
    assert classify(text).intent == intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("我要投訴", "complaint"),
        ("帳戶被盜了", "not_me"),
        ("謝謝，服務很好", "positive"),
        ("請給我回電話", "callback_request"),
        ("現在在開會，晚點聯繫", "reschedule"),
        ("退訂", "opt_out"),
    ],
)
def test_traditional(text: str, intent: str) -> None:
    assert classify(text).intent == intent


@pytest.mark.parametrize(
    "text",
    ["STOP", "stop", "Stop.", "STOP!!", "stop pls 🙏", "TD", "T", "退订", "回复TD", "R", "Ｒ", "拒收",
     "回复R", "拒收请回复R"],
)
def test_opt_out_keyword_as_whole_message(text: str) -> None:
    result = classify(text)
    assert (result.intent, result.confidence) == ("opt_out", 0.97)
    assert result.reasons[0].startswith("keyword opt_out")


@pytest.mark.parametrize(
    "text",
    [
        "don't stop sending me news",
        "the app won't stop crashing",
        "please cancel my order for 600519",
        "what happens at the end of the month?",
        "T_T",
        "TT",
        "rt",
        "rr",
    ],
)
def test_keyword_inside_a_sentence_is_not_an_opt_out(text: str) -> None:
    assert classify(text).intent != "opt_out"


def test_opt_in_help_and_yes() -> None:
    assert classify("START").intent == "opt_in"
    assert classify("UNSTOP").intent == "opt_in"
    assert classify("HELP").intent == "help"
    assert classify("帮助").intent == "help"
    # YES answers our question; it is not consent to marketing (Twilio's default is opt-in).
    assert classify("YES").intent == "neutral"


def test_how_to_unsubscribe_is_an_opt_out() -> None:
    """Decision: the wish is clear; the confirmation tells them how to restore (START)."""
    assert classify("怎么退订？").intent == "opt_out"
    assert classify("how do i unsubscribe").intent == "opt_out"


def test_typos_and_pinyin_shorthand() -> None:
    assert classify("unsubscibe").intent == "opt_out"
    assert classify("退定").intent == "opt_out"
    assert classify("td").intent == "opt_out"
    assert classify("hd 有事找你们").intent == "callback_request"
    assert classify("方便dh吗").intent == "callback_request"


@pytest.mark.parametrize("kind", ["new_account", "asset_movement", "account_closed"])
def test_denial_on_an_identity_touch_is_not_me(kind: str) -> None:
    assert classify("不是我", kind).intent == "not_me"
    assert classify("not me", kind).intent == "not_me"


@pytest.mark.parametrize("kind", ["birthday", "holiday"])
def test_denial_on_a_greeting_is_wrong_person(kind: str) -> None:
    assert classify("不是我", kind).intent == "wrong_person"
    assert classify("我没在你们这开过户", kind).intent == "wrong_person"


def test_account_denial_without_kind_is_not_me() -> None:
    assert classify("我没开过户啊").intent == "not_me"


def test_bare_no_depends_on_kind() -> None:
    assert classify("NO", "asset_movement").intent == "not_me"
    assert classify("NO", "holiday").intent != "not_me"


def test_confirmation_on_identity_touch_is_neutral() -> None:
    assert classify("是我自己转的，没问题", "asset_movement").intent == "neutral"
    assert classify("yes, that was me", "asset_movement").intent == "neutral"


def test_precedence() -> None:
    both = classify("这笔转账不是我操作的，我要投诉", "asset_movement")
    assert both.intent == "not_me"
    assert "complaint" in both.also
    assert classify("我要投诉，退订了还一直发").intent == "complaint"
    assert classify("发错人了，别再发了").intent == "wrong_person"
    assert classify("在开会，下午三点后请给我回电话").intent == "reschedule"
    assert classify("烦死了，别再发了").intent == "opt_out"


@pytest.mark.parametrize(
    "text",
    [
        "真是太好了，又亏了",
        "谢谢你们让我亏了这么多",
        "Great, another crash at the open. Thanks a lot",
    ],
)
def test_sarcasm_is_negative(text: str) -> None:
    assert classify(text).intent == "negative"


def test_opt_in_after_past_opt_out() -> None:
    assert classify("之前误点退订了，帮我恢复").intent == "opt_in"


@pytest.mark.parametrize("text", ["嗯?", "？？", "?", "...", "🐱", "🤔", "asdfgh", "", "   "])
def test_unreadable_replies_have_low_confidence(text: str) -> None:
    assert classify(text).confidence < LOW


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("我要投诉", None),
        ("这笔转账不是我操作的", None),
        ("请给我回个电话", None),
        ("谢谢，也祝你们中秋快乐", "holiday"),
    ],
)
def test_clear_replies_have_high_confidence(text: str, kind: str | None) -> None:
    assert classify(text, kind).confidence >= 0.75


def test_reasons_explain_the_decision() -> None:
    result = classify("你们APP太卡了")
    assert result.intent == "negative"
    assert any("太卡" in reason for reason in result.reasons)
    assert any("negated" in r for r in classify("不太满意").reasons)


def test_every_result_is_one_of_the_eleven_intents() -> None:
    samples = ["", "🙂", "x" * 5000, "你好" * 300, "\n\t", "12386", "明天", "？！。，"]
    for text in samples:
        result = classify(text)
        assert result.intent in INTENTS
        assert 0.0 <= result.confidence <= 1.0


def test_kind_is_case_and_space_insensitive() -> None:
    assert classify("不是我", " Asset_Movement ").intent == "not_me"
    assert classify("不是我", "unknown_kind").intent == "not_me"


@pytest.mark.parametrize("text", ["R", "r", "Ｒ", "R!", "拒收", "拒收。"])
def test_carrier_opt_out_words_are_whole_message_keywords(text: str) -> None:
    """DOMAIN: mainland marketing SMS end with "拒收请回复R"; R and 拒收 act like TD."""
    from bot.domain.replies.keywords import detect

    found = detect(text)
    assert found is not None and found.intent == "opt_out"
