"""Ledger use cases against a real (SQLite) database: borrowers, loans, repayments, reversal, 360."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from lenddesk.core.models import AuditEntry
from lenddesk.ledger import service
from lenddesk.ledger.models import BucketTransition, Repayment, ScheduleLine, SettlementCertificate
from tests.ledger import factories
from tests.ledger.factories import ADMIN, AGENT, LEAD

TODAY = date(2026, 11, 20)


@pytest.fixture
def loan(session: Session):  # type: ignore[no-untyped-def]
    factories.product(session)
    return factories.loan(session)


def lines_of(session: Session, loan_id: int) -> list[ScheduleLine]:
    return list(
        session.scalars(
            select(ScheduleLine).where(ScheduleLine.loan_id == loan_id).order_by(ScheduleLine.period)
        )
    )


def post(session: Session, loan, amount: int, value_date: date, reference: str | None = None, **extra):  # type: ignore[no-untyped-def]
    return service.post_repayment(
        session,
        actor=AGENT,
        contract_number=loan.contract_number,
        channel=extra.pop("channel", "wechat_pay"),
        external_reference=reference or f"WX{loan.id}-{value_date}-{amount}",
        amount_fen=amount,
        value_date=value_date,
        today=extra.pop("today", TODAY),
        **extra,
    )


# --- borrowers, contacts, products, loans --------------------------------------------------------


def test_a_borrower_is_created_with_their_own_phone_as_a_first_party_contact(session: Session) -> None:
    borrower = factories.borrower(session, mobile="+86 139-0000-1111")
    assert borrower.mobile == "13900001111"
    spouse = service.add_contact(
        session, actor=ADMIN, borrower_id=borrower.id, relation="spouse", name="李娜", mobile="13700002222"
    )
    view = service.borrower_360(session, borrower_id=borrower.id, role="compliance", today=TODAY)
    assert [(c.relation, c.is_third_party) for c in view.contacts] == [("self", False), ("spouse", True)]
    assert spouse.is_third_party


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("id_number", "110105199001011230", "invalid_id_number"),
        ("mobile", "12345", "invalid_mobile"),
        ("name", " ", "name_required"),
    ],
)
def test_a_borrower_with_bad_details_is_refused(session: Session, field: str, value: str, code: str) -> None:
    with pytest.raises(Unprocessable) as caught:
        factories.borrower(session, **{field: value})
    assert caught.value.code == code


def test_the_same_id_number_cannot_be_registered_twice(session: Session) -> None:
    number = factories.id_number(901)
    factories.borrower(session, id_number=number)
    with pytest.raises(Conflict):
        factories.borrower(session, id_number=number)


def test_an_unknown_contact_relation_is_refused(session: Session) -> None:
    borrower = factories.borrower(session)
    with pytest.raises(Unprocessable):
        service.add_contact(
            session, actor=ADMIN, borrower_id=borrower.id, relation="boss", name="王", mobile="13700002222"
        )


def test_a_product_with_a_bad_allocation_order_or_method_is_refused(session: Session) -> None:
    with pytest.raises(Unprocessable):
        factories.product(session, allocation_order="interest,principal")
    with pytest.raises(Unprocessable):
        factories.product(session, code="X2", method="balloon")


def test_a_loan_gets_a_contract_number_and_its_schedule(session: Session, loan) -> None:  # type: ignore[no-untyped-def]
    assert loan.contract_number == f"HT20260115{loan.id:08d}"
    lines = lines_of(session, loan.id)
    assert len(lines) == 12 and sum(line.principal_fen for line in lines) == 1_200_000
    assert (loan.outstanding_principal_fen, loan.next_due_on, loan.oldest_unpaid_due_on) == (
        1_200_000,
        date(2026, 2, 15),
        date(2026, 2, 15),
    )
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "loan.create")) is not None


def test_a_loan_for_an_unknown_product_is_refused(session: Session) -> None:
    borrower = factories.borrower(session)
    with pytest.raises(NotFound):
        factories.loan(session, borrower_id=borrower.id, product_code="NOPE")


# --- repayments ------------------------------------------------------------------------------------


def test_a_repayment_pays_the_first_instalment_and_moves_the_loan_forward(session: Session, loan) -> None:  # type: ignore[no-untyped-def]
    first = lines_of(session, loan.id)[0]
    result = post(
        session, loan, first.principal_fen + first.interest_fen, date(2026, 2, 14), today=date(2026, 2, 14)
    )
    assert not result.duplicate
    assert result.repayment.allocation == [
        {
            "period": 1,
            "penalty": 0,
            "late_fee": 0,
            "interest": first.interest_fen,
            "principal": first.principal_fen,
        }
    ]
    assert first.paid_off_on == date(2026, 2, 14)
    assert loan.outstanding_principal_fen == 1_200_000 - first.principal_fen
    assert (loan.next_due_on, loan.oldest_unpaid_due_on) == (date(2026, 3, 15), date(2026, 3, 15))


def test_the_same_channel_reference_is_accepted_once(session: Session, loan) -> None:  # type: ignore[no-untyped-def]
    first = post(session, loan, 50_000, date(2026, 2, 10), reference="ALI-1")
    again = post(session, loan, 50_000, date(2026, 2, 10), reference="ALI-1")
    assert again.duplicate and again.repayment.id == first.repayment.id
    assert (
        lines_of(session, loan.id)[0].paid_interest_fen + lines_of(session, loan.id)[0].paid_principal_fen
        == 50_000
    )
    with pytest.raises(Conflict) as caught:
        post(session, loan, 60_000, date(2026, 2, 10), reference="ALI-1")
    assert caught.value.code == "reference_reused"
    # The same reference on another channel is another payment.
    assert not post(session, loan, 50_000, date(2026, 2, 10), reference="ALI-1", channel="alipay").duplicate


@pytest.mark.parametrize(
    ("changes", "error", "code"),
    [
        ({"amount": 0}, Unprocessable, "amount_not_positive"),
        ({"amount": -100}, Unprocessable, "amount_not_positive"),
        ({"amount": 100.5}, Unprocessable, "amount_not_integer"),
        ({"channel": "paypal"}, Unprocessable, "unknown_channel"),
        ({"value_date": date(2026, 1, 14)}, Unprocessable, "date_before_disbursement"),
        ({"value_date": date(2026, 12, 1)}, Unprocessable, "date_in_future"),
        ({"kind": "gift"}, Unprocessable, "unknown_repayment_kind"),
    ],
)
def test_bad_repayments_are_refused_with_a_clear_error(session: Session, loan, changes, error, code) -> None:  # type: ignore[no-untyped-def]
    arguments = {"amount": 10_000, "value_date": date(2026, 2, 1), **changes}
    with pytest.raises(error) as caught:
        post(session, loan, arguments.pop("amount"), arguments.pop("value_date"), reference="R1", **arguments)
    assert caught.value.code == code
    assert lines_of(session, loan.id)[0].paid_principal_fen == 0


def test_an_unknown_contract_is_refused(session: Session) -> None:
    with pytest.raises(NotFound):
        service.post_repayment(
            session,
            actor=AGENT,
            contract_number="HT000",
            channel="counter",
            external_reference="C1",
            amount_fen=100,
            value_date=TODAY,
            today=TODAY,
        )


def test_over_payment_becomes_credit_that_pays_the_next_instalment(session: Session, loan) -> None:  # type: ignore[no-untyped-def]
    lines = lines_of(session, loan.id)
    instalment = lines[0].principal_fen + lines[0].interest_fen
    result = post(session, loan, instalment + 30_000, date(2026, 2, 10), today=date(2026, 2, 10))
    assert result.repayment.allocation[-1] == {"credit": 30_000}
    assert loan.credit_balance_fen == 30_000 and lines[1].paid_principal_fen == 0
    # Once the first instalment falls due, the second becomes payable and the credit pays it.
    assert service.apply_credit_balances(session, business_date=date(2026, 2, 15)) == 1
    assert loan.credit_balance_fen == 0
    assert lines[1].paid_interest_fen + lines[1].paid_principal_fen == 30_000


def test_paying_every_instalment_settles_the_loan_and_issues_a_certificate(session: Session, loan) -> None:  # type: ignore[no-untyped-def]
    for line in lines_of(session, loan.id):
        post(session, loan, line.principal_fen + line.interest_fen, line.due_on, today=date(2027, 1, 20))
    assert (loan.status, loan.settled_on, loan.outstanding_principal_fen) == ("settled", date(2027, 1, 15), 0)
    certificate = service.certificate_for(session, contract_number=loan.contract_number)
    assert certificate.number == f"JQ20270115{loan.id:08d}"
    assert certificate.total_paid_fen == sum(
        line.principal_fen + line.interest_fen for line in lines_of(session, loan.id)
    )
    with pytest.raises(Conflict) as caught:
        post(session, loan, 100, date(2027, 1, 16), today=date(2027, 1, 20))
    assert caught.value.code == "loan_settled"


def test_a_written_off_loan_takes_no_repayment(session: Session, loan) -> None:  # type: ignore[no-untyped-def]
    loan.status = "written_off"
    with pytest.raises(Conflict) as caught:
        post(session, loan, 100, date(2026, 3, 1))
    assert caught.value.code == "loan_written_off"


def test_paying_the_overdue_instalments_cures_the_loan(session: Session, loan) -> None:  # type: ignore[no-untyped-def]
    lines = lines_of(session, loan.id)
    # As the close of business would have left it: two instalments overdue, penalties accrued.
    loan.status, loan.days_past_due, loan.bucket = "overdue", 36, "M2"
    lines[0].penalty_fen, lines[0].late_fee_fen = 1_500, 5_000
    owed = sum(line.principal_fen + line.interest_fen for line in lines[:2]) + 6_500
    today = date(2026, 3, 23)
    post(session, loan, owed, today, today=today)
    assert (loan.status, loan.days_past_due, loan.bucket) == ("current", 0, "M0")
    transition = session.scalar(select(BucketTransition).where(BucketTransition.loan_id == loan.id))
    assert transition is not None
    assert (transition.business_date, transition.from_bucket, transition.to_bucket) == (today, "M2", "M0")
    assert lines[0].paid_penalty_fen == 1_500 and lines[0].paid_late_fee_fen == 5_000


def test_a_partial_payment_of_overdue_amounts_does_not_cure(session: Session, loan) -> None:  # type: ignore[no-untyped-def]
    loan.status, loan.days_past_due, loan.bucket = "overdue", 5, "M1"
    post(session, loan, 10_000, date(2026, 2, 20), today=date(2026, 2, 20))
    assert (loan.status, loan.bucket) == ("overdue", "M1")


# --- early repayment ---------------------------------------------------------------------------------


def test_early_settlement_pays_the_quote_and_settles(session: Session) -> None:
    factories.product(session, code="FEE2", early_repayment_fee_percent=2)
    loan = factories.loan(session, product_code="FEE2")
    lines = lines_of(session, loan.id)
    post(
        session,
        loan,
        lines[0].principal_fen + lines[0].interest_fen,
        date(2026, 2, 15),
        today=date(2026, 2, 15),
    )
    on = date(2026, 3, 1)
    quote = service.settlement_quote(session, contract_number=loan.contract_number, on=on)
    not_due = 1_200_000 - lines[0].principal_fen
    assert quote.accrued_interest_fen == round(not_due * 0.18 * 14 / 365)
    # The 2 % fee is cut to what the 24 % cost cap leaves on the principal-days outstanding.
    cap = (1_200_000 * 31 + not_due * 14) * 24 // 36500
    room = cap - lines[0].interest_fen - quote.accrued_interest_fen
    assert quote.principal_fen == not_due and quote.fee_fen == min(round(not_due * 0.02), room) == room
    with pytest.raises(Unprocessable) as caught:
        post(session, loan, quote.total_fen - 1, on, kind="early_full", today=on)
    assert caught.value.code == "amount_below_settlement"
    result = post(session, loan, quote.total_fen, on, kind="early_full", today=on)
    assert loan.status == "settled" and loan.outstanding_principal_fen == 0
    entries = result.repayment.allocation
    assert {"early_repayment_fee": quote.fee_fen} in entries
    paid = sum(sum(e.get(k, 0) for k in ("penalty", "late_fee", "interest", "principal")) for e in entries)
    assert paid + quote.fee_fen == quote.total_fen
    assert lines[1].interest_fen == quote.accrued_interest_fen and lines[2].interest_fen == 0
    assert session.scalar(select(SettlementCertificate).where(SettlementCertificate.loan_id == loan.id))


def test_partial_prepayment_reduces_the_instalment_and_keeps_the_term(session: Session, loan) -> None:  # type: ignore[no-untyped-def]
    lines = lines_of(session, loan.id)
    old_instalment = lines[3].principal_fen + lines[3].interest_fen
    for line in lines[:2]:
        post(session, loan, line.principal_fen + line.interest_fen, line.due_on, today=line.due_on)
    on = lines[1].due_on
    quote = service.partial_quote(
        session, contract_number=loan.contract_number, on=on, prepaid_principal_fen=300_000
    )
    post(session, loan, 300_000, on, kind="early_partial", reference="PART", today=on)
    assert (
        loan.outstanding_principal_fen
        == 1_200_000 - lines[0].principal_fen - lines[1].principal_fen - 300_000
    )
    new_instalments = {
        line.principal_fen - line.paid_principal_fen + line.interest_fen for line in lines[3:-1]
    }
    assert len(new_instalments) == 1 and new_instalments.pop() < old_instalment
    assert [line.total_fen for line in quote.new_lines[1:]] == [
        line.principal_fen + line.interest_fen for line in lines[3:]
    ]
    assert sum(line.principal_fen for line in lines) == 1_200_000
    assert len(lines) == 12 and loan.status == "current"


def test_partial_prepayment_too_small_is_refused(session: Session, loan) -> None:  # type: ignore[no-untyped-def]
    loan.status = "overdue"
    with pytest.raises(Unprocessable) as caught:
        post(session, loan, 100, date(2026, 3, 1), kind="early_partial")
    assert caught.value.code == "amount_below_prepayment"


# --- reversal ---------------------------------------------------------------------------------------


def state(session: Session, loan) -> tuple:  # type: ignore[no-untyped-def,type-arg]
    session.flush()
    lines = tuple(
        (
            line.principal_fen,
            line.interest_fen,
            line.paid_principal_fen,
            line.paid_interest_fen,
            line.paid_penalty_fen,
            line.paid_late_fee_fen,
            line.paid_off_on,
        )
        for line in lines_of(session, loan.id)
    )
    return lines, loan.outstanding_principal_fen, loan.credit_balance_fen, loan.status, loan.next_due_on


def test_reversal_needs_a_reason_and_another_persons_approval(session: Session, loan) -> None:  # type: ignore[no-untyped-def]
    repayment = post(session, loan, 50_000, date(2026, 2, 10)).repayment
    with pytest.raises(Unprocessable):
        service.request_reversal(session, actor=AGENT, repayment_id=repayment.id, reason="  ")
    service.request_reversal(session, actor=AGENT, repayment_id=repayment.id, reason="重复扣款")
    with pytest.raises(Conflict):
        service.request_reversal(session, actor=AGENT, repayment_id=repayment.id, reason="again")
    with pytest.raises(Forbidden):
        service.approve_reversal(session, actor=AGENT, repayment_id=repayment.id, today=TODAY)
    service.approve_reversal(session, actor=LEAD, repayment_id=repayment.id, today=TODAY)
    assert repayment.status == "reversed" and repayment.reversal_approved_by == "team_lead"
    assert loan.outstanding_principal_fen == 1_200_000
    assert lines_of(session, loan.id)[0].paid_interest_fen == 0
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.entity_type == "loan")).all()
    assert {"repayment.post", "repayment.reversal_request", "repayment.reverse"} <= set(actions)


def test_a_rejected_reversal_leaves_the_repayment_posted(session: Session, loan) -> None:  # type: ignore[no-untyped-def]
    repayment = post(session, loan, 50_000, date(2026, 2, 10)).repayment
    service.request_reversal(session, actor=AGENT, repayment_id=repayment.id, reason="客户称未付款")
    service.reject_reversal(session, actor=LEAD, repayment_id=repayment.id, note="银行回单确认已到账")
    assert repayment.status == "posted"


def test_reversal_reallocates_every_later_repayment_and_keeps_penalties(session: Session, loan) -> None:  # type: ignore[no-untyped-def]
    lines = lines_of(session, loan.id)
    lines[0].penalty_fen = 800  # accrued by the close of business
    first = post(session, loan, 40_000, date(2026, 2, 20), today=date(2026, 3, 1)).repayment
    post(session, loan, 80_000, date(2026, 2, 25), today=date(2026, 3, 1))
    service.request_reversal(session, actor=AGENT, repayment_id=first.id, reason="退款")
    service.approve_reversal(session, actor=LEAD, repayment_id=first.id, today=date(2026, 3, 1))
    # What is left is exactly what the 80,000 alone would have done: penalty first, then interest...
    assert lines[0].penalty_fen == 800 and lines[0].paid_penalty_fen == 800
    assert lines[0].paid_interest_fen == lines[0].interest_fen
    assert lines[0].paid_principal_fen == 80_000 - 800 - lines[0].interest_fen


def test_reversing_the_settling_repayment_reopens_the_loan(session: Session, loan) -> None:  # type: ignore[no-untyped-def]
    on = date(2026, 1, 20)
    quote = service.settlement_quote(session, contract_number=loan.contract_number, on=on)
    repayment = post(session, loan, quote.total_fen, on, kind="early_full", today=on).repayment
    assert loan.status == "settled"
    service.request_reversal(session, actor=AGENT, repayment_id=repayment.id, reason="支付失败")
    service.approve_reversal(session, actor=LEAD, repayment_id=repayment.id, today=on)
    assert (loan.status, loan.settled_on, loan.outstanding_principal_fen) == ("current", None, 1_200_000)
    assert sum(line.interest_fen for line in lines_of(session, loan.id)) > quote.accrued_interest_fen
    with pytest.raises(NotFound):
        service.certificate_for(session, contract_number=loan.contract_number)


def test_a_back_dated_repayment_is_allocated_in_value_date_order(session: Session, loan) -> None:  # type: ignore[no-untyped-def]
    other = factories.loan(session)
    payments = [(30_000, date(2026, 2, 10)), (90_000, date(2026, 3, 12)), (70_000, date(2026, 2, 28))]
    for amount, day in payments:
        post(session, loan, amount, day, today=date(2026, 3, 20))
    for amount, day in sorted(payments, key=lambda p: p[1]):
        post(session, other, amount, day, today=date(2026, 3, 20))
    assert state(session, loan) == state(session, other)


def test_reversal_then_repost_gives_the_same_state(session: Session) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    factories.product(session)
    today = date(2027, 2, 1)
    payment = st.tuples(st.integers(1, 150_000), st.integers(0, 380))

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(payments=st.lists(payment, min_size=1, max_size=6), data=st.data())
    def check(payments, data) -> None:  # type: ignore[no-untyped-def]
        reversed_index = data.draw(st.integers(0, len(payments) - 1))
        start = date(2026, 1, 15)
        subject, control = factories.loan(session), factories.loan(session)
        posted = []
        for index, (amount, offset) in enumerate(payments):
            day = date.fromordinal(start.toordinal() + offset)
            for target in (subject, control):
                if target.status == "settled":
                    continue
                result = post(session, target, amount, day, reference=f"{target.id}-{index}", today=today)
                if target is subject:
                    posted.append(result.repayment)
        if reversed_index >= len(posted):
            return
        victim = posted[reversed_index]
        service.request_reversal(session, actor=AGENT, repayment_id=victim.id, reason="测试冲正")
        service.approve_reversal(session, actor=LEAD, repayment_id=victim.id, today=today)
        post(
            session,
            subject,
            victim.amount_fen,
            victim.value_date,
            reference=f"{subject.id}-again",
            today=today,
        )
        assert state(session, subject) == state(session, control)
        for line in lines_of(session, subject.id):
            assert min(line.paid_principal_fen, line.paid_interest_fen) >= 0
            assert line.paid_principal_fen <= line.principal_fen
        assert subject.outstanding_principal_fen >= 0 and subject.credit_balance_fen >= 0

    check()


# --- search and 360 -------------------------------------------------------------------------------------


@pytest.fixture
def family(session: Session, loan):  # type: ignore[no-untyped-def]
    borrower = service.borrower_360(session, borrower_id=loan.borrower_id, role="admin", today=TODAY)
    service.add_contact(
        session,
        actor=ADMIN,
        borrower_id=loan.borrower_id,
        relation="emergency",
        name="王芳",
        mobile="13600003333",
    )
    return borrower


def test_agents_see_masked_id_numbers_and_third_party_phones(session: Session, loan, family) -> None:  # type: ignore[no-untyped-def]
    view = service.borrower_360(session, borrower_id=loan.borrower_id, role="agent", today=TODAY)
    assert view.id_number == family.id_number[:3] + "*" * 11 + family.id_number[-4:]
    assert view.mobile == family.mobile  # agents call the borrower
    emergency = next(c for c in view.contacts if c.relation == "emergency")
    assert emergency.mobile == "136****3333"
    assert view.address is not None and view.address.endswith("****")
    full = service.borrower_360(session, borrower_id=loan.borrower_id, role="compliance", today=TODAY)
    assert full.id_number == family.id_number
    assert next(c for c in full.contacts if c.relation == "emergency").mobile == "13600003333"
    qa = service.borrower_360(session, borrower_id=loan.borrower_id, role="qa", today=TODAY)
    assert qa.mobile == family.mobile[:3] + "****" + family.mobile[-4:]


def test_the_360_shows_schedule_states_balances_repayments_and_bucket_history(session: Session, loan) -> None:  # type: ignore[no-untyped-def]
    lines = lines_of(session, loan.id)
    post(
        session,
        loan,
        lines[0].principal_fen + lines[0].interest_fen,
        date(2026, 2, 15),
        today=date(2026, 2, 15),
    )
    # Posted on 2026-03-20, the 2026-03-15 instalment still owes: the loan is found 5 days past due.
    post(session, loan, 10_000, date(2026, 3, 20), today=date(2026, 3, 20))
    view = service.borrower_360(session, borrower_id=loan.borrower_id, role="agent", today=date(2026, 3, 25))
    (loan_view,) = view.loans
    assert [line.state for line in loan_view.lines[:4]] == ["paid", "overdue", "unpaid", "unpaid"]
    assert loan_view.overdue_fen == lines[1].principal_fen + lines[1].interest_fen - 10_000
    assert [r.amount_fen for r in loan_view.repayments] == [
        10_000,
        lines[0].principal_fen + lines[0].interest_fen,
    ]
    assert [(b.from_bucket, b.to_bucket, b.days_past_due) for b in loan_view.bucket_history] == [
        ("M0", "M1", 5)
    ]
    assert (loan_view.status, loan_view.bucket, loan_view.days_past_due) == ("overdue", "M1", 5)
    assert view.overdue_fen == loan_view.overdue_fen


def test_borrowers_are_found_by_name_phone_id_tail_and_contract(session: Session, loan, family) -> None:  # type: ignore[no-untyped-def]
    factories.borrower(session, name="张伟强")
    by_name = service.search_borrowers(session, query="张伟", role="agent")
    assert {hit.name for hit in by_name} == {"张伟", "张伟强"}
    (by_phone,) = service.search_borrowers(session, query=family.mobile, role="agent")
    assert by_phone.contracts == [loan.contract_number]
    (by_tail,) = service.search_borrowers(session, query=family.id_number[-6:], role="agent")
    assert by_tail.id == loan.borrower_id and "*" in by_tail.id_number
    (by_contract,) = service.search_borrowers(session, query=loan.contract_number.lower(), role="agent")
    assert by_contract.id == loan.borrower_id
    assert service.search_borrowers(session, query="13600003333", role="agent") == []  # a third party's phone
    assert service.search_borrowers(session, query="   ", role="agent") == []


def test_nothing_can_be_prepaid_once_every_instalment_is_due(session: Session, loan) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Unprocessable) as caught:
        post(session, loan, 5_000_000, date(2027, 2, 1), kind="early_partial", today=date(2027, 2, 1))
    assert caught.value.code == "nothing_to_prepay"


def test_a_bullet_loan_with_a_set_maturity_replays_from_its_own_schedule(session: Session) -> None:
    factories.product(session, code="BUL6", method="bullet", term=6)
    bullet = factories.loan(session, product_code="BUL6", first_due_on=date(2026, 5, 1))
    (line,) = lines_of(session, bullet.id)
    scheduled = (line.principal_fen, line.interest_fen)
    repayment = post(
        session, bullet, 100_000, date(2026, 3, 1), kind="early_partial", today=date(2026, 3, 1)
    ).repayment
    assert line.principal_fen == scheduled[0] and line.interest_fen < scheduled[1]
    service.request_reversal(session, actor=AGENT, repayment_id=repayment.id, reason="测试")
    service.approve_reversal(session, actor=LEAD, repayment_id=repayment.id, today=date(2026, 3, 1))
    assert (line.principal_fen, line.interest_fen, line.due_on) == (*scheduled, date(2026, 5, 1))


def test_a_posting_answers_its_repayment_as_the_one_the_session_holds(session: Session, loan) -> None:  # type: ignore[no-untyped-def]
    """The result's ORM repayment is made on first use; if the session read the row meanwhile, it is
    that object — one repayment per row in the session, whichever way the caller reached it."""
    first = post(session, loan, 10_000, TODAY, "RESULT-1")
    assert first.repayment.id == first.posted.id and first.repayment in session
    assert first.repayment.allocation == first.posted.allocation
    second = post(session, loan, 10_000, TODAY, "RESULT-2")
    read = session.get(Repayment, second.posted.id)
    assert read is not None and second.repayment is read
    again = post(session, loan, 10_000, TODAY, "RESULT-1")
    assert again.duplicate and again.repayment is first.repayment
