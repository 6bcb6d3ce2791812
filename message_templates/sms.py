"""SMS length in the units carriers bill: GSM-7 septets or UCS-2 code units.

One character outside the GSM-7 alphabet (any Chinese, the 【】 of a signature,
an emoji) switches the whole message to UCS-2, which cuts a segment from 160 to
70 characters; templates are validated against this count, not len().
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# GSM 03.38 basic character set (ESC, 0x1B, is excluded: it only prefixes the extension table).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Extension table: each costs two septets (ESC + code).
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")

GSM7_SINGLE, GSM7_MULTI = 160, 153
UCS2_SINGLE, UCS2_MULTI = 70, 67

Encoding = Literal["GSM-7", "UCS-2"]


@dataclass(frozen=True)
class SmsInfo:
    """How an SMS body will travel: its encoding, total units and billed segments."""

    encoding: Encoding
    units: int
    segments: int

    @property
    def per_segment(self) -> int:
        """Capacity of one segment for this encoding and message size."""
        if self.encoding == "GSM-7":
            return GSM7_SINGLE if self.segments <= 1 else GSM7_MULTI
        return UCS2_SINGLE if self.segments <= 1 else UCS2_MULTI


def is_gsm7(text: str) -> bool:
    """True when every character fits the GSM-7 basic or extension table."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text)


def _char_units(text: str, encoding: Encoding) -> list[int]:
    if encoding == "GSM-7":
        return [2 if ch in GSM7_EXTENDED else 1 for ch in text]
    # UTF-16 code units: characters outside the BMP (most emoji) are surrogate pairs.
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def _count_segments(units: list[int], single: int, multi: int) -> int:
    total = sum(units)
    if total == 0:
        return 0
    if total <= single:
        return 1
    # Fill segments greedily: an escape pair or a surrogate pair is never split across
    # two segments, so a naive ceil(total / multi) can undercount by one.
    segments, used = 1, 0
    for u in units:
        if used + u > multi:
            segments, used = segments + 1, 0
        used += u
    return segments


def sms_info(text: str) -> SmsInfo:
    """Encoding, units and segments of an SMS body (0 segments for an empty body)."""
    encoding: Encoding = "GSM-7" if is_gsm7(text) else "UCS-2"
    units = _char_units(text, encoding)
    if encoding == "GSM-7":
        segments = _count_segments(units, GSM7_SINGLE, GSM7_MULTI)
    else:
        segments = _count_segments(units, UCS2_SINGLE, UCS2_MULTI)
    return SmsInfo(encoding=encoding, units=sum(units), segments=segments)


@dataclass(frozen=True)
class SegmentLimits:
    """How many segments a template's long sample may take: `SMS_MAX_SEGMENTS` for Chinese,
    `SMS_MAX_SEGMENTS_EN` for English.

    English SMS are UCS-2 too (the 【signature】 and the customer's Chinese name force it),
    so a segment holds 67 English characters, not 153: the mandated parts of an English
    bundle (signature, name, wish, question, password warning, opt-out hint or link) alone
    pass 134 units, the 2 segments a Chinese bundle fits in.
    """

    zh: int = 2
    en: int = 3

    def for_locale(self, locale: str) -> int:
        return self.en if locale == "en" else self.zh

    def describe(self) -> str:
        return f"SMS_MAX_SEGMENTS={self.zh}, SMS_MAX_SEGMENTS_EN={self.en}"
