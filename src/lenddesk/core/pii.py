"""Personal identifiers: validation (GB 11643 ID numbers, mobiles, Luhn bank cards) and masking."""

from __future__ import annotations

import re
from datetime import date

from lenddesk.core.errors import Unprocessable

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
_ID_PATTERN = re.compile(r"^[1-9]\d{16}[\dX]$")
_MOBILE_PATTERN = re.compile(r"^1[3-9]\d{9}$")


def id_check_char(first17: str) -> str:
    """The GB 11643-1999 check character for the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def is_valid_id_number(value: str) -> bool:
    value = value.strip().upper()
    if not _ID_PATTERN.match(value):
        return False
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return id_check_char(value[:17]) == value[17]


def validate_id_number(value: str) -> str:
    """Return the normalised (upper-case X) ID number or raise a clear 422."""
    normalised = value.strip().upper()
    if not is_valid_id_number(normalised):
        raise Unprocessable(
            "身份证号码无效（长度、出生日期或校验位不正确）",
            "Invalid mainland ID card number (length, birth date or GB 11643 check digit)",
            code="invalid_id_number",
        )
    return normalised


def normalise_mobile(value: str) -> str:
    digits = re.sub(r"[\s-]", "", value.strip())
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif len(digits) == 13 and digits.startswith("861"):  # gateways report 86 without the plus
        digits = digits[2:]
    return digits


def is_valid_mobile(value: str) -> bool:
    return bool(_MOBILE_PATTERN.match(normalise_mobile(value)))


def validate_mobile(value: str) -> str:
    normalised = normalise_mobile(value)
    if not _MOBILE_PATTERN.match(normalised):
        raise Unprocessable(
            "手机号码无效，应为 11 位中国大陆手机号",
            "Invalid mobile number: expected an 11-digit mainland China mobile number",
            code="invalid_mobile",
        )
    return normalised


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        number = int(char)
        if index % 2 == 1:
            number *= 2
            if number > 9:
                number -= 9
        total += number
    return total % 10 == 0


def is_valid_bank_card(value: str) -> bool:
    digits = re.sub(r"\s", "", value)
    return digits.isdigit() and 12 <= len(digits) <= 19 and luhn_ok(digits)


def validate_bank_card(value: str) -> str:
    digits = re.sub(r"\s", "", value)
    if not is_valid_bank_card(digits):
        raise Unprocessable(
            "银行卡号无效（长度或校验位不正确）",
            "Invalid bank card number (length or Luhn check digit)",
            code="invalid_bank_card",
        )
    return digits


def mask_id_number(value: str) -> str:
    """110105199001011234 -> 110***********1234."""
    if len(value) < 8:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_mobile(value: str) -> str:
    """13812345678 -> 138****5678."""
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_bank_card(value: str) -> str:
    """6222021234567890123 -> 622202*********0123."""
    if len(value) < 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_name(value: str) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧***."""
    if not value:
        return value
    return value[0] + "*" * (len(value) - 1)


def mask_email(value: str) -> str:
    """zhangsan@example.com -> z***@example.com."""
    local, _, domain = value.partition("@")
    if not domain:
        return mask_name(value)
    return f"{local[:1]}***@{domain}"


def mask_address(value: str) -> str:
    """Keep the first six characters (province/city) and hide the rest."""
    return value[:6] + "****" if len(value) > 6 else value


def mask_employer(value: str) -> str:
    """北京某某科技有限公司 -> 北京****: the first two characters (usually the city) only."""
    return value[:2] + "****" if len(value) > 2 else "*" * len(value)
