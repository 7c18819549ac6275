"""Report tables as CSV (UTF-8 with BOM, so Excel reads Chinese) and XLSX (openpyxl).

A table knows each column's kind, so numbers stay numbers: counts as integers, rates as fractions
formatted 0.0 %, money in yuan formatted ¥. A text cell that starts with = + - − @ or a tab or CR
would run as a formula in a spreadsheet (formula injection): CSV quotes it with a leading
apostrophe, XLSX stores it as a plain string, never a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

Kind = Literal["text", "int", "percent", "yuan"]
FORMULA_STARTS = ("=", "+", "-", "−", "@", "\t", "\r", "＝", "＋", "－", "＠")
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
NUMBER_FORMATS = {"int": "#,##0", "percent": "0.0%", "yuan": '"¥"#,##0.00'}


@dataclass
class Table:
    """One sheet: a title, columns (header, kind) and rows of plain values (fen for yuan columns)."""

    title: str
    columns: Sequence[tuple[str, Kind]]
    rows: list[Sequence[object]] = field(default_factory=list)


@dataclass
class StreamedTable:
    """A table whose rows arrive from an iterator (a loan-level export): written as they come."""

    title: str
    columns: Sequence[tuple[str, Kind]]
    rows: Iterable[Sequence[object]]


FLUSH_CHARS = 64 * 1024  # one HTTP chunk per ~64 KiB of CSV, not one per row


def is_formula_like(value: str) -> bool:
    return value.startswith(FORMULA_STARTS)


def _csv_cell(value: object, kind: Kind) -> object:
    if value is None:
        return ""
    if kind == "percent":
        return f"{float(value) * 100:.1f}%"  # type: ignore[arg-type]
    if kind == "yuan":
        return f"{Decimal(int(value)) / 100:.2f}"  # type: ignore[call-overload]
    if kind == "int":
        return int(value)  # type: ignore[call-overload]
    text = str(value)
    return f"'{text}" if is_formula_like(text) else text


def csv_lines(tables: Iterable[Table | StreamedTable]) -> Iterator[str]:
    """The tables one after another (a blank line between), BOM first; streams in chunks of about
    64 KiB, so a million rows never sit in memory."""
    yield "\ufeff"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for index, table in enumerate(tables):
        if index:
            writer.writerow([])
        if table.title:
            writer.writerow([_csv_cell(table.title, "text")])
        writer.writerow([_csv_cell(header, "text") for header, _ in table.columns])
        for row in table.rows:
            writer.writerow(
                [_csv_cell(value, kind) for value, (_, kind) in zip(row, table.columns, strict=True)]
            )
            if buffer.tell() >= FLUSH_CHARS:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def _xlsx_cell(sheet: WriteOnlyWorksheet, value: object, kind: Kind) -> WriteOnlyCell:
    if value is None:
        return WriteOnlyCell(sheet, value=None)
    if kind == "text":
        cell = WriteOnlyCell(sheet, value=str(value))
        cell.data_type = "s"  # never a formula, whatever the text starts with
        return cell
    number: object = Decimal(int(value)) / 100 if kind == "yuan" else value  # type: ignore[call-overload]
    cell = WriteOnlyCell(sheet, value=number)
    cell.number_format = NUMBER_FORMATS[kind]
    return cell


def _sheet_title(title: str, taken: set[str]) -> str:
    base = "".join(c for c in title if c not in "[]:*?/\\")[:28] or "表"
    name, counter = base, 2
    while name in taken:
        name, counter = f"{base[:25]}~{counter}", counter + 1
    taken.add(name)
    return name


def xlsx_bytes(tables: Iterable[Table], definitions: Sequence[tuple[str, str]]) -> bytes:
    """One sheet per table, then a 说明 sheet: each term and its definition."""
    workbook = Workbook(write_only=True)
    taken: set[str] = set()
    for table in tables:
        sheet = workbook.create_sheet(_sheet_title(table.title, taken))
        sheet.append([_xlsx_cell(sheet, header, "text") for header, _ in table.columns])
        for row in table.rows:
            sheet.append(
                [_xlsx_cell(sheet, v, kind) for v, (_, kind) in zip(row, table.columns, strict=True)]
            )
    notes = workbook.create_sheet(_sheet_title("说明", taken))
    notes.append([_xlsx_cell(notes, "项目 Term", "text"), _xlsx_cell(notes, "定义 Definition", "text")])
    for term, text in definitions:
        notes.append([_xlsx_cell(notes, term, "text"), _xlsx_cell(notes, text, "text")])
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()
