"""A borrower's contact preferences: the channel and the daily window they want to be reached in.

They live on the borrower's row (`preferred_channel`, `preferred_contact_time` as `HH:MM-HH:MM`,
Shanghai time), so that every room that contacts a borrower — collections' reminders and plan, the
care room's campaigns — reads them through the ledger, below them all. The care room writes them
(`PUT /api/v1/care/borrowers/{id}/preferences`) through `set_contact_preferences`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from lenddesk.ledger.models import Borrower, Loan, ScheduleLine

PREFERRED_CHANNELS = ("sms", "phone", "wechat", "email", "app")
_WINDOW = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")


@dataclass(frozen=True)
class ContactWindow:
    """From `start` (inclusive) to `end` (exclusive), the same day; `end` 24:00 is written 23:59:59."""

    start: time
    end: time

    def contains(self, moment: time) -> bool:
        return self.start <= moment < self.end

    def text(self) -> str:
        end = "24:00" if self.end == time(23, 59, 59) else self.end.strftime("%H:%M")
        return f"{self.start.strftime('%H:%M')}-{end}"


@dataclass(frozen=True)
class ContactPreference:
    channel: str | None
    window: ContactWindow | None


def parse_window(value: str | None) -> ContactWindow | None:
    """`HH:MM-HH:MM` → a window; anything else (empty, free text of old records, reversed) → None."""
    match = _WINDOW.match((value or "").strip())
    if match is None:
        return None
    start = time(int(match.group(1)), int(match.group(2)))
    hour, minute = int(match.group(3)), int(match.group(4))
    if hour == 24 and minute:
        return None
    end = time(23, 59, 59) if hour == 24 else time(hour, minute)
    return ContactWindow(start, end) if start < end else None


def contact_preferences(session: Session, borrower_id: int) -> ContactPreference | None:
    """The borrower's channel and window (None: no such borrower)."""
    row = session.execute(
        select(Borrower.preferred_channel, Borrower.preferred_contact_time).where(Borrower.id == borrower_id)
    ).one_or_none()
    if row is None:
        return None
    channel = row.preferred_channel if row.preferred_channel in PREFERRED_CHANNELS else None
    return ContactPreference(channel, parse_window(row.preferred_contact_time))


def set_contact_preferences(
    session: Session, *, borrower_id: int, channel: str | None, window: ContactWindow | None
) -> ContactPreference:
    """Store the channel and window on the borrower's row (the caller validated and audits)."""
    borrower = session.get(Borrower, borrower_id)
    assert borrower is not None  # the caller checked
    borrower.preferred_channel = channel
    borrower.preferred_contact_time = window.text() if window else None
    session.flush()
    return ContactPreference(channel, window)


# --- set-based reads for other rooms' statements ---------------------------------------------------


def all_borrower_ids() -> Select:
    return select(Borrower.id)


def borrower_ids_outside_window(hhmm: str, default_window: ContactWindow) -> Select:
    """Ids of borrowers whose window (their own, or `default_window` when they have none or an
    unreadable one) does not contain the Shanghai wall-clock time `hhmm` (`HH:MM`, compared as text,
    which orders like time). A window is `HH:MM-HH:MM`: start inclusive, end exclusive."""
    stored = Borrower.preferred_contact_time
    readable = and_(stored.is_not(None), func.length(stored) == 11, func.substr(stored, 6, 1) == "-")
    start = func.substr(stored, 1, 5)
    end = func.substr(stored, 7, 5)
    own_outside = and_(readable, or_(start > hhmm, end <= hhmm))
    hour, minute = (int(part) for part in hhmm.split(":"))
    if default_window.contains(time(hour, minute)):
        return select(Borrower.id).where(own_outside)
    return select(Borrower.id).where(or_(own_outside, ~readable))


def window_not_started_condition(borrower_id: object, hhmm: object) -> object:
    """A condition for another room's ORM statement: the borrower `borrower_id` (a column) chose a
    window that has not yet opened at `hhmm` (a value or bind parameter, `HH:MM`)."""
    stored = Borrower.preferred_contact_time
    return (
        select(Borrower.id)
        .where(
            Borrower.id == borrower_id,
            func.length(stored) == 11,
            func.substr(stored, 6, 1) == "-",
            func.substr(stored, 1, 5) > hhmm,
        )
        .exists()
    )


def overdue_borrower_ids() -> Select:
    """Ids of borrowers with an overdue loan (for another room's `NOT IN`)."""
    return select(Loan.borrower_id).where(Loan.status == "overdue")


def good_credit_borrower_ids(instalments: int, as_of: date) -> Select:
    """Ids of borrowers whose last `instalments` instalments fallen due by `as_of` (over all their
    loans) were each paid off by its due date — and who have at least that many."""
    ranked = (
        select(
            Loan.borrower_id.label("borrower_id"),
            case(
                (
                    and_(
                        ScheduleLine.paid_off_on.is_not(None), ScheduleLine.paid_off_on <= ScheduleLine.due_on
                    ),
                    1,
                ),
                else_=0,
            ).label("on_time"),
            func.row_number()
            .over(
                partition_by=Loan.borrower_id, order_by=(ScheduleLine.due_on.desc(), ScheduleLine.id.desc())
            )
            .label("position"),
        )
        .join(ScheduleLine, ScheduleLine.loan_id == Loan.id)
        .where(ScheduleLine.due_on <= as_of)
        .subquery("ranked")
    )
    return (
        select(ranked.c.borrower_id)
        .where(ranked.c.position <= instalments)
        .group_by(ranked.c.borrower_id)
        .having(and_(func.count() == instalments, func.sum(ranked.c.on_time) == instalments))
    )


_ADDRESS_COLUMNS = {"sms": Borrower.mobile, "email": Borrower.email, "wechat": Borrower.wechat_openid}


def borrower_ids_without_address(channel: str) -> Select:
    """Ids of borrowers we cannot reach on `channel` (no e-mail, no WeChat openid; the app reaches all)."""
    column = _ADDRESS_COLUMNS.get(channel)
    if column is None:
        return select(Borrower.id).where(False)
    return select(Borrower.id).where(or_(column.is_(None), column == ""))


def borrower_addresses(session: Session, borrower_ids: list[int], channel: str) -> dict[int, str]:
    """The address of each borrower on `channel` (the app's is `borrower:<id>`); none for those without."""
    if channel == "app":
        return {borrower_id: f"borrower:{borrower_id}" for borrower_id in borrower_ids}
    column = _ADDRESS_COLUMNS[channel]
    rows = session.execute(
        select(Borrower.id, column).where(Borrower.id.in_(borrower_ids), column.is_not(None))
    )
    return {borrower_id: address for borrower_id, address in rows if address}
