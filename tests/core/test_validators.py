"""Tests for sanlian.core.validators (no database needed)."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from stdnum.cn import ric as stdnum_ric
from stdnum.cn import uscc as stdnum_uscc

from sanlian.core.validators import (
    CharacterClassValidator,
    CreditCodeField,
    MobileField,
    ResidentIdField,
    generate_credit_code,
    generate_resident_id,
    make_credit_code,
    mask_mobile,
    mask_resident_id,
    normalize_digits,
    normalize_mobile,
    parse_resident_id,
    validate_credit_code,
    validate_mobile,
    validate_resident_id,
)

GB_EXAMPLE_ID = "440524188001010014"  # GB 11643-1999 worked example; region not in stdnum table
BEIJING_ID = "11010519491231002X"
GENERATED_ID = generate_resident_id("210102", datetime.date(1990, 5, 17), 123)
PUBLISHED_CREDIT_CODES = ["91350100M000100Y43", "91110000802100433B", "91110000600037341L"]


def first_message(exc: pytest.ExceptionInfo[ValidationError]) -> str:
    return str(exc.value.messages[0])


# --- normalize_digits --------------------------------------------------------


def test_normalize_digits_folds_full_width_and_strips_separators() -> None:
    assert normalize_digits("１２３\u3000４５-６ Ｘｘ") == "123456Xx"


# --- resident identity number ------------------------------------------------


@pytest.mark.parametrize("number", [GB_EXAMPLE_ID, BEIJING_ID, GENERATED_ID])
def test_parse_resident_id_accepts_valid_numbers(number: str) -> None:
    assert parse_resident_id(number).number == number


def test_gb_example_is_rejected_by_stdnum() -> None:
    assert not stdnum_ric.is_valid(GB_EXAMPLE_ID)


def test_unknown_region_is_accepted_with_warning() -> None:
    parsed = parse_resident_id(GB_EXAMPLE_ID)
    assert (parsed.region_known, parsed.warnings) == (
        False,
        ("地区代码 440524 不在已知行政区划表中",),
    )


def test_gb_example_fields() -> None:
    parsed = parse_resident_id(GB_EXAMPLE_ID)
    assert (parsed.region_code, parsed.birth_date, parsed.sex) == (
        "440524",
        datetime.date(1880, 1, 1),
        "M",
    )


def test_known_region_has_no_warning() -> None:
    parsed = parse_resident_id(BEIJING_ID)
    assert (parsed.region_known, parsed.warnings) == (True, ())


def test_beijing_example_fields() -> None:
    parsed = parse_resident_id(BEIJING_ID)
    assert (parsed.region_code, parsed.birth_date, parsed.sex) == (
        "110105",
        datetime.date(1949, 12, 31),
        "F",
    )


def test_generated_id_fields() -> None:
    parsed = parse_resident_id(GENERATED_ID)
    assert (parsed.birth_date, parsed.sex, parsed.region_known) == (
        datetime.date(1990, 5, 17),
        "M",
        True,
    )


@pytest.mark.parametrize(
    ("region", "birth", "sequence"),
    [
        ("110105", datetime.date(1949, 12, 31), 2),
        ("210102", datetime.date(1990, 5, 17), 123),
        ("360426", datetime.date(1991, 1, 1), 7),
        ("310101", datetime.date(2000, 2, 29), 999),
        ("440305", datetime.date(1985, 10, 1), 0),
    ],
)
def test_generated_check_digit_matches_stdnum(
    region: str, birth: datetime.date, sequence: int
) -> None:
    number = generate_resident_id(region, birth, sequence)
    assert number[-1] == stdnum_ric.calc_check_digit(number)


def test_generate_resident_id_rejects_sequence_out_of_range() -> None:
    with pytest.raises(ValueError, match="sequence"):
        generate_resident_id("110105", datetime.date(1990, 1, 1), 1000)


def test_bad_check_digit_message() -> None:
    with pytest.raises(ValidationError) as exc:
        parse_resident_id(BEIJING_ID[:-1] + "5")
    assert first_message(exc) == "身份证号校验位应为 X，实际为 5"


def test_bad_check_digit_code() -> None:
    with pytest.raises(ValidationError) as exc:
        validate_resident_id(BEIJING_ID[:-1] + "5")
    assert exc.value.code == "checksum"


def test_february_30_is_rejected() -> None:
    with pytest.raises(ValidationError) as exc:
        parse_resident_id("110105199902300014")
    assert first_message(exc) == "身份证号出生日期 19990230 无效"


def test_future_birth_date_is_rejected() -> None:
    with pytest.raises(ValidationError) as exc:
        parse_resident_id(generate_resident_id("110105", datetime.date(2999, 1, 1), 1))
    assert first_message(exc) == "身份证号出生日期 29990101 晚于今天"


def test_birth_date_before_1850_is_rejected() -> None:
    with pytest.raises(ValidationError) as exc:
        parse_resident_id(generate_resident_id("110105", datetime.date(1849, 12, 31), 1))
    assert first_message(exc) == "身份证号出生日期 18491231 早于1850年"


def test_seventeen_digits_is_rejected() -> None:
    with pytest.raises(ValidationError) as exc:
        parse_resident_id(BEIJING_ID[:17])
    assert first_message(exc) == "身份证号应为18位，当前为17位"


def test_invalid_province_is_rejected() -> None:
    with pytest.raises(ValidationError) as exc:
        parse_resident_id(generate_resident_id("991234", datetime.date(1990, 1, 1), 1))
    assert first_message(exc) == "身份证号前两位省份代码 99 无效"


def test_letter_in_body_is_rejected() -> None:
    with pytest.raises(ValidationError) as exc:
        parse_resident_id("1101051949123100XX")
    assert exc.value.code == "format"


def test_full_width_input_is_normalised() -> None:
    assert parse_resident_id("１１０１０５１９４９１２３１００２Ｘ").number == BEIJING_ID


def test_lower_case_x_is_upper_cased() -> None:
    assert parse_resident_id("11010519491231002x").number == BEIJING_ID


def test_spaces_and_ideographic_space_are_stripped() -> None:
    assert parse_resident_id(" 110105 19491231\u3000002X ").number == BEIJING_ID


def test_mask_resident_id_eighteen_chars() -> None:
    assert mask_resident_id("21010219900101123X") == "2101**********123X"


def test_mask_resident_id_short_value_keeps_ends() -> None:
    assert mask_resident_id("1234567890") == "1234**7890"


def test_mask_resident_id_eight_chars_is_all_stars() -> None:
    assert mask_resident_id("12345678") == "********"


# --- unified social credit code ------------------------------------------------


@pytest.mark.parametrize("code", PUBLISHED_CREDIT_CODES)
def test_published_credit_codes_are_valid(code: str) -> None:
    assert validate_credit_code(code) == code


def test_credit_code_is_normalised() -> None:
    assert validate_credit_code(" 9135 0100 m000-100y43 ") == "91350100M000100Y43"


def test_full_width_credit_code_is_normalised() -> None:
    assert validate_credit_code("９１３５０１００Ｍ０００１００Ｙ４３") == "91350100M000100Y43"


def test_make_credit_code_default_is_civil_affairs_social_service() -> None:
    code = make_credit_code("110105", 1)
    assert (code[:8], validate_credit_code(code)) == ("52110105", code)


@pytest.mark.parametrize(("registration", "kind"), [("Y", "1"), ("N", "2"), ("A", "1")])
def test_credit_code_with_letter_registration_is_accepted(registration: str, kind: str) -> None:
    code = make_credit_code("350100", 4242, registration=registration, kind=kind)
    assert validate_credit_code(code) == code


@pytest.mark.parametrize("registration", ["Y", "N", "A"])
def test_stdnum_rejects_letter_registration(registration: str) -> None:
    assert not stdnum_uscc.is_valid(make_credit_code("350100", 4242, registration=registration))


@pytest.mark.parametrize("seq", [0, 1, 17, 4242, 99_999_999])
def test_credit_check_char_matches_stdnum(seq: int) -> None:
    code = make_credit_code("110000", seq, registration="9", kind="1")
    assert code[-1] == stdnum_uscc.calc_check_digit(code[:17])


def test_generate_credit_code_appends_check_char() -> None:
    assert generate_credit_code("91350100M000100Y4") == "91350100M000100Y43"


def test_generate_credit_code_rejects_forbidden_char() -> None:
    with pytest.raises(ValueError, match="17 characters"):
        generate_credit_code("91350100I000100Y4")


def test_credit_code_forbidden_letter_message() -> None:
    with pytest.raises(ValidationError) as exc:
        validate_credit_code("91350100I000100Y43")
    assert first_message(exc) == "统一社会信用代码含有不允许的字符 I（不得使用 I、O、Z、S、V）"


def test_credit_code_symbol_is_rejected() -> None:
    with pytest.raises(ValidationError) as exc:
        validate_credit_code("91350100#000100Y43")
    assert first_message(exc) == "统一社会信用代码含有不允许的字符 #（只能使用数字和大写字母）"


def test_credit_code_wrong_check_char_message() -> None:
    with pytest.raises(ValidationError) as exc:
        validate_credit_code("91350100M000100Y44")
    assert first_message(exc) == "统一社会信用代码第18位校验码应为 3，实际为 4"


def test_credit_code_wrong_organisation_check_message() -> None:
    with pytest.raises(ValidationError) as exc:
        validate_credit_code(generate_credit_code("91350100M000100Y5"))
    assert first_message(exc) == "统一社会信用代码第17位（组织机构代码校验码）应为 4，实际为 5"


def test_credit_code_length_message() -> None:
    with pytest.raises(ValidationError) as exc:
        validate_credit_code("91350100M000100Y")
    assert first_message(exc) == "统一社会信用代码应为18位，当前为16位"


def test_credit_code_letter_in_region_is_rejected() -> None:
    with pytest.raises(ValidationError) as exc:
        validate_credit_code(generate_credit_code("913A0100M000100Y4"))
    assert first_message(exc) == "统一社会信用代码第3至8位行政区划码应为6位数字，实际为 3A0100"


# --- mobile numbers ----------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        "138 1234 5678",
        "+86 138-1234-5678",
        "0086 13812345678",
        "１３８１２３４５６７８",
        "86-13812345678",
        "＋８６\u3000１３８１２３４５６７８",
    ],
)
def test_normalize_mobile_forms(raw: str) -> None:
    assert normalize_mobile(raw) == "13812345678"


def test_twelve_digit_mobile_is_rejected() -> None:
    with pytest.raises(ValidationError) as exc:
        normalize_mobile("138123456789")
    assert first_message(exc) == "手机号码 138123456789 无效：应为11位中国大陆手机号"


def test_landline_is_rejected_as_not_mobile() -> None:
    with pytest.raises(ValidationError) as exc:
        validate_mobile("02412345678")
    assert (
        first_message(exc) == "手机号码 02412345678 无效：这是固定电话号码，应为11位中国大陆手机号"
    )


def test_foreign_number_is_rejected() -> None:
    with pytest.raises(ValidationError) as exc:
        normalize_mobile("+1 415 555 0100")
    assert exc.value.code == "country"


def test_mobile_with_unallocated_prefix_is_rejected() -> None:
    with pytest.raises(ValidationError) as exc:
        normalize_mobile("14012345678")
    assert first_message(exc) == "手机号码 14012345678 无效：号段 140 不是已分配的手机号段"


def test_mobile_starting_12_is_rejected() -> None:
    with pytest.raises(ValidationError) as exc:
        normalize_mobile("12012345678")
    assert exc.value.code == "format"


def test_the_mobile_test_answers_as_phonenumbers_number_type() -> None:
    """`_is_mobile` is number_type's logic over CN's metadata without its lookups: the same
    answer for every prefix of the mobile form, for numbers of other lengths and for numbers
    of other countries."""
    import random

    import phonenumbers

    from sanlian.core.validators import _MOBILE_TYPES, _is_mobile

    rng = random.Random(7)
    numbers = [
        f"{prefix}{rng.randrange(10**8):08d}" for prefix in range(100, 200) for _ in range(40)
    ]
    numbers += [f"1{rng.randrange(10**n):0{n}d}" for n in (5, 8, 9, 11, 12) for _ in range(200)]
    numbers += ["17400012345", "17406012345", "16100012345", "02412345678", "4001234567"]
    mobiles = 0
    for text in numbers:
        parsed = phonenumbers.PhoneNumber(country_code=86, national_number=int(text))
        expected = phonenumbers.number_type(parsed) in _MOBILE_TYPES
        assert _is_mobile(parsed) == expected, text
        mobiles += expected
    assert 1000 < mobiles < len(numbers) - 1000  # both answers were tested, many times
    for other in ("+1 415 555 0100", "+44 7911 123456", "+852 5123 4567"):
        parsed = phonenumbers.parse(other)
        assert _is_mobile(parsed) == (phonenumbers.number_type(parsed) in _MOBILE_TYPES)


def test_mask_mobile() -> None:
    assert mask_mobile("13812345678") == "138****5678"


# --- form fields -------------------------------------------------------------


def test_resident_id_field_returns_normalised_number() -> None:
    assert ResidentIdField().clean("１１０１０５１９４９１２３１００２ｘ") == BEIJING_ID


def test_resident_id_field_rejects_bad_number() -> None:
    with pytest.raises(ValidationError):
        ResidentIdField().clean(BEIJING_ID[:-1] + "5")


def test_credit_code_field_returns_normalised_code() -> None:
    assert CreditCodeField().clean(" 91350100m000100y43 ") == "91350100M000100Y43"


def test_mobile_field_returns_national_number() -> None:
    assert MobileField().clean("+86 138-1234-5678") == "13812345678"


def test_optional_field_accepts_empty() -> None:
    assert MobileField(required=False).clean("") == ""


# --- password complexity -----------------------------------------------------


@pytest.mark.parametrize("password", ["Abcdefg1", "abc123!@", "ABC-def-ghi", "Ab1!Ab1!"])
def test_password_with_three_classes_is_accepted(password: str) -> None:
    CharacterClassValidator().validate(password)


@pytest.mark.parametrize("password", ["abcdefg12", "ABCDEFGH", "12345678!", "abc def"])
def test_password_with_fewer_classes_is_rejected(password: str) -> None:
    with pytest.raises(ValidationError) as exc:
        CharacterClassValidator().validate(password)
    assert first_message(exc) == "密码须包含大写字母、小写字母、数字、特殊符号中的至少3类"


def test_password_validator_min_classes_four() -> None:
    with pytest.raises(ValidationError):
        CharacterClassValidator(min_classes=4).validate("Abcdefg1")


def test_password_help_text() -> None:
    assert (
        CharacterClassValidator().get_help_text()
        == "密码须包含大写字母、小写字母、数字、特殊符号中的至少3类"
    )
