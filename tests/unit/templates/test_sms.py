"""SMS sizing at the segment boundaries carriers bill by."""

import pytest

from message_templates.sms import sms_info


@pytest.mark.parametrize(
    ("length", "segments"),
    [(70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)],
)
def test_ucs2_boundaries(length: int, segments: int) -> None:
    info = sms_info("中" * length)
    assert (info.encoding, info.units, info.segments) == ("UCS-2", length, segments)


@pytest.mark.parametrize(("length", "segments"), [(160, 1), (161, 2), (306, 2), (307, 3)])
def test_gsm7_boundaries(length: int, segments: int) -> None:
    info = sms_info("a" * length)
    assert (info.encoding, info.units, info.segments) == ("GSM-7", length, segments)


def test_gsm7_extension_characters_count_two() -> None:
    info = sms_info("{" * 80)
    assert (info.encoding, info.units, info.segments) == ("GSM-7", 160, 1)
    assert sms_info("{" * 80 + "a").segments == 2


def test_extension_pair_is_not_split_across_segments() -> None:
    # 152 plain septets then "€" (2 septets) cannot share the first 153-septet segment.
    info = sms_info("a" * 152 + "€" + "a" * 10)
    assert info.units == 164
    assert info.segments == 2
    assert sms_info("a" * 152 + "€" + "a" * 152).segments == 3


def test_signature_brackets_force_ucs2_for_english() -> None:
    text = "【Example】Happy birthday! Reply STOP to opt out"
    info = sms_info(text)
    assert info.encoding == "UCS-2"
    assert info.units == len(text)
    assert sms_info(text.replace("【", "[").replace("】", "]")).encoding == "GSM-7"


def test_emoji_counts_two_ucs2_units() -> None:
    assert sms_info("🎉").units == 2
    assert sms_info("中" * 68 + "🎉").segments == 1  # exactly 70 units
    assert sms_info("中" * 69 + "🎉").segments == 2


def test_empty_body_has_no_segments() -> None:
    assert sms_info("").segments == 0


def test_surrogate_pair_is_not_split_across_segments() -> None:
    info = sms_info("中" * 66 + "🎉" + "中" * 66)
    assert info.units == 134
    assert info.segments == 3  # the emoji cannot straddle segments 1 and 2
