"""Pure rules: categorisation, the complaint stage machine and deadlines, macros, routing."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lenddesk.core.calendar import SHANGHAI, WorkCalendar
from lenddesk.core.errors import Conflict, Forbidden, Unprocessable
from lenddesk.desk import categorise, complaint_stages, disclosure, macros, routing

# --- categorisation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "category", "severity"),
    [
        ("有人冒用我的身份借款，不是我借的", "fraud", "P1"),
        ("催收天天骚扰我的家人", "collection_conduct", "P2"),
        ("我还款了但是没有入账", "repayment_failed", "P2"),
        ("失业了，想协商延期", "hardship", "P3"),
        ("我想提前结清", "early_settlement", "P3"),
        ("征信上有逾期记录要求更正", "credit_report", "P3"),
        ("滞纳金和罚息太多了", "fee_dispute", "P3"),
        ("这个月还款日是哪天", "repayment_question", "P4"),
        ("你好", "other", "P4"),
    ],
)
def test_keywords_suggest_a_category_and_severity(text: str, category: str, severity: str) -> None:
    suggestion = categorise.suggest(text)
    assert (suggestion.category, suggestion.severity) == (category, severity)


@pytest.mark.parametrize(
    ("word", "source"),
    [
        ("监管", "regulator"),
        ("银保监", "regulator"),
        ("金融监管总局", "regulator"),
        ("12378", "regulator"),
        ("黑猫投诉", "media"),
        ("媒体", "media"),
        ("律师", "lawyer"),
        ("起诉", "lawyer"),
    ],
)
def test_naming_a_regulator_the_media_or_a_lawyer_raises_severity(word: str, source: str) -> None:
    plain = categorise.suggest("这个月还款日是哪天")
    escalated = categorise.suggest(f"这个月还款日是哪天，不回复我就找{word}")
    assert source in escalated.escalations and escalated.is_complaint
    assert categorise.SEVERITIES.index(escalated.severity) < categorise.SEVERITIES.index(plain.severity)
    assert escalated.severity in ("P1", "P2")
    assert escalated.flagged == (source in ("regulator", "media"))


@given(text=st.text(max_size=40), word=st.sampled_from(["监管", "12378", "黑猫投诉", "律师", "起诉", "媒体"]))
def test_escalation_words_never_lower_severity(text: str, word: str) -> None:
    plain, escalated = categorise.suggest(text), categorise.suggest(text + word)
    assert categorise.SEVERITIES.index(escalated.severity) <= categorise.SEVERITIES.index(plain.severity)
    assert escalated.severity in ("P1", "P2")


@given(text=st.text(max_size=40))
def test_a_fraud_report_is_always_p1(text: str) -> None:
    assert categorise.suggest("有人冒用我的身份" + text).severity == "P1"


# --- complaints -----------------------------------------------------------------------------------


def test_stages_cannot_be_skipped_repeated_or_unknown() -> None:
    complaint_stages.check_advance(["receive"], "confirm")
    with pytest.raises(complaint_stages.StageSkipped) as skipped:
        complaint_stages.check_advance(["receive"], "analyse")
    assert skipped.value.details == {"expected": "confirm", "requested": "analyse"}
    with pytest.raises(Unprocessable):
        complaint_stages.check_advance(["receive"], "receive")
    with pytest.raises(Unprocessable):
        complaint_stages.check_advance(["receive"], "escalate")


@given(requested=st.lists(st.sampled_from(complaint_stages.STAGES), max_size=8))
def test_only_the_stages_in_order_are_ever_accepted(requested: list[str]) -> None:
    done = ["receive"]
    for stage in requested:
        try:
            complaint_stages.check_advance(done, stage)
        except Unprocessable:
            continue
        done.append(stage)
    assert done == list(complaint_stages.STAGES[: len(done)])


def test_acknowledgment_is_due_by_the_end_of_the_next_business_day() -> None:
    friday = datetime(2026, 11, 27, 15, 0, tzinfo=SHANGHAI)
    assert complaint_stages.acknowledgment_due(friday, 1, WorkCalendar()) == datetime(
        2026, 11, 30, 23, 59, 59, tzinfo=SHANGHAI
    )
    before_golden_week = datetime(2026, 9, 30, 15, 0, tzinfo=SHANGHAI)
    assert (
        complaint_stages.acknowledgment_due(before_golden_week, 1, WorkCalendar()).date().isoformat()
        == "2026-10-08"
    )


def test_resolution_is_due_15_calendar_days_after_receipt() -> None:
    received = datetime(2026, 9, 30, 15, 0, tzinfo=SHANGHAI)
    assert complaint_stages.resolution_due(received, 15) == datetime(
        2026, 10, 15, 23, 59, 59, tzinfo=SHANGHAI
    )


RULE = complaint_stages.ExtensionRule(30, 60)
DUE = datetime(2026, 12, 9, 23, 59, 59, tzinfo=SHANGHAI)
BEFORE_DUE = datetime(2026, 12, 9, 18, 0, tzinfo=SHANGHAI)


def extend(current: int, requested: int, reason: str = "复杂", now: datetime = BEFORE_DUE) -> None:
    complaint_stages.check_extension(
        current_days=current, requested_days=requested, reason=reason, due_at=DUE, now=now, rule=RULE
    )


def test_extensions_go_one_step_at_a_time_with_a_reason_before_the_deadline() -> None:
    extend(15, 30)
    extend(30, 60)
    for current, requested in ((15, 60), (15, 45), (30, 30), (60, 90), (30, 15)):
        with pytest.raises(Unprocessable) as refused:
            extend(current, requested)
        assert refused.value.code == "complaint_extension_days"
    with pytest.raises(Unprocessable):
        extend(15, 30, reason=" ")
    with pytest.raises(Conflict) as late:
        extend(15, 30, now=DUE + timedelta(seconds=1))
    assert late.value.code == "complaint_extension_too_late"
    assert RULE.needs_approval(60) and not RULE.needs_approval(30)


@given(current=st.sampled_from([15, 30, 60]), requested=st.integers(min_value=-(2**70), max_value=2**70))
def test_only_the_next_step_is_ever_accepted(current: int, requested: int) -> None:
    step = RULE.next_step(current)
    try:
        extend(current, requested)
    except Unprocessable:
        assert requested != step
    else:
        assert requested == step and step is not None


def test_an_extension_is_approved_by_another_person_of_a_senior_role() -> None:
    seniors = ["team_lead", "compliance"]
    complaint_stages.check_approval(
        requester_id=1, approver_id=2, approver_role="compliance", senior_roles=seniors
    )
    complaint_stages.check_approval(
        requester_id=1, approver_id=2, approver_role="admin", senior_roles=seniors
    )
    with pytest.raises(Forbidden) as own:
        complaint_stages.check_approval(
            requester_id=2, approver_id=2, approver_role="team_lead", senior_roles=seniors
        )
    assert own.value.code == "complaint_extension_four_eyes"
    with pytest.raises(Forbidden) as junior:
        complaint_stages.check_approval(
            requester_id=1, approver_id=2, approver_role="agent", senior_roles=seniors
        )
    assert junior.value.code == "complaint_extension_needs_approval"


@pytest.mark.parametrize(
    ("now", "kind"),
    [
        (datetime(2026, 12, 5, 23, 0, tzinfo=SHANGHAI), None),
        (datetime(2026, 12, 6, 0, 0, tzinfo=SHANGHAI), "complaint_d3"),
        (datetime(2026, 12, 7, 12, 0, tzinfo=SHANGHAI), "complaint_d3"),
        (datetime(2026, 12, 8, 9, 0, tzinfo=SHANGHAI), "complaint_d1"),
        (datetime(2026, 12, 9, 23, 59, 59, tzinfo=SHANGHAI), "complaint_d1"),
        (datetime(2026, 12, 10, 0, 0, tzinfo=SHANGHAI), "complaint_breach"),
    ],
)
def test_deadline_alerts_at_d3_d1_and_breach(now: datetime, kind: str | None) -> None:
    assert complaint_stages.alert_due(DUE, now) == kind


def test_age_buckets() -> None:
    received = datetime(2026, 11, 1, 10, 0, tzinfo=SHANGHAI)
    ages = [complaint_stages.age_bucket(received, received.replace(day=day)) for day in (1, 2, 5, 16, 25)]
    assert ages == ["0-1d", "0-1d", "2-7d", "8-15d", "16-30d"]


# --- macros ---------------------------------------------------------------------------------------

TEMPLATE = "{borrower_name}您好，本期应还 {amount_due} 元。工单 {ticket_number}"
VALUES = {"borrower_name": "张伟", "amount_due": "1050.00", "ticket_number": "T20261124-000001"}


def test_account_variables_are_refused_below_the_required_level() -> None:
    with pytest.raises(macros.VerificationRequired) as refused:
        macros.fill(TEMPLATE, VALUES, level="none", required_level="basic")
    assert refused.value.details == {"required": "basic", "current": "none"}


@given(have=st.sampled_from(macros.LEVELS), need=st.sampled_from(macros.LEVELS))
def test_filling_succeeds_exactly_when_the_level_allows(have: str, need: str) -> None:
    try:
        text = macros.fill(TEMPLATE, VALUES, level=have, required_level=need)
    except macros.VerificationRequired:
        assert macros.LEVELS.index(have) < macros.LEVELS.index(need)
    else:
        assert macros.LEVELS.index(have) >= macros.LEVELS.index(need)
        assert text == "张伟您好，本期应还 1050.00 元。工单 T20261124-000001"


def test_public_macros_need_no_verification_and_unknown_variables_are_refused() -> None:
    assert (
        macros.fill("工单 {ticket_number}", VALUES, level="none", required_level="strong")
        == "工单 T20261124-000001"
    )
    with pytest.raises(Unprocessable):
        macros.fill("{password}", VALUES, level="strong", required_level="basic")
    with pytest.raises(Unprocessable):
        macros.fill("{ticket_number", VALUES, level="strong", required_level="basic")


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("本期应还 1,050.00 元", True),
        ("¥300", True),
        ("合同 HT20260105001", True),
        ("还款日 12月5日", True),
        ("2026-12-05 前还款", True),
        ("请提供身份证后六位", False),
        ("我们会在 3 个工作日内回复", False),
    ],
)
def test_account_data_in_free_text_is_recognised(text: str, found: bool) -> None:
    assert bool(disclosure.find_account_data(text)) is found


# --- routing --------------------------------------------------------------------------------------


def slot(user_id: int, load: int, status: str = "online", capacity: int = 5) -> routing.AgentSlot:
    return routing.AgentSlot(user_id, status, capacity, load)


def test_least_loaded_online_agent_with_room_gets_the_ticket() -> None:
    agents = [slot(1, 3), slot(2, 1), slot(3, 0, "away"), slot(4, 5, capacity=5)]
    assert routing.choose_agent(agents, None) == 2
    assert routing.choose_agent([slot(1, 5, capacity=5), slot(2, 0, "offline")], None) is None


def test_ties_go_round_robin() -> None:
    agents = [slot(1, 2), slot(2, 2), slot(3, 2)]
    assert [routing.choose_agent(agents, last) for last in (None, 1, 2, 3)] == [1, 2, 3, 1]


@given(loads=st.lists(st.integers(0, 5), min_size=1, max_size=6), last=st.none() | st.integers(0, 7))
def test_the_chosen_agent_is_never_busier_than_another_eligible_one(
    loads: list[int], last: int | None
) -> None:
    agents = [slot(index + 1, load) for index, load in enumerate(loads)]
    chosen = routing.choose_agent(agents, last)
    eligible = [a for a in agents if a.load < a.capacity]
    if not eligible:
        assert chosen is None
    else:
        assert chosen is not None
        assert next(a for a in agents if a.user_id == chosen).load == min(a.load for a in eligible)


def test_team_by_skill_and_flagged_complaints_to_the_complaints_team() -> None:
    teams = [
        routing.TeamSkills(1, "general", frozenset({"*", "repayment_question"})),
        routing.TeamSkills(2, "repayment", frozenset({"hardship"})),
        routing.TeamSkills(3, "complaints", frozenset({"complaint"})),
    ]
    pick = routing.choose_team
    assert pick(teams, "hardship", flagged=False, complaints_team="complaints").code == "repayment"
    assert pick(teams, "fraud", flagged=False, complaints_team="complaints").code == "general"
    assert pick(teams, "hardship", flagged=True, complaints_team="complaints").code == "complaints"
    assert pick([], "hardship", flagged=False, complaints_team="complaints") is None
