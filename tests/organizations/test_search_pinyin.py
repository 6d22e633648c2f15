"""Search keys: the Chinese text, full pinyin and initials, every reading, surnames as surnames."""

from __future__ import annotations

import pytest

from sanlian.organizations.pinyin import MAX_COMBINATIONS, normalize_query, search_keys


def tokens(text: str, *, person: bool = True) -> list[str]:
    return search_keys(text, is_person_name=person).split()


def finds(query: str, text: str, *, person: bool = True) -> bool:
    """What the database query does: the keys stored behind a space contain " " + query."""
    return (" " + normalize_query(query)) in (" " + search_keys(text, is_person_name=person))


def test_initials_find_a_person() -> None:
    assert finds("zs", "张三")


def test_full_pinyin_finds_a_person() -> None:
    assert finds("zhangsan", "张三")


def test_the_start_of_the_full_pinyin_finds_a_person() -> None:
    assert finds("zhangs", "张三")


def test_initials_find_a_community() -> None:
    assert finds("kxsq", "凯旋社区", person=False)


def test_initials_find_the_community_union_by_its_start() -> None:
    assert finds("kxsq", "凯旋社区联合工会", person=False)


def test_the_chinese_text_is_a_token() -> None:
    assert tokens("凯旋社区", person=False)[0] == "凯旋社区"


def test_a_query_from_the_middle_of_a_name_does_not_match() -> None:
    assert not finds("san", "张三")


# Each surname with its surname reading: plain pypinyin reads most of these otherwise.
SURNAME_READINGS = [
    ("单", "shan"),
    ("曾", "zeng"),
    ("解", "xie"),
    ("仇", "qiu"),
    ("区", "ou"),
    ("查", "zha"),
    ("朴", "piao"),
    ("盖", "ge"),
    ("覃", "qin"),
    ("乐", "yue"),
    ("缪", "miao"),
    ("翟", "zhai"),
    ("员", "yun"),
    ("召", "shao"),
    ("繁", "po"),
    ("隗", "wei"),
    ("宓", "fu"),
    ("秘", "bi"),
    ("冼", "xian"),
    ("种", "chong"),
    ("黑", "he"),
    ("牟", "mou"),
    ("折", "she"),
    ("尉", "wei"),
    ("华", "hua"),
    ("任", "ren"),
    ("纪", "ji"),
    ("葛", "ge"),
    ("燕", "yan"),
    ("殷", "yin"),
    ("沈", "shen"),
    ("石", "shi"),
    ("薄", "bo"),
    ("阚", "kan"),
    ("那", "na"),
    ("句", "gou"),
    ("过", "guo"),
    ("红", "hong"),
    ("能", "nai"),
]


@pytest.mark.parametrize(("surname", "reading"), SURNAME_READINGS)
def test_surname_is_read_as_a_surname(surname: str, reading: str) -> None:
    assert tokens(surname + "明")[1] == reading + "ming"


@pytest.mark.parametrize(("surname", "reading"), SURNAME_READINGS)
def test_surname_initial_finds_the_person(surname: str, reading: str) -> None:
    assert finds(reading[0] + "m", surname + "明")


COMPOUND_SURNAMES = [
    ("欧阳", "ouyang"),
    ("司马", "sima"),
    ("诸葛", "zhuge"),
    ("上官", "shangguan"),
    ("东方", "dongfang"),
    ("皇甫", "huangfu"),
    ("尉迟", "yuchi"),
    ("万俟", "moqi"),
    ("长孙", "zhangsun"),
    ("令狐", "linghu"),
]


@pytest.mark.parametrize(("surname", "reading"), COMPOUND_SURNAMES)
def test_compound_surname_is_read_as_a_surname(surname: str, reading: str) -> None:
    assert tokens(surname + "明")[1] == reading + "ming"


def test_surname_reading_keeps_the_other_readings() -> None:
    assert finds("danxiongxin", "单雄信")


def test_surname_reading_is_for_people_only() -> None:
    assert tokens("单位", person=False)[1] == "danwei"


def test_single_wei_surname_is_not_read_as_in_yuchi() -> None:
    assert tokens("尉健行")[1].startswith("wei")


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ("长江", "changjiang"),
        ("长江", "zhangjiang"),
        ("重庆", "chongqing"),
        ("重庆", "zhongqing"),
        ("银行", "yinhang"),
        ("银行", "yinxing"),
        ("行长", "hangzhang"),
        ("行长", "xingchang"),
    ],
)
def test_every_reading_of_a_heteronym_is_indexed(text: str, reading: str) -> None:
    assert reading in tokens(text, person=False)


@pytest.mark.parametrize(("text", "initials"), [("重庆", "cq"), ("重庆", "zq"), ("长江", "zj")])
def test_initials_of_every_reading_are_indexed(text: str, initials: str) -> None:
    assert initials in tokens(text, person=False)


def test_the_reading_in_context_comes_first() -> None:
    assert tokens("银行", person=False)[1] == "yinhang"


def test_combinations_are_capped() -> None:
    # Eight characters of three readings each would be 6,561 spellings.
    full = [t for t in tokens("重重重重重重重重", person=False)[1:] if len(t) > 8]
    assert len(full) == MAX_COMBINATIONS


def test_letters_and_digits_in_a_name_stay_whole() -> None:
    assert "azuoshequ12" in tokens("A座社区（12）", person=False)


def test_empty_text_has_no_keys() -> None:
    assert search_keys("  ", is_person_name=True) == ""


@pytest.mark.parametrize(
    ("query", "normal"),
    [
        ("ＺＳ", "zs"),
        ("Zhang San", "zhangsan"),
        ("xi'an", "xian"),
        ("xi’an", "xian"),
        ("lü", "lv"),
        ("LÜ", "lv"),
        ("lu:", "lv"),
        ("\u3000kx\u3000sq", "kxsq"),
    ],
)
def test_normalize_query(query: str, normal: str) -> None:
    assert normalize_query(query) == normal


def test_lv_finds_a_surname_with_umlaut() -> None:
    assert finds("lü", "吕明")
