"""The form of address (称呼) built from a customer's name and salutation.

Chinese customers are addressed by surname + 先生/女士 (欧阳女士, not 欧女士), so
compound surnames (复姓) must stay whole; names written with a middle dot
(阿依古丽·买买提江) have no surname to split off and are used whole.
"""

from __future__ import annotations

import re

# 单于、乐正、谷梁、褚师、南荣 are left out on purpose: 单/乐/谷/褚/南 + a given name is far
# more common today than the compound reading.
#: Compound surnames, checked before falling back to a one-character surname.
COMPOUND_SURNAMES: frozenset[str] = frozenset(
    """
    欧阳 太史 端木 上官 司马 东方 独孤 南宫 万俟 闻人 夏侯 诸葛 尉迟 公羊 赫连 澹台 皇甫
    宗政 濮阳 公冶 太叔 申屠 公孙 慕容 仲孙 钟离 长孙 宇文 司徒 鲜于 司空 闾丘 子车 亓官
    司寇 巫马 公西 颛孙 壤驷 公良 漆雕 宰父 拓跋 夹谷 轩辕 令狐 段干 百里 呼延 东郭 南门
    羊舌 微生 公户 公玉 公仪 梁丘 公仲 公上 公门 公山 公坚 左丘 公伯 西门 公祖 第五 公乘
    贯丘 公皙 东里 东宫 仲长 子书 子桑 即墨 达奚 主父 淳于 东门 北宫 相里 叱干 完颜 纳兰
    爱新觉罗 叶赫那拉
    """.split()
)

#: Dots used between the parts of transliterated names (U+00B7, U+2022, U+30FB, U+FF0E, U+2027,
#: U+FE52 small full stop, U+A78F Latin sinological dot).
NAME_DOTS = ("·", "•", "・", "．", "‧", "﹒", "ꞏ")
_CJK_CLASS = "\u3400-\u9fff\uf900-\ufaff"
#: An ASCII "." typed as the middle dot: only between two Chinese characters (阿依古丽.买买提江).
_ASCII_NAME_DOT = re.compile(f"[{_CJK_CLASS}]\\s*\\.\\s*[{_CJK_CLASS}]")

_MALE = {"先生", "男", "m", "male", "mr", "mr."}
_FEMALE = {"女士", "小姐", "女", "f", "female", "ms", "ms.", "mrs", "mrs.", "miss"}

GENERIC = {"zh-CN": "尊敬的客户", "en": "Customer"}


def _gender(salutation: str | None) -> str | None:
    s = (salutation or "").strip().lower()
    if s in _MALE:
        return "m"
    if s in _FEMALE:
        return "f"
    return None


def _is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


def has_name_dot(name: str) -> bool:
    """True if `name` is written with a middle dot or a look-alike of it (阿依古丽.买买提江)."""
    return any(d in name for d in NAME_DOTS) or _ASCII_NAME_DOT.search(name) is not None


def surname(name: str) -> str:
    """Split off the surname: compound first, whole name for dotted or non-Chinese names."""
    name = name.strip()
    if not name or has_name_dot(name) or not _is_cjk(name[0]):
        return name
    for length in (4, 3, 2):
        if len(name) >= length and name[:length] in COMPOUND_SURNAMES:
            return name[:length]
    return name[0]


def honorific(name: str | None, salutation: str | None, locale: str = "zh-CN") -> str:
    """称呼 for templates: 欧阳女士 / 阿依古丽·买买提江女士 / 尊敬的客户; Mr./Ms. <name> / Customer.

    English keeps the name as stored (no romanisation): "Ms. 欧阳晓燕", "Mr. Chan Tai Man".
    Without a known salutation we never guess a gender and use the generic form.
    """
    gender = _gender(salutation)
    clean = (name or "").strip()
    generic = GENERIC["en" if locale.startswith("en") else "zh-CN"]
    if gender is None or not clean:
        return generic
    if locale.startswith("en"):
        return f"{'Mr.' if gender == 'm' else 'Ms.'} {clean}"
    title = "先生" if gender == "m" else "女士"
    base = surname(clean)
    if not _is_cjk(base[0]) and not has_name_dot(base):
        return f"{base} {title}"  # e.g. "John Smith 先生": a space reads better after Latin letters
    return f"{base}{title}"
