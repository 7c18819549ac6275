"""A hardship book for negotiation tests: an overdue 36-instalment loan on a verified ticket.

Built through the ledger's and the desk's services (the penalties a year of closes would have
charged are set on the overdue lines directly, then one close of business ages the loan).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.calendar import business_date
from lenddesk.core.models import User
from lenddesk.desk import service as desk
from lenddesk.desk.models import Ticket
from lenddesk.ledger import service as ledger
from lenddesk.ledger.cob import run_cob
from lenddesk.ledger.models import CobRun, Loan, ScheduleLine
from lenddesk.ledger.schedule import add_months

# Tuesday 24 November 2026, 10:00 in Shanghai.
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
TODAY = date(2026, 11, 24)
ADMIN = audit.Actor(user_id=None, name="admin", role="admin")
CHANNEL = audit.Actor.system("channel:test")


@dataclass(frozen=True)
class Book:
    loan_id: int
    contract_number: str
    ticket_number: str
    borrower_id: int


def actor(session: Session, username: str) -> audit.Actor:
    user = session.scalar(select(User).where(User.username == username))
    assert user is not None
    return audit.Actor.of(user)


def hardship_book(
    session: Session,
    *,
    sequence: int = 1,
    paid_instalments: int = 9,
    penalty_fen: int = 12_000,
    late_fee_fen: int = 5_000,
    owner: str = "agent",
    verified: bool = True,
    product_code: str = "XJD36",
    now: datetime = NOW,
) -> Book:
    """An overdue loan of 36 monthly instalments (等额本息 18 %), the first `paid_instalments` paid,
    the next ones overdue with penalties and late fees; a ticket from the borrower owned by `owner`."""
    if not _product_exists(session, product_code):
        ledger.create_product(
            session,
            actor=ADMIN,
            code=product_code,
            name="现金贷 36 期",
            annual_rate=Decimal("0.18"),
            term=36,
            method="equal_instalment",
        )
    mobile = f"1391000{sequence:04d}"
    borrower = ledger.create_borrower(
        session,
        actor=ADMIN,
        name="李娜",
        id_number=_id_number(sequence),
        mobile=mobile,
        address="上海市浦东新区世纪大道 100 号",
        employer="上海某某贸易有限公司",
    )
    today = business_date(now)
    disbursed = add_months(date(today.year, today.month, 5), -12)  # 2025-11-05 for NOW
    loan = ledger.create_loan(
        session,
        actor=ADMIN,
        borrower_id=borrower.id,
        product_code=product_code,
        principal_fen=3_600_000,
        disbursed_on=disbursed,
    )
    lines = session.scalars(
        select(ScheduleLine).where(ScheduleLine.loan_id == loan.id).order_by(ScheduleLine.period)
    ).all()
    for line in lines[:paid_instalments]:
        ledger.post_repayment(
            session,
            actor=ADMIN,
            contract_number=loan.contract_number,
            channel="bank_transfer",
            external_reference=f"PAY-{sequence}-{line.period}",
            amount_fen=line.principal_fen + line.interest_fen,
            value_date=line.due_on,
            today=line.due_on,
        )
    overdue = [line for line in lines if line.due_on < today and line.paid_off_on is None]
    for line in overdue:
        session.execute(
            update(ScheduleLine)
            .where(ScheduleLine.id == line.id)
            .values(penalty_fen=penalty_fen // len(overdue), late_fee_fen=late_fee_fen // len(overdue))
        )
    # Close TODAY (again, when an earlier book of the same test closed it: the loans already aged
    # only gain a day's penalty) so the loan is overdue as the close of business leaves it.
    session.execute(delete(CobRun).where(CobRun.business_date == today))
    session.commit()
    run_cob(session.get_bind(), today)
    session.expire_all()
    result = desk.intake(
        session,
        channel="sms",
        channel_message_id=f"hardship-{sequence}",
        sender=mobile,
        text="我最近失业了，还不上钱，能不能分期？",
        received_at=now,
        now=now,
        actor=CHANNEL,
    )
    ticket = session.get(Ticket, result.ticket_id)
    assert ticket is not None
    ticket.borrower_id = borrower.id
    ticket.owner_id = actor(session, owner).user_id
    if verified:
        ticket.verification_level, ticket.verified_at = "basic", now
    session.commit()
    loan_row = session.get(Loan, loan.id)
    assert loan_row is not None and loan_row.status == "overdue", loan_row.status if loan_row else None
    return Book(loan.id, loan.contract_number, ticket.number, borrower.id)


def _product_exists(session: Session, code: str) -> bool:
    from lenddesk.ledger.models import Product

    return session.scalar(select(Product.id).where(Product.code == code)) is not None


def _id_number(sequence: int) -> str:
    from lenddesk.core.pii import id_check_char

    first17 = f"31011519900101{sequence % 1000:03d}"
    return first17 + id_check_char(first17)
