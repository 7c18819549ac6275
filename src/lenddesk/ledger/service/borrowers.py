"""Borrowers and their contacts: creation, and search with personal data masked for the viewer's role."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.errors import Conflict, Unprocessable
from lenddesk.core.pii import (
    mask_address,
    mask_email,
    mask_employer,
    mask_id_number,
    mask_mobile,
    validate_id_number,
    validate_mobile,
)
from lenddesk.core.policy import get_policy
from lenddesk.ledger.models import Borrower, BorrowerContact, Loan
from lenddesk.ledger.service._common import _not_found
from lenddesk.ledger.service.reference import RELATIONS


def create_borrower(
    session: Session,
    *,
    actor: audit.Actor,
    name: str,
    id_number: str,
    mobile: str,
    email: str | None = None,
    address: str | None = None,
    employer: str | None = None,
    preferred_channel: str | None = None,
    preferred_contact_time: str | None = None,
) -> Borrower:
    """A borrower, with their own phone on file as the contact "self" (not a third party)."""
    name = name.strip()
    if not name:
        raise Unprocessable("姓名不能为空", "The name is required", code="name_required")
    id_number = validate_id_number(id_number)
    mobile = validate_mobile(mobile)
    if session.scalar(select(Borrower.id).where(Borrower.id_number == id_number)) is not None:
        raise Conflict(
            "该身份证号码已登记为借款人", "A borrower with this ID number exists", code="borrower_exists"
        )
    borrower = Borrower(
        name=name,
        id_number=id_number,
        mobile=mobile,
        email=email.strip().lower() if email else None,
        address=address,
        employer=employer,
        preferred_channel=preferred_channel,
        preferred_contact_time=preferred_contact_time,
    )
    session.add(borrower)
    session.flush()
    session.add(
        BorrowerContact(
            borrower_id=borrower.id, relation="self", name=name, mobile=mobile, is_third_party=False
        )
    )
    audit.record(
        session,
        actor,
        "borrower.create",
        ("borrower", borrower.id),
        None,
        {"name": name, "id_number": mask_id_number(id_number), "mobile": mask_mobile(mobile)},
    )
    return borrower


def add_contact(
    session: Session, *, actor: audit.Actor, borrower_id: int, relation: str, name: str, mobile: str
) -> BorrowerContact:
    """A phone on file; anyone but the borrower themself is a third party."""
    borrower = session.get(Borrower, borrower_id)
    if borrower is None:
        raise _not_found("借款人", "borrower", borrower_id)
    if relation not in RELATIONS:
        raise Unprocessable(
            f"未知的联系人关系：{relation}（可选：{', '.join(RELATIONS)}）",
            f"Unknown contact relation: {relation} (one of: {', '.join(RELATIONS)})",
            code="unknown_relation",
        )
    contact = BorrowerContact(
        borrower_id=borrower_id,
        relation=relation,
        name=name.strip(),
        mobile=validate_mobile(mobile),
        is_third_party=relation != "self",
    )
    session.add(contact)
    session.flush()
    audit.record(
        session,
        actor,
        "borrower.contact_add",
        ("borrower", borrower_id),
        None,
        {"contact_id": contact.id, "relation": relation, "mobile": mask_mobile(contact.mobile)},
    )
    return contact


# --- search ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Disclosure:
    """What a role may see in full."""

    full_pii: bool
    borrower_mobile: bool

    @classmethod
    def for_role(cls, role: str) -> Disclosure:
        policy = get_policy().ledger
        return cls(
            full_pii=role in policy.pii_full_roles, borrower_mobile=role in policy.borrower_mobile_roles
        )

    @classmethod
    def for_search(cls, role: str) -> Disclosure:
        """Search results list many borrowers, none opened through a case and none audited: the
        borrower's own mobile and e-mail show in clear only to roles that see every borrower (not
        the policy's `case_bound_roles`); they see them in the 360, through a case of theirs."""
        policy = get_policy().ledger
        return cls(
            full_pii=role in policy.pii_full_roles,
            borrower_mobile=role in policy.borrower_mobile_roles and role not in policy.case_bound_roles,
        )

    def id_number(self, value: str) -> str:
        return value if self.full_pii else mask_id_number(value)

    def mobile(self, value: str, *, third_party: bool) -> str:
        visible = self.full_pii if third_party else self.borrower_mobile or self.full_pii
        return value if visible else mask_mobile(value)

    def address(self, value: str | None) -> str | None:
        return value if value is None or self.full_pii else mask_address(value)

    def email(self, value: str | None) -> str | None:
        # The borrower's own contact detail, like their mobile.
        visible = value is None or self.borrower_mobile or self.full_pii
        return value if visible else mask_email(value)

    def employer(self, value: str | None) -> str | None:
        return value if value is None or self.full_pii else mask_employer(value)


@dataclass(frozen=True)
class BorrowerHit:
    id: int
    name: str
    id_number: str
    mobile: str
    email: str | None
    contracts: list[str]


_ID_TAIL = re.compile(r"^\d{3,5}[\dX]$")


def search_borrowers(session: Session, *, query: str, role: str, limit: int = 20) -> list[BorrowerHit]:
    """Find borrowers by name, mobile, ID-number tail (4–6 characters) or contract number.

    Masked for the role as `Disclosure.for_search` says (agents and collectors: mobile, e-mail and
    ID number masked; they open the borrower's 360 through a case to see more)."""
    text = query.strip().upper()
    if not text:
        return []
    statement = select(Borrower)
    digits = re.sub(r"[\s-]", "", text)
    if text.startswith("HT"):
        statement = statement.join(Loan, Loan.borrower_id == Borrower.id).where(
            Loan.contract_number.startswith(text)
        )
    elif re.fullmatch(r"(\+86|0086)?1\d{10}", digits):
        mobile = digits[-11:]
        contact_owner = select(BorrowerContact.borrower_id).where(
            BorrowerContact.mobile == mobile, BorrowerContact.is_third_party.is_(False)
        )
        statement = statement.where(or_(Borrower.mobile == mobile, Borrower.id.in_(contact_owner)))
    elif _ID_TAIL.match(text):
        statement = statement.where(Borrower.id_number.endswith(text))
    elif len(text) == 18:
        statement = statement.where(Borrower.id_number == text)
    else:
        statement = statement.where(Borrower.name.contains(query.strip()))
    borrowers = session.scalars(statement.distinct().order_by(Borrower.id).limit(limit)).all()
    disclosure = Disclosure.for_search(role)
    contracts: dict[int, list[str]] = {b.id: [] for b in borrowers}
    if borrowers:
        for borrower_id, number in session.execute(
            select(Loan.borrower_id, Loan.contract_number)
            .where(Loan.borrower_id.in_(contracts))
            .order_by(Loan.id)
        ):
            contracts[borrower_id].append(number)
    return [
        BorrowerHit(
            id=b.id,
            name=b.name,
            id_number=disclosure.id_number(b.id_number),
            mobile=disclosure.mobile(b.mobile, third_party=False),
            email=disclosure.email(b.email),
            contracts=contracts[b.id],
        )
        for b in borrowers
    ]


def create_borrower_with_contacts(
    session: Session, *, actor: audit.Actor, contacts: Sequence[dict[str, str]] = (), **details: Any
) -> Borrower:
    borrower = create_borrower(session, actor=actor, **details)
    for contact in contacts:
        add_contact(session, actor=actor, borrower_id=borrower.id, **contact)
    return borrower
