"""Helpers shared by the collections use cases: policy, the account lock, contact counts, holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Date, bindparam, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from lenddesk.collections import guard, rules
from lenddesk.collections.models import Account
from lenddesk.core.calendar import to_shanghai
from lenddesk.core.errors import Unprocessable
from lenddesk.core.policy import CollectionsPolicy, get_policy
from lenddesk.core.sqlite_gate import GatedConnection

# A collections channel and the desk opt-out channels that stop it (docs/COLLECTIONS.md).
OPT_OUT_CHANNELS: dict[str, tuple[str, ...]] = {
    "sms": ("sms",),
    "email": ("email",),
    "app": ("app",),
    "call_script": ("phone",),
    "robocall": ("phone", "robocall"),
}
OUTCOME_KINDS = (
    "right_party",
    "wrong_number",
    "no_answer",
    "refused",
    "promise_to_pay",
    "dispute",
    "hardship",
    "third_party",
    "new_contact",
)


def collections_policy() -> CollectionsPolicy:
    return get_policy().collections


def contact_rules(policy: CollectionsPolicy | None = None) -> guard.ContactRules:
    policy = policy or collections_policy()
    return guard.ContactRules(
        window_start=rules.parse_hhmm(policy.window_start),
        window_end=rules.parse_hhmm(policy.window_end),
        daily_cap=policy.daily_cap,
        rolling_7d_cap=policy.rolling_7d_cap,
    )


def check_channel(channel: str) -> str:
    if channel not in guard.CHANNELS:
        raise Unprocessable(
            f"未知的联系渠道：{channel}",
            f"Unknown channel {channel!r}; channels are {', '.join(guard.CHANNELS)}",
            code="unknown_channel",
        )
    return channel


def strategy_for_arm(arm: str, policy: CollectionsPolicy | None = None) -> str:
    policy = policy or collections_policy()
    return policy.challenger if arm == "challenger" and policy.challenger else policy.champion


def _insert(session: Session):
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def lock_account(session: Session, borrower_id: int) -> Account:
    """The borrower's collections account, created if new and locked for this transaction.

    PostgreSQL: `SELECT … FOR UPDATE`; SQLite: the write gate, taken before the first read. Every
    contact and outcome of the borrower passes here, so the frequency cap cannot be raced past.
    """
    connection = session.connection().connection.dbapi_connection
    if isinstance(connection, GatedConnection):
        connection.acquire_gate()
    policy = collections_policy()
    arm = "challenger" if rules.draws_challenger(borrower_id, policy.challenger_percent) else "champion"
    if policy.challenger is None:
        arm = "champion"
    session.execute(
        _insert(session)(Account)
        .values(borrower_id=borrower_id, state="current", strategy=strategy_for_arm(arm, policy), arm=arm)
        .on_conflict_do_nothing(index_elements=["borrower_id"])
    )
    statement = (
        select(Account)
        .where(Account.borrower_id == borrower_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    account = session.scalar(statement)
    assert account is not None  # inserted just above
    return account


def local_date(moment: datetime) -> date:
    return to_shanghai(moment).date()


@dataclass(frozen=True)
class History:
    contacts_today: int
    contacts_7d: int
    dispute_open: bool


# One prebuilt statement for the hot path (every check and contact): sent outbound contacts on the
# day and in the 7 days ending on it, and whether a hold (or an open desk complaint) is open.
_HISTORY = text(
    "SELECT"
    " (SELECT COUNT(*) FROM collections_contacts WHERE borrower_id = :b AND status = 'sent'"
    "  AND source <> 'inbound' AND local_date = :day) AS today,"
    " (SELECT COUNT(*) FROM collections_contacts WHERE borrower_id = :b AND status = 'sent'"
    "  AND source <> 'inbound' AND local_date >= :week_start AND local_date <= :day) AS week,"
    " (SELECT COUNT(*) FROM collections_holds WHERE borrower_id = :b AND released_at IS NULL)"
    # An open complaint at the desk holds collection too, whoever recorded it (DISPUTE_HOLD).
    " + (SELECT COUNT(*) FROM desk_complaints c JOIN desk_tickets t ON t.id = c.ticket_id"
    # The ticket's borrower, verified or only named by the sender's phone: pausing is the safe side.
    "  WHERE (t.borrower_id = :b OR t.candidate_borrower_id = :b) AND c.closed_at IS NULL) AS holds"
).bindparams(bindparam("day", type_=Date), bindparam("week_start", type_=Date))


def history(session: Session, *, borrower_id: int, on: date) -> History:
    """Outbound contacts sent on `on` and in the 7 days ending on it; whether a hold is open."""
    row = session.execute(_HISTORY, {"b": borrower_id, "day": on, "week_start": on - timedelta(days=6)}).one()
    return History(int(row.today), int(row.week), bool(row.holds))


def violation_dicts(violations: tuple[guard.Violation, ...] | list[guard.Violation]) -> list[dict[str, str]]:
    return [{"code": v.code, "message_zh": v.message_zh, "evidence": v.evidence} for v in violations]
