import pytest
from hypothesis import given
from hypothesis import strategies as st

from lenddesk.core import pii
from lenddesk.core.errors import Unprocessable

VALID_ID = "11010519491231002X"  # GB 11643 standard's own example


def test_id_number_checksum() -> None:
    assert pii.is_valid_id_number(VALID_ID)
    assert pii.is_valid_id_number(VALID_ID.lower())
    assert not pii.is_valid_id_number("110105194912310021")  # wrong check digit
    assert not pii.is_valid_id_number("110105194913310029")  # month 13
    assert not pii.is_valid_id_number("11010519491231002")  # too short


def test_wrong_id_number_is_a_clear_422() -> None:
    with pytest.raises(Unprocessable) as caught:
        pii.validate_id_number("110105194912310021")
    assert caught.value.code == "invalid_id_number"
    assert "身份证" in caught.value.message_zh


@given(st.text(alphabet="0123456789", min_size=17, max_size=17).filter(lambda s: s[0] != "0"))
def test_generated_check_char_validates_when_birthdate_is_real(first17: str) -> None:
    candidate = first17[:6] + "19900101" + first17[14:]
    assert pii.is_valid_id_number(candidate + pii.id_check_char(candidate))


def test_mobile() -> None:
    assert pii.validate_mobile("+86 138-1234-5678") == "13812345678"
    for bad in ("12812345678", "1381234567", "abc"):
        with pytest.raises(Unprocessable):
            pii.validate_mobile(bad)


def test_bank_card_luhn() -> None:
    assert pii.is_valid_bank_card("4111 1111 1111 1111")
    assert not pii.is_valid_bank_card("4111111111111112")
    with pytest.raises(Unprocessable):
        pii.validate_bank_card("1234")


def test_masks() -> None:
    assert pii.mask_id_number("110105199001011234") == "110***********1234"
    assert pii.mask_mobile("13812345678") == "138****5678"
    assert pii.mask_bank_card("6222021234567890123") == "622202*********0123"
    assert pii.mask_name("欧阳娜娜") == "欧***"
    assert pii.mask_email("zhangsan@example.com") == "z***@example.com"
