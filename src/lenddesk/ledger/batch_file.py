"""Bulk repayment files (代扣回盘, bank statement lines): reading the CSV and checking each line.

Pure: no database, no clock. A file is CSV with a header naming the columns `reference`,
`contract_number`, `amount` (yuan, e.g. "1234.56") and `value_date` (YYYY-MM-DD); the Chinese
headers 流水号, 合同号, 金额, 入账日期 are accepted too. A line that cannot be read is not an error
of the file: it is refused on its own, with its reason, and the other lines go on.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from lenddesk.core.money import MAX_AMOUNT_FEN, format_fen

COLUMNS = ("reference", "contract_number", "amount", "value_date")
HEADER_ALIASES = {
    "reference": "reference",
    "流水号": "reference",
    "contract_number": "contract_number",
    "contract": "contract_number",
    "合同号": "contract_number",
    "amount": "amount",
    "金额": "amount",
    "value_date": "value_date",
    "入账日期": "value_date",
}
MAX_REFERENCE = 64
MAX_CONTRACT = 32
STORED = 80
_AMOUNT = re.compile(r"^[0-9]{1,15}(\.[0-9]{1,2})?$", re.ASCII)  # ASCII digits only (no full-width)
_CONTRACT = re.compile(r"^[A-Z0-9_-]{1,32}$", re.ASCII)
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", re.ASCII)


@dataclass(frozen=True)
class FileLine:
    """A line as read (texts kept for the result file; storable: no lone surrogates, bounded)."""

    line_no: int
    reference: str
    contract_number: str
    amount: str
    value_date: str


@dataclass(frozen=True)
class Refusal:
    code: str
    message_zh: str
    message_en: str


@dataclass(frozen=True)
class CheckedLine:
    line_no: int
    reference: str
    contract_number: str
    amount_fen: int
    value_date: date


class BadFile(ValueError):
    """The file as a whole cannot be read (no header with the required columns)."""

    def __init__(self, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_zh, self.message_en = message_zh, message_en


def decode(content: bytes) -> str:
    """UTF-8 (with or without BOM); bytes that are not UTF-8 become lone surrogates, refused per line."""
    return content.decode("utf-8-sig", errors="surrogateescape")


def read_lines(text: str) -> list[FileLine]:
    rows = csv.reader(io.StringIO(text, newline=""))
    header = next(rows, None)
    names = [HEADER_ALIASES.get(cell.strip().lstrip("\ufeff").lower(), "") for cell in header or []]
    missing = [column for column in COLUMNS if column not in names]
    if missing:
        raise BadFile(
            f"文件缺少表头列：{', '.join(missing)}（须有 reference, contract_number, amount, value_date）",
            f"The file's header lacks: {', '.join(missing)} (needs reference, contract_number, amount,"
            " value_date)",
        )
    index = {column: names.index(column) for column in COLUMNS}
    lines = []
    for line_no, row in enumerate(rows, start=1):
        if not any(cell.strip() for cell in row):
            continue

        def cell(column: str, row: list[str] = row) -> str:
            position = index[column]
            return _storable(row[position]) if position < len(row) else ""

        lines.append(
            FileLine(line_no, cell("reference"), cell("contract_number"), cell("amount"), cell("value_date"))
        )
    return lines


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _storable(text: str) -> str:
    """Lone surrogates (undecodable bytes) as U+FFFD, at most STORED characters: what the line table
    keeps (longer than any valid value, so a cut text is still refused as too long)."""
    return _LONE_SURROGATE.sub("\ufffd", text.strip())[:STORED]


def check_line(line: FileLine) -> CheckedLine | Refusal:
    """The line's values, or why it is refused (reasons in Chinese and English)."""
    reference = line.reference
    if not reference:
        return Refusal("reference_required", "缺少渠道流水号", "The reference is missing")
    if "\ufffd" in reference or not reference.isprintable() or len(reference) > MAX_REFERENCE:
        return Refusal("reference_invalid", "渠道流水号无效（含无效字符或过长）", "The reference is invalid")
    contract = line.contract_number.upper()
    if not _CONTRACT.match(contract):
        return Refusal("contract_invalid", "合同号无效", "The contract number is invalid")
    amount = _amount_fen(line.amount)
    if isinstance(amount, Refusal):
        return amount
    if not _DATE.match(line.value_date):
        return Refusal(
            "date_invalid", "入账日期无效（格式 YYYY-MM-DD）", "The value date is invalid (YYYY-MM-DD)"
        )
    try:
        value_date = date.fromisoformat(line.value_date)
    except ValueError:
        return Refusal(
            "date_invalid", "入账日期无效（格式 YYYY-MM-DD）", "The value date is invalid (YYYY-MM-DD)"
        )
    return CheckedLine(line.line_no, reference, contract, amount, value_date)


def _amount_fen(text: str) -> int | Refusal:
    cleaned = text.replace(",", "")
    if not _AMOUNT.match(cleaned):
        if re.fullmatch(r"[0-9]{16,}(\.[0-9]*)?", cleaned, re.ASCII):
            return _too_large()
        return Refusal(
            "amount_invalid",
            f"金额无效：须为半角数字的元，最多两位小数（{text[:20]}）",
            f"Invalid amount: yuan in ASCII digits with at most two decimals ({text[:20]})",
        )
    fen = int(Decimal(cleaned) * 100)
    if fen <= 0:
        return Refusal("amount_not_positive", "金额必须大于 0", "The amount must be greater than 0")
    if fen > MAX_AMOUNT_FEN:
        return _too_large()
    return fen


def _too_large() -> Refusal:
    limit = format_fen(MAX_AMOUNT_FEN, thousands=True)
    return Refusal(
        "amount_too_large",
        f"金额过大：单笔金额不能超过 {limit} 元",
        f"The amount is too large: no single amount may exceed {limit} yuan",
    )
