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
from typing import Any

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


def contact_rows() -> Select:
    """Borrowers as a row source another room's set-based statement selects from (the care room's
    campaign audience): `borrower_id`, `contact_time` (the stored window) and whether they can be
    reached by e-mail and WeChat (`has_email`, `has_wechat`). Use the conditions below on it."""
    return select(
        Borrower.id.label("borrower_id"),
        Borrower.preferred_contact_time.label("contact_time"),
        and_(Borrower.email.is_not(None), Borrower.email != "").label("has_email"),
        and_(Borrower.wechat_openid.is_not(None), Borrower.wechat_openid != "").label("has_wechat"),
    )


def outside_window_condition(contact_time: Any, hhmm: str, default_window: ContactWindow) -> Any:
    """On `contact_rows()`'s `contact_time`: true when the borrower's window (their own, or
    `default_window` when they have none or an unreadable one) does not contain `hhmm` (HH:MM,
    compared as text, which orders like time). Start inclusive, end exclusive."""
    readable = and_(
        contact_time.is_not(None), func.length(contact_time) == 11, func.substr(contact_time, 6, 1) == "-"
    )
    own_outside = and_(
        readable, or_(func.substr(contact_time, 1, 5) > hhmm, func.substr(contact_time, 7, 5) <= hhmm)
    )
    hour, minute = (int(part) for part in hhmm.split(":"))
    if default_window.contains(time(hour, minute)):
        return own_outside
    return or_(own_outside, ~readable)


def unreachable_condition(rows: Any, channel: str) -> Any:
    """On `contact_rows()`: true when the borrower has no address on `channel` (None: all have one)."""
    if channel == "email":
        return ~rows.c.has_email
    if channel == "wechat":
        return ~rows.c.has_wechat
    return None


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


def borrower_addresses(session: Session, borrower_ids: list[int], channel: str) -> dict[int, str]:
    """The address of each borrower on `channel` (the app's is `borrower:<id>`); none for those without."""
    if channel == "app":
        return {borrower_id: f"borrower:{borrower_id}" for borrower_id in borrower_ids}
    column = _ADDRESS_COLUMNS[channel]
    rows = session.execute(
        select(Borrower.id, column).where(Borrower.id.in_(borrower_ids), column.is_not(None))
    )
    return {borrower_id: address for borrower_id, address in rows if address}
