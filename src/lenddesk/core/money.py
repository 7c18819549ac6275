"""Money is an integer number of fen (分). The API speaks yuan strings; this is the one converter.

One rounding rule for the whole system: the policy's `[money] rounding` (half-up by default). It is
passed explicitly to whatever rounds money — the app, the CLI, the seeder and the jobs read it from
the policy — so no process can round by a rule it forgot to set.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, PlainSerializer

from lenddesk.core.errors import Unprocessable

Rounding = Literal["half_up", "half_even"]
ROUNDING_MODES = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN}

_YUAN_PATTERN = re.compile(r"^(-)?(\d{1,3}(,\d{3})+|\d+)(\.\d{1,2})?$")
# No single amount a person types is larger: 100 billion yuan. Sums of such amounts stay far inside
# a 64-bit column, so a typo or an attack of forty nines is refused here, not by the database.
MAX_AMOUNT_FEN = 100_000_000_000_00


def round_fen(amount: Decimal, rounding: Rounding) -> int:
    """Round an exact amount in fen (possibly fractional) to whole fen with the policy's rule."""
    return int(amount.quantize(Decimal(1), rounding=ROUNDING_MODES[rounding]))


def parse_yuan(text: str) -> int:
    """Parse "1,234.56", "1234.56", "¥1234.56" or "1234" into fen. Floats are refused."""
    if isinstance(text, bool) or not isinstance(text, str):
        raise Unprocessable(
            '金额必须是字符串形式的元，例如 "1234.56"，不接受浮点数',
            'Amounts must be yuan strings such as "1234.56"; floats are not accepted',
            code="amount_not_string",
        )
    cleaned = text.strip().replace("¥", "").replace("￥", "").replace(" ", "")
    match = _YUAN_PATTERN.match(cleaned)
    if not match:
        raise Unprocessable(
            f"无法识别的金额：{text!r}",
            f"Not a valid yuan amount: {text!r}",
            code="amount_invalid",
        )
    try:
        value = Decimal(cleaned.replace(",", ""))
    except InvalidOperation as exc:  # pragma: no cover - the pattern already guards this
        raise Unprocessable("无法识别的金额", "Not a valid yuan amount", code="amount_invalid") from exc
    fen = int(value * 100)
    if abs(fen) > MAX_AMOUNT_FEN:
        limit = format_fen(MAX_AMOUNT_FEN, thousands=True)
        raise Unprocessable(
            f"金额过大：单笔金额不能超过 {limit} 元",
            f"The amount is too large: no single amount may exceed {limit} yuan",
            code="amount_too_large",
        )
    return fen


def format_fen(fen: int, *, thousands: bool = False, symbol: bool = False) -> str:
    """Format fen as a yuan string: 123456 -> "1234.56" (or "¥1,234.56")."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    whole = f"{yuan:,}" if thousands else str(yuan)
    return f"{sign}{'¥' if symbol else ''}{whole}.{cents:02d}"


def _to_fen(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        # Internal callers build models from fen; the API boundary sends strings.
        return value
    return parse_yuan(value)


def _reject_float_then_parse(value: Any) -> int:
    return parse_yuan(value)


# A request field: a yuan string in, fen inside. Floats and bare numbers get a clear 422.
YuanIn = Annotated[int, BeforeValidator(_reject_float_then_parse)]
# A response field: fen inside, a yuan string out.
YuanOut = Annotated[int, BeforeValidator(_to_fen), PlainSerializer(format_fen, return_type=str)]
