"""Normalisation folds what customers type into the lexicons' one form."""

from __future__ import annotations

from bot.domain.replies import normalize
from bot.domain.replies._t2s import T2S
from bot.domain.replies.normalize import EMO_NEG, EMO_OK, EMO_POS, has_cjk


def test_full_width_becomes_half_width_and_lower_case() -> None:
    assert normalize("ＴＤ") == "td"
    assert normalize("ＳＴＯＰ！") == "stop!"
    assert normalize("15：00") == "15:00"


def test_traditional_becomes_simplified() -> None:
    assert normalize("謝謝，我要投訴，帳戶被盜") == "谢谢,我要投诉,账户被盗"
    assert normalize("請給我回電話") == "请给我回电话"


def test_simplified_text_is_left_alone() -> None:
    """No key of the table is itself a simplified character in use."""
    text = "这笔转账不是我操作的，请给我回电话，谢谢你们的服务，后天下午再联系"
    assert normalize(text) == text.replace("，", ",")
    assert not {chr(k) for k in T2S} & {chr(v) for v in T2S.values()}


def test_emoji_become_cue_tokens_or_vanish() -> None:
    assert normalize("👍") == EMO_POS
    assert normalize("😡😡") == f"{EMO_NEG} {EMO_NEG}"
    assert normalize("好的👌") == f"好的 {EMO_OK}"
    assert normalize("🐱 hi 🚀") == "hi"
    assert normalize("👍🏻") == EMO_POS  # skin tone modifier dropped


def test_text_emoticons() -> None:
    assert normalize("T_T") == EMO_NEG
    assert normalize("好的:)") == f"好的 {EMO_POS}"


def test_whitespace_and_repeated_punctuation_collapse() -> None:
    assert normalize("  退订！！！  ") == "退订!"
    assert normalize("what???   really") == "what? really"
    assert normalize("收到。。。") == "收到."


def test_has_cjk() -> None:
    assert has_cjk("ok收到")
    assert not has_cjk("ok ＴＤ")
