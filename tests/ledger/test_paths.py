"""Recoveries on written-off loans, refunds of credit with four eyes, and waivers (SQLite)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from lenddesk.core import audit
from lenddesk.core.db import session_factory
from lenddesk.core.errors import Conflict, Forbidden, Unprocessable
from lenddesk.core.models import AuditEntry
from lenddesk.core.policy import Policy
from lenddesk.ledger import service
from lenddesk.ledger.cob import run_cob
from lenddesk.ledger.models import Repayment, SettlementCertificate
from tests.ledger.paths_support import (
    AGENT,
    COLLECTOR,
    FIRST_DUE,
    LEAD,
    LEAD2,
    close_until,
    concurrent_recoveries,
    concurrent_refund_approvals,
    concurrent_waivers,
    lines_of,
    loan_of,
    new_loan,
    overpaid_loan,
    pay,
    write_off,
)

TODAY = FIRST_DUE + timedelta(days=10)  # the first instalment is 10 days late: late fee and penalty


def actions(session: Session, loan_id: int) -> list[str]:
    return list(
        session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.entity_type == "loan", AuditEntry.entity_id == str(loan_id))
            .order_by(AuditEntry.id)
        )
    )


# --- recoveries ------------------------------------------------------------------------------------


def recover(session: Session, contract: str, amount_fen: int, reference: str, on: date = date(2026, 9, 2)):  # type: ignore[no-untyped-def]
    return service.post_recovery(
        session,
        actor=COLLECTOR,
        contract_number=contract,
        channel="bank_transfer",
        external_reference=reference,
        amount_fen=amount_fen,
        value_date=on,
        today=on,
    )


def test_a_recovery_is_kept_apart_and_the_loan_stays_written_off_until_covered(
    engine: Engine, session: Session
) -> None:
    contract = new_loan(engine)
    write_off(engine, contract, date(2026, 9, 1))
    loan = loan_of(session, contract)
    lines_before = [(line.paid_principal_fen, line.paid_interest_fen) for line in lines_of(session, loan.id)]
    owed = service.written_off_balance_fen(session, loan)

    first = recover(session, contract, 100_000, "R1")
    session.commit()
    assert not first.duplicate
    loan = loan_of(session, contract)
    assert loan.status == "written_off"
    assert service.recovered_fen(session, loan.id) == 100_000
    assert session.scalar(select(func.count(Repayment.id)).where(Repayment.loan_id == loan.id)) == 0
    assert [
        (line.paid_principal_fen, line.paid_interest_fen) for line in lines_of(session, loan.id)
    ] == lines_before
    view = service.loan_detail(session, contract_number=contract, today=date(2026, 9, 2))
    assert view.recovered_fen == 100_000 and [r.external_reference for r in view.recoveries] == ["R1"]

    again = recover(session, contract, 100_000, "R1")
    assert again.duplicate and again.recovery.id == first.recovery.id
    with pytest.raises(Conflict) as reused:
        recover(session, contract, 100_001, "R1")
    assert reused.value.code == "reference_reused"

    recover(session, contract, owed - 100_000 + 555, "R2")  # 5.55 more than owed
    session.commit()
    loan = loan_of(session, contract)
    assert (loan.status, loan.settled_on, loan.credit_balance_fen) == ("settled", date(2026, 9, 2), 555)
    certificate = session.scalar(
        select(SettlementCertificate).where(SettlementCertificate.loan_id == loan.id)
    )
    assert certificate is not None and certificate.total_paid_fen == owed + 555
    assert actions(session, loan.id).count("loan.recovery") == 2
    book = service.recovery_book(session)
    assert (book.written_off_loans, book.loans_with_recoveries, book.recoveries) == (1, 1, 2)
    assert book.recovered_fen == owed + 555


def test_a_recovery_on_a_loan_not_written_off_is_refused(engine: Engine, session: Session) -> None:
    contract = new_loan(engine)
    with pytest.raises(Conflict) as refused:
        recover(session, contract, 100, "R9")
    assert refused.value.code == "loan_not_written_off"
    session.rollback()  # a refused request ends its transaction (and gives back the loan's lock)
    write_off(engine, contract, date(2026, 9, 1))
    with pytest.raises(Unprocessable) as early:
        recover(session, contract, 100, "R9", on=date(2026, 8, 31))
    assert early.value.code == "recovery_date_out_of_range"
    for amount in (0, -5, 2**64, True):
        with pytest.raises(Unprocessable):
            recover(session, contract, amount, "R10")  # type: ignore[arg-type]


def test_a_written_off_loan_from_the_close_of_business_takes_recoveries(
    engine: Engine, session: Session
) -> None:
    contract = new_loan(engine)
    close_until(engine, FIRST_DUE + timedelta(days=200))
    loan = loan_of(session, contract)
    assert loan.status == "written_off"
    recover(session, contract, 12_345, "COB1", on=FIRST_DUE + timedelta(days=200))
    session.commit()
    assert service.recovered_fen(session, loan.id) == 12_345


def test_recoveries_at_once_are_each_counted_once(engine: Engine) -> None:
    result = concurrent_recoveries(engine)
    assert result["refused"] == 0
    assert result["recovered"] == result["posted"] == result["rows"] * (result["owed"] // 5)
    assert result["settled"] == 1
    assert result["credit"] == result["recovered"] - result["owed"]


# --- refunds of credit ---------------------------------------------------------------------------------


def test_a_refund_needs_a_second_person_and_pays_exactly_once(engine: Engine, session: Session) -> None:
    contract = overpaid_loan(engine, 30_000)
    refund, duplicate = service.request_refund(
        session, actor=AGENT, contract_number=contract, amount_fen=25_000, reference="ABC", reason="客户多还"
    )
    session.commit()
    assert (refund.status, duplicate) == ("requested", False)
    again, duplicate = service.request_refund(
        session, actor=AGENT, contract_number=contract, amount_fen=25_000, reference="ABC", reason="客户多还"
    )
    assert (again.id, duplicate) == (refund.id, True)
    with pytest.raises(Conflict):
        service.request_refund(
            session, actor=AGENT, contract_number=contract, amount_fen=1, reference="ABC", reason="x"
        )
    with pytest.raises(Forbidden) as agent:
        service.approve_refund(session, actor=audit.Actor(None, "agent2", "agent"), refund_id=refund.id)
    assert agent.value.code == "role_forbidden"
    own, _ = service.request_refund(
        session, actor=LEAD, contract_number=contract, amount_fen=1_000, reference="OWN", reason="客户多还"
    )
    with pytest.raises(Forbidden) as self_approval:
        service.approve_refund(session, actor=LEAD, refund_id=own.id)
    assert self_approval.value.code == "own_request"
    session.rollback()

    paid, duplicate = service.approve_refund(session, actor=LEAD2, refund_id=refund.id)
    session.commit()
    assert (paid.status, paid.decided_by, duplicate) == ("paid", "lead2", False)
    assert loan_of(session, contract).credit_balance_fen == 5_000
    _, duplicate = service.approve_refund(session, actor=LEAD, refund_id=refund.id)
    assert duplicate and loan_of(session, contract).credit_balance_fen == 5_000
    with pytest.raises(Conflict) as too_much:
        service.request_refund(
            session, actor=AGENT, contract_number=contract, amount_fen=5_001, reference="MORE", reason="再退"
        )
    assert too_much.value.code == "refund_exceeds_credit"
    assert "refund.pay" in actions(session, loan_of(session, contract).id)


def test_a_refund_larger_than_what_is_left_at_approval_is_refused(engine: Engine, session: Session) -> None:
    contract = overpaid_loan(engine, 30_000)
    first, _ = service.request_refund(
        session, actor=AGENT, contract_number=contract, amount_fen=20_000, reference="A", reason="多还"
    )
    second, _ = service.request_refund(
        session, actor=AGENT, contract_number=contract, amount_fen=20_000, reference="B", reason="多还"
    )
    service.approve_refund(session, actor=LEAD, refund_id=first.id)
    session.commit()
    with pytest.raises(Conflict) as refused:
        service.approve_refund(session, actor=LEAD, refund_id=second.id)
    assert refused.value.code == "refund_exceeds_credit"
    session.rollback()
    rejected = service.reject_refund(session, actor=LEAD, refund_id=second.id, note="余额不足")
    session.commit()
    assert rejected.status == "rejected" and loan_of(session, contract).credit_balance_fen == 10_000


def test_a_reversal_keeps_refunds_out_of_the_rebuilt_credit(engine: Engine, session: Session) -> None:
    contract = overpaid_loan(engine, 30_000)
    refund, _ = service.request_refund(
        session, actor=AGENT, contract_number=contract, amount_fen=10_000, reference="A", reason="多还"
    )
    service.approve_refund(session, actor=LEAD, refund_id=refund.id)
    pay(session, contract, 7_000, FIRST_DUE + timedelta(days=1), "EXTRA")
    session.commit()
    assert loan_of(session, contract).credit_balance_fen == 27_000
    extra = session.scalar(select(Repayment).where(Repayment.external_reference == "EXTRA"))
    service.request_reversal(session, actor=AGENT, repayment_id=extra.id, reason="重复入账")
    service.approve_reversal(session, actor=LEAD, repayment_id=extra.id, today=FIRST_DUE + timedelta(days=1))
    session.commit()
    assert loan_of(session, contract).credit_balance_fen == 20_000  # 30 000 − 10 000 refunded, not 30 000

    first = session.scalar(select(Repayment).where(Repayment.external_reference == f"P{contract}"))
    service.request_reversal(session, actor=AGENT, repayment_id=first.id, reason="退票")
    with pytest.raises(Conflict) as refused:
        service.approve_reversal(
            session, actor=LEAD, repayment_id=first.id, today=FIRST_DUE + timedelta(days=1)
        )
    assert refused.value.code == "refund_exceeds_credit"


def test_refund_approvals_at_once_never_pay_twice_or_below_zero(engine: Engine) -> None:
    result = concurrent_refund_approvals(engine)
    assert result["same_paid_once"] == 1
    assert result["credit"] >= 0
    assert result["credit"] + result["paid"] == 50_000
    assert result["paid"] == 50_000  # 100.00 and two of 200.00 fit in 500.00; the rest were refused
    assert result["refused"] == 3


# --- waivers -------------------------------------------------------------------------------------------


@pytest.fixture
def late(engine: Engine) -> str:
    contract = new_loan(engine)
    close_until(engine, TODAY)
    return contract


def test_a_small_waiver_applies_at_once_and_shows_in_the_history(session: Session, late: str) -> None:
    loan = loan_of(session, late)
    line = lines_of(session, loan.id)[0]
    assert line.late_fee_fen == 3000 and line.penalty_fen > 0
    waiver = service.waive(
        session,
        loan_id=loan.id,
        component="late_fee",
        amount_fen=2000,
        reason="首次逾期",
        requested_by=AGENT,
        today=TODAY,
    )
    session.commit()
    assert (waiver.status, waiver.approved_by, waiver.allocation) == (
        "applied",
        "agent",
        [{"period": 1, "amount": 2000}],
    )
    assert lines_of(session, loan.id)[0].waived_late_fee_fen == 2000
    view = service.loan_detail(session, contract_number=late, today=TODAY)
    assert view.lines[0].waived_fen == 2000
    assert [(w.component, w.amount_fen, w.reason) for w in view.waivers] == [("late_fee", 2000, "首次逾期")]
    assert "waiver.applied" in actions(session, loan.id)


def test_a_large_waiver_needs_a_different_approver_of_an_approving_role(session: Session, late: str) -> None:
    loan = loan_of(session, late)
    interest = service.waivable_fen(lines_of(session, loan.id), "interest", TODAY)
    assert interest > Policy().ledger.waiver_single_approval_fen

    def waive(**approval: object):  # type: ignore[no-untyped-def]
        return service.waive(
            session,
            loan_id=loan.id,
            component="interest",
            amount_fen=interest,
            reason="协商还款",
            requested_by=AGENT,
            today=TODAY,
            **approval,  # type: ignore[arg-type]
        )

    for approval, code in (
        ({}, "approval_required"),
        ({"approved_by": AGENT}, "role_forbidden"),
        ({"approved_by": audit.Actor(None, "collector", "collector")}, "role_forbidden"),
        ({"approved_by": audit.Actor(None, "agent", "team_lead")}, "own_request"),
    ):
        with pytest.raises(Forbidden) as refused:
            waive(**approval)
        assert refused.value.code == code
    waiver = waive(approved_by=LEAD)
    session.commit()
    assert (waiver.requested_by, waiver.approved_by) == ("agent", "team_lead")
    assert service.waivable_fen(lines_of(session, loan.id), "interest", TODAY) == 0


def test_a_waiver_never_takes_a_line_below_zero(session: Session, late: str) -> None:
    loan = loan_of(session, late)
    before = [(line.waived_penalty_fen, line.waived_late_fee_fen) for line in lines_of(session, loan.id)]
    owed = service.waivable_fen(lines_of(session, loan.id), "penalty", TODAY)
    with pytest.raises(Unprocessable) as refused:
        service.waive(
            session,
            loan_id=loan.id,
            component="penalty",
            amount_fen=owed + 1,
            reason="x",
            requested_by=LEAD,
            approved_by=LEAD2,
            today=TODAY,
        )
    assert refused.value.code == "waiver_exceeds_owed"
    for component, amount, reason in (
        ("principal", 1, "x"),
        ("late_fee", 1, "  "),
        ("late_fee", 1, "\ud800"),
    ):
        with pytest.raises(Unprocessable):
            service.waive(
                session,
                loan_id=loan.id,
                component=component,
                amount_fen=amount,
                reason=reason,
                requested_by=AGENT,
                today=TODAY,
            )
    session.rollback()
    assert [
        (line.waived_penalty_fen, line.waived_late_fee_fen) for line in lines_of(session, loan.id)
    ] == before


def test_waived_interest_lets_the_close_of_business_cure_the_loan(
    engine: Engine, session: Session, late: str
) -> None:
    loan = loan_of(session, late)
    line = lines_of(session, loan.id)[0]
    service.waive(
        session,
        loan_id=loan.id,
        component="interest",
        amount_fen=line.interest_fen,
        reason="利息减免",
        requested_by=AGENT,
        approved_by=LEAD,
        today=TODAY,
    )
    session.commit()
    line = lines_of(session, loan.id)[0]
    rest = line.principal_fen + line.penalty_fen + line.late_fee_fen
    pay(session, late, rest, TODAY, "REST")
    session.commit()
    run_cob(engine, TODAY + timedelta(days=1), policy=Policy())
    loan = loan_of(session, late)
    assert lines_of(session, loan.id)[0].paid_off_on == TODAY
    assert (loan.status, loan.days_past_due) == ("current", 0)


def test_a_waiver_survives_the_reversal_of_an_earlier_payment(session: Session, late: str) -> None:
    loan = loan_of(session, late)
    pay(session, late, 100, TODAY, "SMALL")  # pays 1.00 of the penalty (penalty comes first)
    penalty = service.waivable_fen(lines_of(session, loan.id), "penalty", TODAY)
    service.waive(
        session,
        loan_id=loan.id,
        component="penalty",
        amount_fen=penalty,
        reason="减免罚息",
        requested_by=LEAD,
        approved_by=LEAD2,
        today=TODAY,
    )
    session.commit()
    small = session.scalar(select(Repayment).where(Repayment.external_reference == "SMALL"))
    service.request_reversal(session, actor=AGENT, repayment_id=small.id, reason="错账")
    service.approve_reversal(session, actor=LEAD, repayment_id=small.id, today=TODAY)
    session.commit()
    lines = lines_of(session, loan.id)
    assert lines[0].waived_penalty_fen == penalty
    assert service.waivable_fen(lines, "penalty", TODAY) == 100  # only what the reversed payment had paid


def test_a_held_waiver_applies_only_when_approved(session: Session, late: str) -> None:
    loan = loan_of(session, late)
    held = (
        service.request_waiver(
            session,
            actor=AGENT,
            contract_number=late,
            component="penalty",
            amount_fen=10_001,
            reason="协商",
            today=TODAY,
        )
        if service.waivable_fen(lines_of(session, loan.id), "penalty", TODAY) >= 10_001
        else None
    )
    interest = service.waivable_fen(lines_of(session, loan.id), "interest", TODAY)
    held = held or service.request_waiver(
        session,
        actor=AGENT,
        contract_number=late,
        component="interest",
        amount_fen=interest,
        reason="协商",
        today=TODAY,
    )
    session.commit()
    assert held.status == "requested" and held.approved_by is None
    assert service.waivable_fen(lines_of(session, loan.id), held.component, TODAY) >= held.amount_fen
    with pytest.raises(Forbidden):
        service.approve_waiver(
            session, actor=audit.Actor(None, "agent", "team_lead"), waiver_id=held.id, today=TODAY
        )
    approved = service.approve_waiver(session, actor=LEAD, waiver_id=held.id, today=TODAY)
    session.commit()
    assert (approved.status, approved.approved_by, approved.applied_on) == ("applied", "team_lead", TODAY)
    with pytest.raises(Conflict):
        service.approve_waiver(session, actor=LEAD2, waiver_id=held.id, today=TODAY)


def test_waivers_at_once_never_forgive_more_than_is_owed(engine: Engine) -> None:
    result = concurrent_waivers(engine)
    assert result["applied"] == result["on_lines"] == 3000
    assert (result["ok"], result["refused"], result["left"]) == (3, 3, 0)


# --- property: whatever mix of payments and waivers, no line goes below zero and nothing is lost ----

_operation = st.one_of(
    st.tuples(st.just("pay"), st.integers(min_value=1, max_value=300_000)),
    st.tuples(
        st.sampled_from(["penalty", "late_fee", "interest"]), st.integers(min_value=1, max_value=40_000)
    ),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(_operation, min_size=1, max_size=8))
def test_payments_and_waivers_in_any_order_keep_every_line_whole(
    engine: Engine, operations: list[tuple[str, int]]
) -> None:
    contract = new_loan(engine, product_code="PROP")
    with session_factory(engine)() as session:
        loan = loan_of(session, contract)
        for line in lines_of(session, loan.id)[:2]:  # what the close of business would have charged
            line.penalty_fen, line.late_fee_fen = 4_321, 3_000
        session.commit()
        paid_in = waived = 0
        for index, (kind, amount) in enumerate(operations):
            try:
                if kind == "pay":
                    pay(session, contract, amount, TODAY, f"H{contract}-{index}")
                    paid_in += amount
                else:
                    service.waive(
                        session,
                        loan_id=loan.id,
                        component=kind,
                        amount_fen=amount,
                        reason="性质测试",
                        requested_by=LEAD,
                        approved_by=LEAD2,
                        today=TODAY,
                    )
                    waived += amount
                session.commit()
            except (Unprocessable, Conflict):
                session.rollback()
        loan = loan_of(session, contract)
        lines = lines_of(session, loan.id)
        for line in lines:
            assert line.paid_penalty_fen + line.waived_penalty_fen <= line.penalty_fen
            assert line.paid_late_fee_fen + line.waived_late_fee_fen <= line.late_fee_fen
            assert line.paid_interest_fen + line.waived_interest_fen <= line.interest_fen
            assert line.paid_principal_fen <= line.principal_fen
        on_lines = sum(
            line.waived_penalty_fen + line.waived_late_fee_fen + line.waived_interest_fen for line in lines
        )
        assert on_lines == waived
        paid_on_lines = sum(
            line.paid_penalty_fen + line.paid_late_fee_fen + line.paid_interest_fen + line.paid_principal_fen
            for line in lines
        )
        assert paid_on_lines + loan.credit_balance_fen == paid_in  # money in = allocated + credit
