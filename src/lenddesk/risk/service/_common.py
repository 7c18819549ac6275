"""Helpers shared by the risk use cases: the policy, the borrower's profile lock, dialect inserts."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from lenddesk.core.db import INSERTS, insert_for
from lenddesk.core.errors import NotFound
from lenddesk.core.policy import RiskPolicy, get_policy
from lenddesk.core.settings import get_settings
from lenddesk.core.sqlite_gate import GatedConnection
from lenddesk.ledger.service.behaviour import borrower_identity
from lenddesk.risk import blacklist, rules
from lenddesk.risk.models import Profile


def risk_policy() -> RiskPolicy:
    return get_policy().risk


def thresholds(policy: RiskPolicy | None = None) -> rules.Thresholds:
    policy = policy or risk_policy()
    return rules.Thresholds(
        lookback=timedelta(days=policy.new_region_lookback_days),
        window=timedelta(hours=policy.transfer_window_hours),
        large_fen=policy.large_transfer_fen,
        large_count=policy.large_transfer_count,
        structuring_percent=policy.structuring_percent,
        structuring_count=policy.structuring_count,
    )


def take_write_gate(session: Session) -> None:
    """On SQLite, the database's write gate before the first read (PostgreSQL locks rows instead)."""
    connection = session.connection().connection.dbapi_connection
    if isinstance(connection, GatedConnection):
        connection.acquire_gate()


def no_such_borrower(borrower_id: int) -> NotFound:
    return NotFound(
        f"借款人不存在：{borrower_id}", f"No such borrower: {borrower_id}", code="unknown_borrower"
    )


def identity_of(session: Session, borrower_id: int) -> tuple[str, str]:
    identity = borrower_identity(session, borrower_id)
    if identity is None:
        raise no_such_borrower(borrower_id)
    return identity


def lock_profile(session: Session, borrower_id: int) -> Profile:
    """The borrower's risk profile, created if new and locked for this transaction: every event of
    the borrower passes here, so two events cannot both miss the other in a window."""
    take_write_gate(session)
    session.execute(
        insert_for(session)(Profile)
        .values(borrower_id=borrower_id, score=0, band="low", previous_band="low")
        .on_conflict_do_nothing(index_elements=["borrower_id"])
    )
    profile = session.scalar(
        select(Profile)
        .where(Profile.borrower_id == borrower_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert profile is not None  # inserted just above
    return profile


# One statement that creates the profile if new and locks its row: on PostgreSQL the conflicting
# row is locked by DO UPDATE until COMMIT; on SQLite the write gate taken before it serialises.
_profiles = Profile.__table__
_LOCK_PROFILE_ROW = {
    dialect: insert_of(_profiles)
    .values(borrower_id=bindparam("borrower_id"), score=0, band="low", previous_band="low")
    .on_conflict_do_update(index_elements=["borrower_id"], set_={"borrower_id": bindparam("borrower_id")})
    for dialect, insert_of in INSERTS.items()
}


def lock_profile_row(session: Session, borrower_id: int) -> None:
    """`lock_profile` in one statement and without loading the profile (the event intake's path)."""
    take_write_gate(session)
    session.connection().execute(
        _LOCK_PROFILE_ROW[session.get_bind().dialect.name], {"borrower_id": borrower_id}
    )


def risk_key() -> str:
    return get_settings().resolved_risk_key()


def borrower_hashes(id_number: str, mobile: str, key: str | None = None) -> tuple[str, str]:
    key = key or risk_key()
    return (
        blacklist.keyed_hash(key, "id_number", blacklist.normalise("id_number", id_number)),
        blacklist.keyed_hash(key, "mobile", blacklist.normalise("mobile", mobile)),
    )
