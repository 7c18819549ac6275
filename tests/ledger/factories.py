"""Borrowers, products and loans for ledger tests (service calls, never raw rows)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import count

from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.pii import id_check_char
from lenddesk.ledger import service
from lenddesk.ledger.models import Borrower, Loan, Product

ADMIN = audit.Actor(user_id=None, name="admin", role="admin")
AGENT = audit.Actor(user_id=None, name="agent", role="agent")
LEAD = audit.Actor(user_id=None, name="team_lead", role="team_lead")
_sequence = count(1)


def id_number(sequence: int | None = None, birth: str = "19900101") -> str:
    first17 = f"110105{birth}{(sequence or next(_sequence)) % 1000:03d}"
    return first17 + id_check_char(first17)


def mobile(sequence: int | None = None) -> str:
    return f"139{(sequence or next(_sequence)) % 100_000_000:08d}"


def product(session: Session, code: str = "XJD12", **overrides: object) -> Product:
    arguments: dict[str, object] = {
        "code": code,
        "name": "现金贷 12 期",
        "annual_rate": Decimal("0.18"),
        "term": 12,
        "method": "equal_instalment",
    }
    return service.create_product(session, actor=ADMIN, **{**arguments, **overrides})  # type: ignore[arg-type]


def borrower(session: Session, name: str = "张伟", **overrides: object) -> Borrower:
    sequence = next(_sequence)
    arguments: dict[str, object] = {
        "name": name,
        "id_number": id_number(sequence),
        "mobile": mobile(sequence),
        "address": "北京市朝阳区建国路 88 号",
        "employer": "北京某某科技有限公司",
    }
    return service.create_borrower(session, actor=ADMIN, **{**arguments, **overrides})  # type: ignore[arg-type]


def loan(
    session: Session,
    *,
    principal_fen: int = 1_200_000,
    disbursed_on: date = date(2026, 1, 15),
    product_code: str = "XJD12",
    borrower_id: int | None = None,
    **overrides: object,
) -> Loan:
    if borrower_id is None:
        borrower_id = borrower(session).id
    return service.create_loan(
        session,
        actor=ADMIN,
        borrower_id=borrower_id,
        product_code=product_code,
        principal_fen=principal_fen,
        disbursed_on=disbursed_on,
        **overrides,  # type: ignore[arg-type]
    )
