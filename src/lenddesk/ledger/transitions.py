"""Bucket transitions: at most one row per loan and business date — the last state of the day wins.

A posting, a reversal and the close of business may all move a loan's bucket on the same business
date (a cure in the afternoon, its reversal an hour later, the close at night). Each writes through
an upsert (`INSERT … ON CONFLICT (loan_id, business_date) DO UPDATE`, the SQLite and PostgreSQL
dialect inserts): the row keeps the bucket the loan started the day in (`from_bucket`) and takes
the newest `to_bucket` and days past due. A loan that ends the day in the bucket it started in has
no transition that day: the row is removed.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Delete, Select, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.sqlite.dml import Insert as SQLiteInsert
from sqlalchemy.orm import Session

from lenddesk.ledger.models import BucketTransition

COLUMNS = ("loan_id", "business_date", "from_bucket", "to_bucket", "days_past_due")
_table = BucketTransition.__table__


def upsert(
    dialect: str, *, source: Select | None = None, target: object = _table
) -> postgresql.Insert | SQLiteInsert:
    """`INSERT … ON CONFLICT (loan_id, business_date) DO UPDATE` of the newest bucket of the day.

    With `source`, the rows it selects (in `COLUMNS` order) — the close of business's form.
    """
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(target)  # type: ignore[arg-type]
    if source is not None:
        insert = insert.from_select(list(COLUMNS), source)
    return insert.on_conflict_do_update(
        index_elements=["loan_id", "business_date"],
        set_={"to_bucket": insert.excluded.to_bucket, "days_past_due": insert.excluded.days_past_due},
    )


def drop_round_trips(business_date: object, loan_ids: Select | list[int], target: object = _table) -> Delete:
    """Remove the day's rows of loans back in the bucket they started the day in."""
    return delete(target).where(  # type: ignore[arg-type]
        _table.c.business_date == business_date,
        _table.c.from_bucket == _table.c.to_bucket,
        _table.c.loan_id.in_(loan_ids),
    )


def record(
    session: Session,
    *,
    loan_id: int,
    business_date: date,
    from_bucket: str,
    to_bucket: str,
    days_past_due: int,
) -> None:
    """A loan moved from `from_bucket` to `to_bucket` during `business_date` (posting or reversal).

    Rows already recorded for later dates (the close of business is catching up) are superseded:
    the loan began this date in the bucket the first of them left, and closing the later dates
    re-derives them.
    """
    ahead = session.scalars(
        select(BucketTransition)
        .where(BucketTransition.loan_id == loan_id, BucketTransition.business_date > business_date)
        .order_by(BucketTransition.business_date)
    ).first()
    if ahead is not None:
        from_bucket = ahead.from_bucket
        session.execute(
            delete(BucketTransition).where(
                BucketTransition.loan_id == loan_id, BucketTransition.business_date > business_date
            ),
            execution_options={"synchronize_session": "fetch"},
        )
    statement = (
        upsert(session.get_bind().dialect.name, target=BucketTransition)
        .values(
            loan_id=loan_id,
            business_date=business_date,
            from_bucket=from_bucket,
            to_bucket=to_bucket,
            days_past_due=days_past_due,
        )
        .returning(BucketTransition)
    )
    # populate_existing: a row this session already holds shows the upserted state.
    session.scalars(statement, execution_options={"populate_existing": True}).all()
    session.execute(
        drop_round_trips(business_date, [loan_id], target=BucketTransition),
        execution_options={"synchronize_session": "fetch"},
    )
