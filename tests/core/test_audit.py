import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.models import AuditEntry, AuditImmutable


def test_record_is_in_the_callers_transaction(session: Session) -> None:
    audit.record(session, audit.Actor.system("test"), "thing.change", ("thing", 1), {"a": 1}, {"a": 2})
    session.rollback()
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "thing.change")) is None


def test_audit_rows_cannot_be_changed_or_removed(session: Session) -> None:
    entry = audit.record(session, audit.Actor.system("test"), "thing.change", ("thing", 1), None, {"a": 2})
    session.commit()
    entry.action = "tampered"
    with pytest.raises(AuditImmutable):
        session.commit()
    session.rollback()
    session.delete(entry)
    with pytest.raises(AuditImmutable):
        session.commit()


def test_no_bulk_delete_path_in_the_code() -> None:
    import pathlib

    import lenddesk

    root = pathlib.Path(lenddesk.__file__).parent
    offenders = [
        str(path)
        for path in root.rglob("*.py")
        if "migrations" not in path.parts
        and ("delete(AuditEntry" in path.read_text() or "update(AuditEntry" in path.read_text())
    ]
    assert not offenders


def test_statement_level_delete_is_possible_only_by_hand(session: Session) -> None:
    # The ORM guard covers objects; this documents that the code base has no statement-level path.
    assert delete(AuditEntry) is not None
