"""Plan options, pure: properties over generated loans (hypothesis) and a few exact facts."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lenddesk.core.policy import NegotiationPolicy
from lenddesk.ledger import costcap
from lenddesk.ledger.schedule import add_months, generate_schedule
from lenddesk.negotiation import agreement_chain, plans

ON = date(2026, 11, 24)


def loan_state(
    principal: int, rate: Decimal, term: int, paid: int, overdue: int, penalty: int, late_fee: int
) -> plans.LoanState:
    """A loan whose first `paid` instalments are paid and the next `overdue` are past due on ON."""
    paid, overdue = min(paid, term), min(overdue, term - min(paid, term))
    disbursed = add_months(date(ON.year, ON.month, 5), -(paid + overdue))
    schedule = generate_schedule(
        principal_fen=principal,
        annual_rate=rate,
        term=term,
        method="equal_instalment",
        start_date=disbursed,
        rounding="half_up",
    )
    lines, repaid_days = [], 0
    for index, line in enumerate(schedule):
        is_paid, is_overdue = index < paid, paid <= index < paid + overdue
        if is_paid:
            repaid_days += line.principal_fen * (line.due_on - disbursed).days
        lines.append(
            plans.LineState(
                period=line.period,
                due_on=line.due_on,
                principal=0 if is_paid else line.principal_fen,
                interest=0 if is_paid else line.interest_fen,
                penalty=penalty if is_overdue else 0,
                late_fee=late_fee if is_overdue else 0,
                charged_interest=line.interest_fen,
                charged_penalty=penalty if is_overdue else 0,
                charged_late_fee=late_fee if is_overdue else 0,
                touched=is_paid,
            )
        )
    return plans.LoanState(
        contract_number="HT1",
        annual_rate=rate,
        disbursed_on=disbursed,
        cap_ppm=costcap.cap_ppm_of(Decimal("0.24"), Decimal("0.24")),
        principal_days_repaid=repaid_days,
        early_repayment_fees_fen=0,
        lines=tuple(lines),
    )


def terms(policy: NegotiationPolicy | None = None) -> plans.Terms:
    return plans.Terms(
        policy=policy or NegotiationPolicy(), rounding="half_up", waiver_single_approval_fen=10_000
    )


loans = st.builds(
    loan_state,
    principal=st.integers(min_value=100_000, max_value=50_000_000),
    rate=st.sampled_from([Decimal("0.0365"), Decimal("0.12"), Decimal("0.18"), Decimal("0.2399")]),
    term=st.sampled_from([6, 12, 24, 36]),
    paid=st.integers(min_value=0, max_value=20),
    overdue=st.integers(min_value=0, max_value=5),
    penalty=st.integers(min_value=0, max_value=50_000),
    late_fee=st.integers(min_value=0, max_value=10_000),
)
capacities = st.integers(min_value=1, max_value=5_000_000)


def within_cap_now(state: plans.LoanState) -> bool:
    """The generated state itself keeps the cap (as the close of business keeps every loan)."""
    lines = state.lines
    cost = sum(
        line.charged_penalty + line.charged_late_fee + (line.charged_interest if line.due_on <= ON else 0)
        for line in lines
    )
    outstanding = sum(line.principal for line in lines)
    room = costcap.headroom_fen(
        cap_ppm=state.cap_ppm,
        principal_days_now=costcap.principal_days(
            state.principal_days_repaid, outstanding, state.disbursed_on, ON
        ),
        on=ON,
        cost_fen=cost,
        future=[(line.due_on, line.principal, line.interest) for line in lines if line.due_on > ON],
    )
    return room >= 0


@settings(max_examples=120, deadline=None)
@given(loans, capacities)
def test_reinstalment_restructures_exactly_the_outstanding_principal(
    state: plans.LoanState, capacity: int
) -> None:
    outstanding = plans.outstanding_on(state, ON)
    assume(outstanding.principal > 0)
    comparison = plans.plan_options(state, on=ON, capacity_fen=capacity, terms=terms())
    for option in comparison.options:
        if option.restructures:
            assert sum(line.principal for line in option.lines) == outstanding.principal, option.slug
            # penalties and late fees move (less what is waived), never grow
            waived = {grant.component: grant.amount for grant in option.waivers}
            assert sum(line.penalty for line in option.lines) == outstanding.penalty - waived.get(
                "penalty", 0
            )
            assert sum(line.late_fee for line in option.lines) == outstanding.late_fee - waived.get(
                "late_fee", 0
            )


@settings(max_examples=120, deadline=None)
@given(loans, capacities)
def test_proposed_term_fits_the_capacity_when_any_term_can(state: plans.LoanState, capacity: int) -> None:
    assume(plans.outstanding_on(state, ON).principal > 0)
    policy = NegotiationPolicy()
    comparison = plans.plan_options(state, on=ON, capacity_fen=capacity, terms=terms(policy))
    option = next(option for option in comparison.options if option.kind == "reinstalment")
    fitting = [
        term
        for term in policy.reinstalment_terms
        if max(
            line.total
            for line in plans.fit_cap(state, ON, plans.reinstalment_lines(state, ON, term, terms()))[0]
        )
        <= capacity
    ]
    if fitting:
        assert option.fits_capacity and option.monthly_amount <= capacity
        assert option.term == min(fitting)  # the shortest that fits: the least interest
    else:
        assert not option.fits_capacity and option.term == max(policy.reinstalment_terms)


@settings(max_examples=120, deadline=None)
@given(loans, capacities)
def test_the_cost_cap_holds_after_any_plan(state: plans.LoanState, capacity: int) -> None:
    assume(within_cap_now(state))
    comparison = plans.plan_options(state, on=ON, capacity_fen=capacity, terms=terms())
    for option in comparison.options:
        if option.restructures:
            assert plans.cap_room(state, ON, option.lines) >= 0, option.slug


def test_authority_matrix_levels() -> None:
    policy = NegotiationPolicy()

    def level(grant: plans.Grant) -> str:
        return plans.approval_level(grant, policy, extensions_used=0, waiver_single_approval_fen=10_000)

    assert level(plans.Grant(extension_months=1)) == "agent"
    assert level(plans.Grant(extension_months=2)) == "team_lead"
    assert level(plans.Grant(waiver_fen=9_000, waiver_base_fen=30_000)) == "agent"  # 30 %, under ¥100
    assert level(plans.Grant(waiver_fen=9_001, waiver_base_fen=30_000)) == "team_lead"  # over 30 %
    assert level(plans.Grant(waiver_fen=20_000, waiver_base_fen=100_000)) == "team_lead"  # ledger's ¥100 rule
    assert level(plans.Grant(reinstalment_months=24)) == "team_lead"
    assert level(plans.Grant(reinstalment_months=36)) == "compliance"
    assert level(plans.Grant(interest_suspension=True, reinstalment_months=12)) == "compliance"
    assert (
        plans.approval_level(
            plans.Grant(extension_months=1), policy, extensions_used=1, waiver_single_approval_fen=10_000
        )
        == "team_lead"
    )


def test_extensions_stop_at_the_policy_limit() -> None:
    state = replace(loan_state(3_600_000, Decimal("0.18"), 36, 9, 3, 4_000, 1_000), extensions_used=2)
    comparison = plans.plan_options(state, on=ON, capacity_fen=200_000, terms=terms())
    assert not [option for option in comparison.options if option.kind == "extension"]


def test_pros_and_cons_state_the_numbers() -> None:
    state = loan_state(3_600_000, Decimal("0.18"), 36, 9, 3, 4_000, 1_000)
    comparison = plans.plan_options(state, on=ON, capacity_fen=110_000, terms=terms())
    option = next(option for option in comparison.options if option.kind == "reinstalment")
    assert option.term == 36 and option.monthly_amount < comparison.continue_monthly
    assert any(text.startswith("月供降至¥") for text in option.pros_zh)
    assert any("总利息增加¥" in text for text in option.cons_zh)
    assert option.conditions_zh[0].startswith("需在") and "前支付首期¥" in option.conditions_zh[0]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.text(min_size=1, max_size=30), min_size=1, max_size=6),
    st.data(),
)
def test_changing_any_byte_of_any_record_is_named(texts: list[str], data: st.DataObject) -> None:
    records, previous = [], agreement_chain.GENESIS
    for index, body in enumerate(texts, start=1):
        record = {
            "seq": index,
            "number": f"XY20261124{index:06d}",
            "case_id": index,
            "proposal_id": index,
            "loan_id": index,
            "kind": "reinstalment",
            "content": agreement_chain.canonical({"evidence_text": body}),
            "text_zh": f"协议 {body}",
        }
        record["previous_sha256"] = previous
        record["sha256"] = previous = agreement_chain.chain_hash(record, previous)
        records.append(record)
    assert agreement_chain.verify_chain(records).ok
    victim = data.draw(st.integers(min_value=0, max_value=len(records) - 1))
    field = data.draw(st.sampled_from(["content", "text_zh", "sha256", "previous_sha256", "kind"]))
    original = records[victim][field]
    position = data.draw(st.integers(min_value=0, max_value=len(original) - 1))
    replacement = data.draw(st.characters(codec="utf-8").filter(lambda char: char != original[position]))
    records[victim] = {**records[victim], field: original[:position] + replacement + original[position + 1 :]}
    check = agreement_chain.verify_chain(records)
    assert not check.ok and check.first_tampered == records[victim]["number"]
