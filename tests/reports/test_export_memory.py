"""A loan-level export holds a chunk of rows in memory, never the month (issue 22: a million rows
streamed within 256 MiB)."""

from __future__ import annotations

import csv
import io
import tracemalloc
from collections.abc import Iterator

from sqlalchemy import Engine, insert

from lenddesk.reports.api import MONTH_END_COLUMNS
from lenddesk.reports.exports import StreamedTable, csv_lines
from lenddesk.reports.models import MonthEndPosition
from lenddesk.reports.service import month_end_positions

LOANS = 60_000
MONTH = "2031-01"


def _month_of_many_loans(engine: Engine) -> None:
    rows = [
        {
            "month": MONTH,
            "loan_id": loan_id,
            "state": "M1" if loan_id % 7 == 0 else "M0",
            "days_past_due": 12 if loan_id % 7 == 0 else 0,
            "outstanding_principal_fen": 1_000_000 + loan_id,
            "overdue_fen": 50_000 if loan_id % 7 == 0 else 0,
            "principal_fen": 2_000_000,
            "cohort_month": "2030-06",
            "product_code": "=HYPERLINK(1)" if loan_id == 2 else "XFD-12",
            "restructured": loan_id % 11 == 0,
        }
        for loan_id in range(1, LOANS + 1)
    ]
    with engine.begin() as connection:
        connection.execute(insert(MonthEndPosition), rows)


def _export(engine: Engine) -> Iterator[str]:
    rows = ((*row[:8], "是" if row[8] else "否") for row in month_end_positions(engine, month=MONTH))
    return csv_lines([StreamedTable("", MONTH_END_COLUMNS, rows)])


def test_exporting_a_month_of_many_loans_holds_only_a_chunk_in_memory(engine: Engine) -> None:
    _month_of_many_loans(engine)
    tracemalloc.start()
    try:
        written = sum(len(part) for part in _export(engine))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # Read at once, the month's rows would take some 55 MiB before the first byte went out.
    assert written > 2 * 2**20 and peak < 4 * 2**20, f"peak {peak / 2**20:.1f} MiB"
    text = "".join(_export(engine))
    assert text.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert table[0][0] == "贷款编号 loan id" and len(table) == LOANS + 1
    assert [int(row[0]) for row in table[1:]] == list(range(1, LOANS + 1))  # every loan once, in order
    assert table[2][2] == "'=HYPERLINK(1)" and table[7][3] == "M1" and table[11][8] == "是"
    assert table[7][6] == "10000.07" and table[7][7] == "500.00"
