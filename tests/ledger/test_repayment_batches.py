"""Bulk repayment files: each line once by its reference, refused lines with reasons, a killed run
resumed, the same money as single repayments, overlapping imports at once (SQLite)."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lenddesk.core.db import make_engine
from lenddesk.core.errors import Unprocessable
from lenddesk.ledger.models import RepaymentBatch
from lenddesk.ledger.service import post_repayment
from lenddesk.ledger.service.batches import batch_results, results_csv
from tests.ledger.batch_support import (
    ADMIN,
    TODAY,
    csv_file,
    make_loans,
    overlapping_imports_apply_each_reference_once,
    paid_by_loan,
    repayments_by_reference,
    run_import,
)


def results(engine: Engine, batch_id: int) -> dict[int, dict[str, object]]:
    with Session(engine) as session:
        return {row["line_no"]: row for row in batch_results(session, batch_id)}


def test_each_reference_is_applied_once_and_every_line_gets_a_result(engine: Engine) -> None:
    first, second = make_loans(engine, 2)
    content = csv_file(
        [
            ("B-1", first, "300.00", "2026-03-01"),
            ("B-2", second, "1200.50", "2026-03-02"),
            ("B-1", first, "300.00", "2026-03-01"),  # the same line twice in the file
            ("B-3", first.lower(), "50", "2026-03-03"),  # contract numbers are not case-sensitive
        ]
    )
    outcome = run_import(engine, content, chunk_size=2)
    assert outcome.counts == {"applied": 3, "duplicate": 1}
    lines = results(engine, outcome.batch_id)
    assert [lines[n]["status"] for n in (1, 2, 3, 4)] == ["applied", "applied", "duplicate", "applied"]
    assert lines[3]["repayment_id"] == lines[1]["repayment_id"]
    assert repayments_by_reference(engine) == {"B-1": [30000], "B-2": [120050], "B-3": [5000]}

    again = run_import(engine, content)  # the same file again: the same batch, nothing new
    assert again.batch_id == outcome.batch_id and again.resumed
    assert again.counts == outcome.counts
    later = run_import(engine, csv_file([("B-2", second, "1200.50", "2026-03-02")]))
    assert later.counts == {"duplicate": 1}
    reused = run_import(engine, csv_file([("B-2", first, "9.00", "2026-03-05")]))
    assert reused.counts == {"refused": 1}
    assert repayments_by_reference(engine) == {"B-1": [30000], "B-2": [120050], "B-3": [5000]}


def test_refused_lines_say_why_in_chinese_and_english_and_the_rest_is_applied(engine: Engine) -> None:
    (contract,) = make_loans(engine, 1)
    content = (
        (
            "reference,contract_number,amount,value_date\n"
            f"OK-1,{contract},100.00,2026-03-01\n"
            "NO-LOAN,HT-NOSUCH-1,100.00,2026-03-01\n"
            f"BAD-AMOUNT,{contract},abc,2026-03-01\n"
            f"NEGATIVE,{contract},-5.00,2026-03-01\n"
            f"ZERO,{contract},0.00,2026-03-01\n"
            f"HUGE,{contract},{'9' * 40},2026-03-01\n"
            f"FULLWIDTH,{contract},１００.００,2026-03-01\n"
            f"FUTURE,{contract},100.00,2026-05-01\n"
            f"EARLY,{contract},100.00,2025-12-01\n"
            f"BAD-DATE,{contract},100.00,2026-02-30\n"
            f"{'X' * 65},{contract},100.00,2026-03-01\n"
        ).encode()
        + b"SURR\xed\xa0\x80,"
        + contract.encode()
        + b",100.00,2026-03-01\n"
    )
    outcome = run_import(engine, content)
    lines = results(engine, outcome.batch_id)
    codes = {lines[n]["reference"]: lines[n]["reason_code"] for n in lines}
    assert lines[1]["status"] == "applied"
    assert codes["NO-LOAN"] == "contract_not_found"
    assert codes["BAD-AMOUNT"] == codes["NEGATIVE"] == codes["FULLWIDTH"] == "amount_invalid"
    assert codes["ZERO"] == "amount_not_positive"
    assert codes["HUGE"] == "amount_too_large"
    assert codes["FUTURE"] == "date_in_future"
    assert codes["EARLY"] == "date_before_disbursement"
    assert codes["BAD-DATE"] == "date_invalid"
    assert codes["X" * 65] == "reference_invalid"
    # Bytes that are not UTF-8 (a lone surrogate's encoding) are kept as U+FFFD and refused.
    assert codes["SURR\ufffd\ufffd\ufffd"] == "reference_invalid"
    refused = [row for row in lines.values() if row["status"] == "refused"]
    assert len(refused) == 11 and all(row["reason_zh"] and row["reason_en"] for row in refused)
    assert repayments_by_reference(engine) == {"OK-1": [10000]}
    report = list(csv.DictReader(io.StringIO(results_csv(list(lines.values())))))
    assert [row["status"] for row in report].count("refused") == 11
    assert report[1]["reason_en"] == "No such contract: HT-NOSUCH-1"


def test_a_file_without_the_columns_is_refused_whole(engine: Engine) -> None:
    with pytest.raises(Unprocessable) as refused:
        run_import(engine, b"ref,amount\nA,1.00\n")
    assert "reference" in refused.value.message_en and refused.value.message_zh


def test_a_run_killed_after_a_chunk_resumes_where_it_stopped(engine: Engine, db_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    contracts = make_loans(engine, 4)
    lines = [(f"K{n:03d}", contracts[n % 4], "80.00", f"2026-03-{1 + n // 4:02d}") for n in range(20)]
    content = csv_file(lines)
    # The same book in a second database, imported without interruption.
    other_url = f"sqlite:///{tmp_path / 'other.db'}"
    import shutil

    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(db_url.removeprefix("sqlite:///"), tmp_path / "other.db")
    other = make_engine(other_url)

    class Killed(Exception):
        pass

    def die_after_second_chunk(index: int) -> None:
        if index == 1:
            raise Killed

    with pytest.raises(Killed):
        run_import(engine, content, chunk_size=3, after_chunk=die_after_second_chunk)
    with Session(engine) as session:
        batch = session.scalars(select(RepaymentBatch)).one()
        assert batch.status == "running"
    assert len(repayments_by_reference(engine)) == 6  # two whole chunks, nothing of the third
    resumed = run_import(engine, content, chunk_size=3)
    assert resumed.resumed and resumed.counts == {"applied": 20}
    run_import(other, content, chunk_size=3)
    assert paid_by_loan(engine) == paid_by_loan(other)
    assert repayments_by_reference(engine) == repayments_by_reference(other)
    other.dispose()


def test_a_batch_moves_the_same_money_as_single_repayments(engine: Engine) -> None:
    singles = make_loans(engine, 3)
    batched = make_loans(engine, 3)
    plan = [
        (0, "500.00", "2026-02-10"),
        (1, "20000.00", "2026-02-12"),
        (0, "731.25", "2026-03-11"),
        (2, "99999.00", "2026-03-15"),
        (1, "0.01", "2026-03-20"),
        (0, "100.00", "2026-03-05"),  # back-dated: re-allocated in value-date order, as a single posting
    ]
    with Session(engine) as session:
        for number, (loan, amount, day) in enumerate(plan):
            post_repayment(
                session,
                actor=ADMIN,
                contract_number=singles[loan],
                channel="auto_debit",
                external_reference=f"S{number}",
                amount_fen=round(float(amount) * 100),
                value_date=date.fromisoformat(day),
                today=TODAY,
            )
            session.commit()
    run_import(
        engine,
        csv_file([(f"T{n}", batched[loan], amount, day) for n, (loan, amount, day) in enumerate(plan)]),
        chunk_size=4,
    )
    paid = paid_by_loan(engine)
    assert [paid[contract] for contract in singles] == [paid[contract] for contract in batched]
    assert sum(sum(paid[contract]) for contract in batched) == 12133026


def test_two_overlapping_files_at_once_apply_each_reference_once(engine: Engine) -> None:
    overlapping_imports_apply_each_reference_once(engine)


def test_the_api_takes_a_file_from_an_admin_or_a_channel_key_and_serves_the_result_file(
    engine: Engine, client, as_role, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from lenddesk.core.settings import get_settings

    monkeypatch.setattr(get_settings(), "channel_keys", {"bank": "k" * 32})
    (first,) = make_loans(engine, 1)
    content = csv_file([("H-1", first, "100.00", "2026-03-01"), ("H-2", "HT-NONE-9", "5.00", "2026-03-01")])
    url = "/api/v1/ledger/repayment-batches?channel=auto_debit&filename=hui-pan.csv"
    assert client.post(url, content=content, headers=as_role("agent")).status_code == 403
    made = client.post(url, content=content, headers={**as_role("admin"), "Content-Type": "text/csv"})
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["counts"] == {"applied": 1, "refused": 1} and not body["resumed"]
    report = client.get(body["results_url"], headers={"X-LendDesk-Key": "k" * 32})
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(report.text)))
    assert [row["status"] for row in rows] == ["applied", "refused"]
    assert rows[1]["reason_zh"] == "合同不存在：HT-NONE-9"
    again = client.post(url, content=content, headers={"X-LendDesk-Key": "k" * 32})
    assert (
        again.status_code == 201 and again.json()["resumed"] and again.json()["batch_id"] == body["batch_id"]
    )
    bad = client.post(url, content=b"nothing,here\n1,2\n", headers=as_role("admin"))
    assert bad.status_code == 422 and "reference" in bad.json()["message_en"]
    assert (
        client.get("/api/v1/ledger/repayment-batches/999/results", headers=as_role("admin")).status_code
        == 404
    )
    assert repayments_by_reference(engine) == {"H-1": [10000]}


def test_the_command_imports_a_file_and_writes_the_result_file(
    engine: Engine, db_url: str, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from lenddesk.cli import app
    from lenddesk.core.settings import get_settings

    (contract,) = make_loans(engine, 1)
    path = tmp_path / "daikou.csv"
    path.write_bytes(
        csv_file([("C-1", contract, "88.00", "2026-03-01"), ("C-2", contract, "x", "2026-03-01")])
    )
    monkeypatch.setenv("LENDDESK_DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            app, ["repayments", "import", str(path), "--date", TODAY.isoformat()], terminal_width=200
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "applied" in result.output and "refused" in result.output
    rows = list(csv.DictReader(io.StringIO((tmp_path / "daikou.csv.result.csv").read_text(encoding="utf-8"))))
    assert [(row["reference"], row["status"]) for row in rows] == [("C-1", "applied"), ("C-2", "refused")]
    assert repayments_by_reference(engine) == {"C-1": [8800]}
