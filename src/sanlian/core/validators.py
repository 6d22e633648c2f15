"""Validators for Chinese identifiers: resident ID, social credit code, mobile, password."""

from __future__ import annotations

import datetime
import functools
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import phonenumbers
from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from stdnum.cn import ric as stdnum_ric
from stdnum.exceptions import ValidationError as StdnumValidationError

__all__ = [
    "CREDIT_CODE_ALPHABET",
    "CharacterClassValidator",
    "CreditCodeField",
    "MobileField",
    "ResidentId",
    "ResidentIdField",
    "generate_credit_code",
    "generate_resident_id",
    "make_credit_code",
    "mask_mobile",
    "mask_resident_id",
    "normalize_digits",
    "normalize_mobile",
    "parse_resident_id",
    "validate_credit_code",
    "validate_mobile",
    "validate_resident_id",
]

# ---------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------

# Full-width ASCII variants U+FF01..U+FF5E map onto U+0021..U+007E.
FULLWIDTH_TO_ASCII = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_HYPHENS = frozenset("-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63")


def normalize_digits(value: str) -> str:
    """Fold full-width digits, letters and signs to ASCII; drop whitespace and hyphens.

    Letter case is preserved; callers upper-case where the identifier requires it.
    """
    # str.translate with a dict maps each character in Python: only for the odd cell that
    # holds something to fold (an import normalises every row's numbers).
    folded = value if value.isascii() else value.translate(FULLWIDTH_TO_ASCII)
    if folded.isalnum() and folded.isascii():
        return folded  # nothing to drop (the common case: an import normalises every row)
    return "".join(ch for ch in folded if not ch.isspace() and ch not in _HYPHENS)


# ---------------------------------------------------------------------------
# Resident identity number (GB 11643-1999)
# ---------------------------------------------------------------------------

RESIDENT_ID_LENGTH = 18
EARLIEST_BIRTH_YEAR = 1850
_RIC_WEIGHTS = tuple(2 ** (17 - i) % 11 for i in range(17))
_PROVINCE_CODES = frozenset(
    [str(n) for n in range(11, 16)]
    + [str(n) for n in range(21, 24)]
    + [str(n) for n in range(31, 38)]
    + [str(n) for n in range(41, 47)]
    + [str(n) for n in range(50, 55)]
    + [str(n) for n in range(61, 66)]
    + ["71", "81", "82", "83", "91"]
)


@dataclass(frozen=True)
class ResidentId:
    """A parsed, valid 18-character resident identity number."""

    number: str
    region_code: str
    birth_date: datetime.date
    sex: str
    region_known: bool
    warnings: tuple[str, ...]


def _resident_id_check_char(body17: str) -> str:
    """ISO 7064 MOD 11-2 check character for the 17-digit body."""
    if len(body17) != len(_RIC_WEIGHTS):
        raise ValueError("the body of a resident ID number has 17 digits")
    total = sum(map(operator.mul, map(int, body17), _RIC_WEIGHTS))
    check = (12 - total % 11) % 11
    return "X" if check == 10 else str(check)


def _region_in_table(number: str) -> bool:
    """Whether stdnum's administrative-division table knows the region at the birth year."""
    return _region_known(number[:6], number[6:10])


@functools.lru_cache(maxsize=16384)
def _region_known(region: str, year: str) -> bool:
    # stdnum's answer depends on the region and the birth year only; an Excel import asks it
    # for every row, and the table lookup costs more than the rest of the validation.
    try:
        stdnum_ric.get_birth_place(f"{region}{year}01010000")
    except StdnumValidationError:
        return False
    return True


@functools.lru_cache(maxsize=1024)
def _unknown_region_warnings(region_code: str, language: str | None) -> tuple[str, ...]:
    # Formatting a lazy message costs more than the rest of the parse; an import of a
    # district the table does not know would format the same one for every row.
    return (str(_("地区代码 %(code)s 不在已知行政区划表中") % {"code": region_code}),)


def parse_resident_id(value: str, *, today: datetime.date | None = None) -> ResidentId:
    """Normalise and validate a resident identity number, raising ValidationError."""
    number, birth_date = _checked_resident_id(value, today)
    region_code = number[:6]
    region_known = _region_in_table(number)
    warnings = () if region_known else _unknown_region_warnings(region_code, get_language())
    return ResidentId(
        number=number,
        region_code=region_code,
        birth_date=birth_date,
        sex="M" if int(number[16]) % 2 == 1 else "F",
        region_known=region_known,
        warnings=warnings,
    )


def _checked_resident_id(value: str, today: datetime.date | None) -> tuple[str, datetime.date]:
    """The normalised number and its birth date, or the ValidationError: every rule of
    parse_resident_id (the rest of a ResidentId only describes a valid number)."""
    number = normalize_digits(value).upper()
    if len(number) != RESIDENT_ID_LENGTH:
        raise ValidationError(
            _("身份证号应为18位，当前为%(length)d位"),
            code="length",
            params={"length": len(number)},
        )
    body, actual_check = number[:17], number[17]
    if not body.isascii() or not body.isdigit():
        raise ValidationError(
            _("身份证号前17位应为数字，%(value)s 含有非数字字符"),
            code="format",
            params={"value": number},
        )
    if actual_check not in "0123456789X":
        raise ValidationError(
            _("身份证号第18位应为数字或 X，实际为 %(char)s"),
            code="format",
            params={"char": actual_check},
        )
    province = number[:2]
    if province not in _PROVINCE_CODES:
        raise ValidationError(
            _("身份证号前两位省份代码 %(code)s 无效"),
            code="province",
            params={"code": province},
        )
    date_text = number[6:14]
    try:
        birth_date = datetime.date(int(date_text[:4]), int(date_text[4:6]), int(date_text[6:]))
    except ValueError:
        raise ValidationError(
            _("身份证号出生日期 %(date)s 无效"), code="birth_date", params={"date": date_text}
        ) from None
    if birth_date > (today or datetime.date.today()):
        raise ValidationError(
            _("身份证号出生日期 %(date)s 晚于今天"), code="birth_date", params={"date": date_text}
        )
    if birth_date.year < EARLIEST_BIRTH_YEAR:
        raise ValidationError(
            _("身份证号出生日期 %(date)s 早于%(year)d年"),
            code="birth_date",
            params={"date": date_text, "year": EARLIEST_BIRTH_YEAR},
        )
    expected_check = _resident_id_check_char(body)
    if actual_check != expected_check:
        raise ValidationError(
            _("身份证号校验位应为 %(expected)s，实际为 %(actual)s"),
            code="checksum",
            params={"expected": expected_check, "actual": actual_check},
        )
    return number, birth_date


def validate_resident_id(value: str) -> None:
    """Django field validator for resident identity numbers."""
    _checked_resident_id(value, None)


def mask_resident_id(number: str) -> str:
    """Keep the first and last four characters, star the rest (all stars if 8 or fewer)."""
    if len(number) > 8:
        return number[:4] + "*" * (len(number) - 8) + number[-4:]
    return "*" * len(number)


def generate_resident_id(region_code: str, birth_date: datetime.date, sequence: int) -> str:
    """Build a resident identity number with a correct check character (demo data)."""
    if len(region_code) != 6 or not region_code.isascii() or not region_code.isdigit():
        raise ValueError(f"region_code must be 6 ASCII digits, got {region_code!r}")
    if not 0 <= sequence <= 999:
        raise ValueError(f"sequence must be in 0..999, got {sequence}")
    body = f"{region_code}{birth_date:%Y%m%d}{sequence:03d}"
    if len(body) != 17:
        raise ValueError(f"birth_date year must have four digits, got {birth_date.year}")
    return body + _resident_id_check_char(body)


# ---------------------------------------------------------------------------
# Unified social credit code (GB 32100-2015) with organisation code (GB 11714-1997)
# ---------------------------------------------------------------------------

CREDIT_CODE_LENGTH = 18
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_CODE_FORBIDDEN = frozenset("IOZSV")
_CREDIT_CODE_WEIGHTS = tuple(3**i % 31 for i in range(17))
_ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def _org_code_value(char: str) -> int:
    """GB 11714 character value: digits as themselves, A=10 … Z=35."""
    return int(char) if char.isdigit() else ord(char) - ord("A") + 10


def _org_code_check_char(body8: str) -> str:
    """GB 11714 check character for an 8-character organisation-code body."""
    total = sum(_org_code_value(c) * w for c, w in zip(body8, _ORG_CODE_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def _credit_code_check_char(body17: str) -> str:
    """GB 32100 check character for the first 17 characters."""
    total = sum(
        CREDIT_CODE_ALPHABET.index(c) * w for c, w in zip(body17, _CREDIT_CODE_WEIGHTS, strict=True)
    )
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def validate_credit_code(value: str) -> str:
    """Normalise and validate a unified social credit code; return it or raise."""
    code = normalize_digits(value).upper()
    if len(code) != CREDIT_CODE_LENGTH:
        raise ValidationError(
            _("统一社会信用代码应为18位，当前为%(length)d位"),
            code="length",
            params={"length": len(code)},
        )
    for char in code:
        if char in _CREDIT_CODE_FORBIDDEN:
            raise ValidationError(
                _("统一社会信用代码含有不允许的字符 %(char)s（不得使用 I、O、Z、S、V）"),
                code="charset",
                params={"char": char},
            )
        if char not in CREDIT_CODE_ALPHABET:
            raise ValidationError(
                _("统一社会信用代码含有不允许的字符 %(char)s（只能使用数字和大写字母）"),
                code="charset",
                params={"char": char},
            )
    region = code[2:8]
    if not region.isdigit():
        raise ValidationError(
            _("统一社会信用代码第3至8位行政区划码应为6位数字，实际为 %(region)s"),
            code="region",
            params={"region": region},
        )
    expected_org_check = _org_code_check_char(code[8:16])
    if code[16] != expected_org_check:
        raise ValidationError(
            _("统一社会信用代码第17位（组织机构代码校验码）应为 %(expected)s，实际为 %(actual)s"),
            code="org_checksum",
            params={"expected": expected_org_check, "actual": code[16]},
        )
    expected_check = _credit_code_check_char(code[:17])
    if code[17] != expected_check:
        raise ValidationError(
            _("统一社会信用代码第18位校验码应为 %(expected)s，实际为 %(actual)s"),
            code="checksum",
            params={"expected": expected_check, "actual": code[17]},
        )
    return code


def generate_credit_code(prefix17_without_check: str) -> str:
    """Append the GB 32100 check character to 17 characters (position 17 is not re-checked)."""
    prefix = prefix17_without_check.upper()
    if len(prefix) != 17 or any(c not in CREDIT_CODE_ALPHABET for c in prefix):
        raise ValueError(f"need 17 characters from {CREDIT_CODE_ALPHABET}, got {prefix!r}")
    return prefix + _credit_code_check_char(prefix)


def make_credit_code(region: str, seq: int, registration: str = "5", kind: str = "2") -> str:
    """Build a fully valid code for demo data; "52" is a 民政-registered 社会服务机构."""
    if len(region) != 6 or not region.isascii() or not region.isdigit():
        raise ValueError(f"region must be 6 ASCII digits, got {region!r}")
    if not 0 <= seq <= 99_999_999:
        raise ValueError(f"seq must be in 0..99999999, got {seq}")
    for name, char in (("registration", registration), ("kind", kind)):
        if len(char) != 1 or char not in CREDIT_CODE_ALPHABET:
            raise ValueError(f"{name} must be one character from {CREDIT_CODE_ALPHABET}")
    org_body = f"{seq:08d}"
    return generate_credit_code(
        f"{registration}{kind}{region}{org_body}{_org_code_check_char(org_body)}"
    )


# ---------------------------------------------------------------------------
# Mainland mobile numbers
# ---------------------------------------------------------------------------

_MOBILE_RE = re.compile(r"1[3-9]\d{9}")
_MOBILE_TYPES = frozenset(
    [phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE]
)


_MOBILE_MESSAGES = {
    "format": _("手机号码 %(value)s 无效：应为11位中国大陆手机号"),
    "country": _("手机号码 %(value)s 无效：仅支持中国大陆手机号（+86）"),
    "landline": _("手机号码 %(value)s 无效：这是固定电话号码，应为11位中国大陆手机号"),
    "prefix": _("手机号码 %(value)s 无效：号段 %(prefix)s 不是已分配的手机号段"),
}


def _invalid_mobile(code: str, shown: str, number: str) -> ValidationError:
    return ValidationError(
        _MOBILE_MESSAGES[code], code=code, params={"value": shown, "prefix": number[:3]}
    )


def normalize_mobile(value: str) -> str:
    """Return the 11-digit national form of a mainland mobile number, or raise."""
    shown = value.strip()
    number = normalize_digits(value).replace("(", "").replace(")", "")
    if number.startswith("+86"):
        number = number[3:]
    elif number.startswith("0086"):
        number = number[4:]
    elif number.startswith("86") and len(number) == 13:
        number = number[2:]
    elif number.startswith(("+", "00")):
        raise _invalid_mobile("country", shown, number)
    if not _MOBILE_RE.fullmatch(number):
        code = "landline" if _is_cn_landline(number) else "format"
        raise _invalid_mobile(code, shown, number)
    parsed = _parse_cn(number)
    if not _is_mobile(parsed):
        raise _invalid_mobile("prefix", shown, number)
    return number


def _is_mobile(parsed: phonenumbers.PhoneNumber) -> bool:
    """`phonenumbers.number_type(parsed) in _MOBILE_TYPES` (which is also a valid number:
    number_type answers UNKNOWN for an invalid one). For a mainland number the same test as
    number_type, over the same metadata, without its per-call lookups: a tenth of the time,
    which an import pays for every row (tests/core/test_validators.py compares the two)."""
    if parsed.country_code != 86 or parsed.italian_leading_zero:
        return phonenumbers.number_type(parsed) in _MOBILE_TYPES
    return _cn_mobile_test()(str(parsed.national_number))


@functools.cache
def _cn_mobile_test() -> Callable[[str], bool]:
    """phonenumbers' `_number_type_helper` for CN, answering only "mobile or not"."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("CN")
    assert metadata is not None

    def matcher(desc: phonenumbers.PhoneNumberDesc | None) -> Callable[[str], bool]:
        if desc is None or not desc.national_number_pattern:
            return lambda number: False
        pattern = re.compile(desc.national_number_pattern)
        lengths = frozenset(desc.possible_length or ())
        return lambda number: (
            (not lengths or len(number) in lengths) and bool(pattern.fullmatch(number))
        )

    general = matcher(metadata.general_desc)
    other_types = [
        matcher(getattr(metadata, name))
        for name in (
            "premium_rate",
            "toll_free",
            "shared_cost",
            "voip",
            "personal_number",
            "pager",
            "uan",
            "voicemail",
        )
    ]
    fixed_line, mobile = matcher(metadata.fixed_line), matcher(metadata.mobile)
    same = bool(metadata.same_mobile_and_fixed_line_pattern)

    def test(number: str) -> bool:
        if not general(number) or any(other(number) for other in other_types):
            return False
        if fixed_line(number):
            return same or mobile(number)  # FIXED_LINE_OR_MOBILE, or FIXED_LINE
        return not same and mobile(number)

    return test


@functools.cache
def _cn_prefixes() -> tuple[re.Pattern[str], re.Pattern[str], int]:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("CN")
    assert metadata is not None
    return (
        re.compile(metadata.international_prefix or "NonMatch"),
        re.compile(metadata.national_prefix_for_parsing or "NonMatch"),
        metadata.country_code or 86,
    )


def _parse_cn(number: str) -> phonenumbers.PhoneNumber:
    """phonenumbers.parse(number, "CN") for a number of the mobile form (11 digits). parse
    changes such a number only where it starts with what CN's metadata says is an
    international dialling prefix, a national (carrier) prefix or the country code 86;
    otherwise the national number is the number itself, and building it directly costs a
    tenth of parse, which an import calls for every row."""
    idd, national_prefix, country_code = _cn_prefixes()
    if (
        number.isascii()
        and number.isdigit()
        and not number.startswith(str(country_code))
        and idd.match(number) is None
        and national_prefix.match(number) is None
    ):
        return phonenumbers.PhoneNumber(country_code=country_code, national_number=int(number))
    return phonenumbers.parse(number, "CN")


def _is_cn_landline(number: str) -> bool:
    if not number.isascii() or not number.isdigit():
        return False
    try:
        parsed = phonenumbers.parse(number, "CN")
    except phonenumbers.NumberParseException:
        return False
    return (
        phonenumbers.is_valid_number(parsed)
        and phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.FIXED_LINE
    )


def validate_mobile(value: str) -> None:
    """Django field validator for mainland mobile numbers."""
    normalize_mobile(value)


def mask_mobile(number: str) -> str:
    """Mask the middle four digits of an 11-digit mobile: 138****5678."""
    if len(number) == 11:
        return number[:3] + "****" + number[7:]
    return "*" * len(number)


# ---------------------------------------------------------------------------
# Form fields
# ---------------------------------------------------------------------------


class ResidentIdField(forms.CharField):
    """Form field cleaning to the normalised 18-character resident identity number."""

    def to_python(self, value: Any) -> str:
        text = super().to_python(value)
        if not text:
            return ""
        return _checked_resident_id(text, None)[0]  # parse_resident_id(text).number


class CreditCodeField(forms.CharField):
    """Form field cleaning to the normalised unified social credit code."""

    def to_python(self, value: Any) -> str:
        text = super().to_python(value)
        if not text:
            return ""
        return validate_credit_code(text)


class MobileField(forms.CharField):
    """Form field cleaning to the 11-digit mainland mobile number."""

    def to_python(self, value: Any) -> str:
        text = super().to_python(value)
        if not text:
            return ""
        return normalize_mobile(text)


# ---------------------------------------------------------------------------
# Password complexity (AUTH_PASSWORD_VALIDATORS)
# ---------------------------------------------------------------------------


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's length rule with a Chinese message of our own (Django 5.2 reworded its
    message and the zh_Hans catalogue has not caught up, so users saw English)."""

    def get_error_message(self) -> str:
        return str(_("密码长度太短。密码必须包含至少 %(min_length)d 个字符。"))

    def get_help_text(self) -> str:
        return str(_("密码必须包含至少 %(min_length)d 个字符。") % {"min_length": self.min_length})


class CharacterClassValidator:
    """Require characters from at least ``min_classes`` of: upper, lower, digit, symbol."""

    def __init__(self, min_classes: int = 3) -> None:
        if not 1 <= min_classes <= 4:
            raise ValueError(f"min_classes must be in 1..4, got {min_classes}")
        self.min_classes = min_classes

    @staticmethod
    def count_classes(password: str) -> int:
        return sum(
            [
                any(c.isupper() for c in password),
                any(c.islower() for c in password),
                any(c.isdigit() for c in password),
                any(not c.isalnum() for c in password),
            ]
        )

    def validate(self, password: str, user: Any = None) -> None:
        if self.count_classes(password) < self.min_classes:
            raise ValidationError(
                _("密码须包含大写字母、小写字母、数字、特殊符号中的至少%(min_classes)d类"),
                code="password_too_simple",
                params={"min_classes": self.min_classes},
            )

    def get_help_text(self) -> str:
        return str(
            _("密码须包含大写字母、小写字母、数字、特殊符号中的至少%(min_classes)d类")
            % {"min_classes": self.min_classes}
        )
