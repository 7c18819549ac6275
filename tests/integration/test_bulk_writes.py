"""The hot paths' bulk writes store on PostgreSQL (one JSON document of rows) exactly what an
executemany stores on SQLite: hostile text, nested JSON, huge integers, time zones and NULLs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Engine, select

from lenddesk.core import bulk
from lenddesk.core.db import make_engine, session_factory, upgrade_database
from lenddesk.core.models import AuditEntry
from lenddesk.ledger.models import RepaymentBatch, RepaymentBatchLine

HOSTILE_TEXTS = [
    '引号"和反斜杠\\还有\n换行',
    "全角ＡＢＣ１２３，繁體還款",
    "emoji 💸🙏 and tab\t",
    '{"looks": ["like json"]}',
    "",
]
BEIJING = timezone(timedelta(hours=8))


@pytest.fixture(params=["sqlite", "postgresql"])
def any_engine(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Engine]:
    url = (
        f"sqlite:///{tmp_path / 'bulk.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    upgrade_database(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def audit_rows() -> list[dict[str, Any]]:
    return [
        {
            "at": datetime(2026, 12, 7, 20, 30, tzinfo=BEIJING) + timedelta(seconds=index),
            "actor_id": None,
            "actor_name": f"审核员{index}",
            "action": "repayment.post",
            "entity_type": "loan",
            "entity_id": str(2**62 + index),
            "before": None if index % 2 else {"text": text, "amounts": [2**62, -1, 0]},
            "after": {"nested": {"list": [text, None, True]}, "fen": 9_223_372_036_854_775_807},
        }
        for index, text in enumerate(HOSTILE_TEXTS)
    ]


def test_inserted_audit_entries_read_back_as_written(any_engine: Engine) -> None:
    rows = audit_rows()
    with session_factory(any_engine)() as session:
        bulk.insert_rows(session.connection(), AuditEntry.__table__, rows)
        session.commit()
        stored = session.scalars(select(AuditEntry).order_by(AuditEntry.at)).all()
    assert [(entry.actor_name, entry.entity_id, entry.before, entry.after) for entry in stored] == [
        (row["actor_name"], row["entity_id"], row["before"], row["after"]) for row in rows
    ]
    assert [entry.at for entry in stored] == [row["at"].astimezone(UTC) for row in rows]


def make_batch(engine: Engine, lines: int) -> int:
    with session_factory(engine)() as session:
        batch = RepaymentBatch(
            channel="auto_debit",
            content_sha256="0" * 64,
            filename="回盘.csv",
            status="running",
            lines_total=lines,
            business_date=date(2026, 12, 7),
            created_by="tests",
            counts={},
        )
        session.add(batch)
        session.flush()
        rows = [
            {
                "batch_id": batch.id,
                "line_no": number,
                "reference": f"REF{number}",
                "contract_number": f"HT{number:08d}",
                "amount_text": HOSTILE_TEXTS[number % len(HOSTILE_TEXTS)],
                "value_date_text": "2026-12-07",
            }
            for number in range(1, lines + 1)
        ]
        bulk.insert_rows(session.connection(), RepaymentBatchLine.__table__, rows)  # status by its default
        session.commit()
        return batch.id


def lines_of(engine: Engine, batch_id: int) -> list[tuple[Any, ...]]:
    table = RepaymentBatchLine.__table__
    with engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                select(table.c.line_no, table.c.status, table.c.reason_zh, table.c.amount_text)
                .where(table.c.batch_id == batch_id)
                .order_by(table.c.line_no)
            )
        ]


def test_updates_by_id_change_the_rows_named_and_no_other(any_engine: Engine) -> None:
    batch_id = make_batch(any_engine, 3000)
    before = lines_of(any_engine, batch_id)
    assert {status for _, status, _, _ in before} == {"pending"}
    table = RepaymentBatchLine.__table__
    with session_factory(any_engine)() as session:
        ids = dict(
            session.execute(select(table.c.line_no, table.c.id).where(table.c.batch_id == batch_id)).all()
        )
        changes = [
            {"_id": ids[number], "status": "refused", "reason_zh": HOSTILE_TEXTS[number % len(HOSTILE_TEXTS)]}
            for number in range(2, 3001, 2)
        ]
        bulk.update_by_id(session.connection(), table, changes)
        session.commit()
    after = lines_of(any_engine, batch_id)
    for (number, status, reason, text), (_, old_status, old_reason, old_text) in zip(
        after, before, strict=True
    ):
        assert text == old_text
        if number % 2:
            assert (status, reason) == (old_status, old_reason)
        else:
            assert (status, reason) == ("refused", HOSTILE_TEXTS[number % len(HOSTILE_TEXTS)])


def test_one_of_finds_thousands_of_values_and_none_for_none(any_engine: Engine) -> None:
    batch_id = make_batch(any_engine, 2500)
    table = RepaymentBatchLine.__table__
    wanted = [f"REF{number}" for number in range(1, 2501, 3)] + ["REF-NOT-THERE", "引号\"'"]
    with any_engine.connect() as connection:
        dialect = connection.dialect
        found = connection.scalars(
            select(table.c.reference).where(
                table.c.batch_id == batch_id, bulk.one_of(table.c.reference, wanted, dialect)
            )
        ).all()
        nothing = connection.scalars(select(table.c.id).where(bulk.one_of(table.c.id, [], dialect))).all()
    assert sorted(found) == sorted(wanted[:-2])
    assert nothing == []


def test_a_computed_default_must_be_given(any_engine: Engine) -> None:
    row = audit_rows()[0]
    del row["at"]  # `at` defaults to the time of the insert: a bulk insert cannot compute it per row
    with session_factory(any_engine)() as session, pytest.raises(ValueError, match=r"audit_log\.at"):
        bulk.insert_rows(session.connection(), AuditEntry.__table__, [row])
