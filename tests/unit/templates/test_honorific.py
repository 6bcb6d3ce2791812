"""称呼 rules: compound surnames whole, dotted names whole, generic without salutation."""

import pytest

from message_templates.honorific import COMPOUND_SURNAMES, honorific, surname


@pytest.mark.parametrize(
    ("name", "salutation", "expected"),
    [
        ("欧阳晓燕", "女士", "欧阳女士"),
        ("司马光", "先生", "司马先生"),
        ("张三", "先生", "张先生"),
        ("诸葛亮", "先生", "诸葛先生"),
        ("上官婉儿", "女士", "上官女士"),
        ("令狐冲", "先生", "令狐先生"),
        ("阿依古丽·买买提江", "女士", "阿依古丽·买买提江女士"),
        ("爱新觉罗·恒", "先生", "爱新觉罗·恒先生"),
        ("李娜", "小姐", "李女士"),
        ("张三", "", "尊敬的客户"),
        ("张三", None, "尊敬的客户"),
        ("", "女士", "尊敬的客户"),
    ],
)
def test_chinese_honorific(name: str, salutation: str | None, expected: str) -> None:
    assert honorific(name, salutation, "zh-CN") == expected


@pytest.mark.parametrize(
    ("name", "salutation", "expected"),
    [
        ("欧阳晓燕", "女士", "Ms. 欧阳晓燕"),
        ("Chan Tai Man", "先生", "Mr. Chan Tai Man"),
        ("Chan Tai Man", "", "Customer"),
    ],
)
def test_english_honorific_keeps_name_as_stored(name: str, salutation: str, expected: str) -> None:
    assert honorific(name, salutation, "en") == expected


def test_every_compound_surname_stays_whole() -> None:
    for compound in COMPOUND_SURNAMES:
        assert surname(compound + "明") == compound


@pytest.mark.parametrize(
    "name",
    ["阿依古丽.买买提江", "阿依古丽 . 买买提江", "阿依古丽﹒买买提江", "阿依古丽ꞏ买买提江", "阿依古丽．买买提江"],
)
def test_dot_look_alikes_between_chinese_characters_keep_the_whole_name(name: str) -> None:
    assert surname(name) == name
    assert honorific(name, "女士", "zh-CN") == f"{name}女士"


def test_ascii_period_elsewhere_is_not_a_name_dot() -> None:
    assert honorific("张三.", "先生", "zh-CN") == "张先生"
    assert honorific("J. Smith", "先生", "zh-CN") == "J. Smith 先生"


@pytest.mark.parametrize("dot", ["﹒", "ꞏ", "．", "•"])
def test_csv_import_normalises_dot_look_alikes(dot: str) -> None:
    from bot.service.customers.csv_rows import _name

    assert _name(f"阿依古丽{dot}买买提江") == "阿依古丽·买买提江"
