from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lenddesk.core import money
from lenddesk.core.errors import Unprocessable


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("1,234.56", 123456),
        ("1234.56", 123456),
        ("¥1234.56", 123456),
        ("￥0.5", 50),
        ("12", 1200),
        ("-3.07", -307),
        (" 1,000,000.00 ", 100000000),
    ],
)
def test_parse_yuan_accepts_the_forms_people_type(text: str, fen: int) -> None:
    assert money.parse_yuan(text) == fen


@pytest.mark.parametrize("text", ["", "abc", "1.234", "1,23.00", "12,3456", "1e5", "--1"])
def test_parse_yuan_rejects_garbage(text: str) -> None:
    with pytest.raises(Unprocessable):
        money.parse_yuan(text)


@pytest.mark.parametrize("value", [12.5, 3, True, None])
def test_parse_yuan_refuses_non_strings(value: object) -> None:
    with pytest.raises(Unprocessable) as caught:
        money.parse_yuan(value)  # type: ignore[arg-type]
    assert caught.value.code == "amount_not_string"


@pytest.mark.parametrize(
    "text", ["100000000000.01", "-100000000000.01", "9" * 40, "¥99,999,999,999,999,999.99"]
)
def test_parse_yuan_refuses_amounts_past_any_loan(text: str) -> None:
    with pytest.raises(Unprocessable) as caught:
        money.parse_yuan(text)
    assert caught.value.code == "amount_too_large"
    assert "100,000,000,000.00" in caught.value.message_zh


def test_parse_yuan_takes_the_largest_amount() -> None:
    assert money.parse_yuan("100,000,000,000.00") == money.MAX_AMOUNT_FEN


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_format_then_parse_round_trips(fen: int) -> None:
    assert money.parse_yuan(money.format_fen(fen)) == fen
    assert money.parse_yuan(money.format_fen(fen, thousands=True, symbol=True)) == fen


def test_format_fen() -> None:
    assert money.format_fen(123456) == "1234.56"
    assert money.format_fen(123456, thousands=True, symbol=True) == "¥1,234.56"
    assert money.format_fen(-5) == "-0.05"


def test_the_rounding_rule_is_passed_not_set() -> None:
    assert money.round_fen(Decimal("2.5"), "half_up") == 3
    assert money.round_fen(Decimal("2.5"), "half_even") == 2
    assert money.round_fen(Decimal("3.5"), "half_even") == 4
    assert money.round_fen(Decimal("-2.5"), "half_up") == -3
    assert not hasattr(money, "set_rounding")  # no process-wide rule a caller could forget to set
