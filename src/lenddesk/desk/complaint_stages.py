"""The complaint stage machine and its deadlines (《银行业保险业消费投诉处理管理办法》). Pure.

Five stages are recorded in order — receive, confirm, analyse, resolve, feedback — none skipped.
Acknowledgment is due within N business days of receipt, resolution within 15 calendar days; a
complex case may be extended to 30 days, then to 60 with the approval of a second, senior person,
one step at a time, each with a reason and only before the current deadline has passed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from lenddesk.core.calendar import SHANGHAI, CalendarUnknownYear, WorkCalendar, business_date
from lenddesk.core.errors import Conflict, Forbidden, Unprocessable
from lenddesk.desk.sla import with_guessed_years

STAGES = ("receive", "confirm", "analyse", "resolve", "feedback")
STAGE_LABELS = {
    "receive": "受理",
    "confirm": "确认",
    "analyse": "分析",
    "resolve": "处理",
    "feedback": "反馈",
}
ROOT_CAUSES: dict[str, str] = {
    "product_design": "产品设计",
    "pricing_fees": "息费定价",
    "collection_conduct": "催收行为",
    "service_attitude": "服务态度",
    "system_failure": "系统故障",
    "process": "业务流程",
    "information_disclosure": "信息披露",
    "customer_misunderstanding": "客户误解",
    "fraud": "欺诈冒用",
    "other": "其他",
}
SOURCES = ("customer", "regulator", "media", "lawyer")
AGE_BUCKETS = ("0-1d", "2-7d", "8-15d", "16-30d", ">30d")


class StageSkipped(Unprocessable):
    default_code = "complaint_stage_skipped"


def next_stage(done: Sequence[str]) -> str | None:
    """The stage to record next, or None when all five are done."""
    return STAGES[len(done)] if len(done) < len(STAGES) else None


def check_advance(done: Sequence[str], stage: str) -> None:
    """Refuse an unknown, repeated or skipped stage with a clear message."""
    if stage not in STAGES:
        raise Unprocessable(
            f"未知的投诉处理环节：{stage}（可选：{'、'.join(STAGES)}）",
            f"Unknown complaint stage: {stage} (one of: {', '.join(STAGES)})",
            code="complaint_stage_unknown",
        )
    expected = next_stage(done)
    if expected is None or stage in done:
        raise Unprocessable(
            f"投诉环节「{STAGE_LABELS[stage]}」已记录",
            f"The complaint stage {stage} is already recorded",
            code="complaint_stage_repeated",
        )
    if stage != expected:
        raise StageSkipped(
            f"不能跳过投诉环节：下一步应为「{STAGE_LABELS[expected]}」，而不是「{STAGE_LABELS[stage]}」",
            f"A complaint cannot skip a stage: the next stage is {expected}, not {stage}",
            details={"expected": expected, "requested": stage},
        )


def end_of_day(day: date) -> datetime:
    """The last instant of a Shanghai calendar day, as an aware datetime."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=SHANGHAI)


def acknowledgment_due(received_at: datetime, business_days: int, calendar: WorkCalendar) -> datetime:
    """End of the N-th workday after receipt (weekday-only guess for a year nobody knows yet)."""
    try:
        day = calendar.add_workdays(business_date(received_at), business_days)
    except CalendarUnknownYear:
        day = with_guessed_years(calendar, received_at).add_workdays(
            business_date(received_at), business_days
        )
    return end_of_day(day)


def resolution_due(received_at: datetime, days: int) -> datetime:
    return end_of_day(business_date(received_at) + timedelta(days=days))


@dataclass(frozen=True)
class ExtensionRule:
    complex_days: int
    senior_days: int

    def next_step(self, current_days: int) -> int | None:
        """The one extension allowed from `current_days` (15 → 30 → 60), or None after the last."""
        return next((days for days in (self.complex_days, self.senior_days) if days > current_days), None)

    def needs_approval(self, days: int) -> bool:
        return days == self.senior_days


def check_before_deadline(due_at: datetime, now: datetime) -> None:
    """An extension is asked and approved before the deadline passes; after it, the case is overdue."""
    if now > due_at:
        raise Conflict(
            "投诉处理期限已过，不能再延期（已计入逾期）",
            "The complaint's deadline has passed; it can no longer be extended (it counts as overdue)",
            code="complaint_extension_too_late",
            details={"due_at": due_at.isoformat()},
        )


def check_extension(
    *,
    current_days: int,
    requested_days: int,
    reason: str,
    due_at: datetime,
    now: datetime,
    rule: ExtensionRule,
) -> None:
    """One step at a time (15 → 30, then 30 → 60), before the deadline, always with a reason."""
    check_before_deadline(due_at, now)
    step = rule.next_step(current_days)
    if step is None:
        raise Unprocessable(
            f"投诉处理期限已是 {current_days} 天，不能再延期",
            f"The complaint already has {current_days} days; it cannot be extended further",
            code="complaint_extension_days",
        )
    if requested_days != step:
        raise Unprocessable(
            f"投诉处理期限只能逐级延长：当前 {current_days} 天，下一步只能延至 {step} 天",
            f"Extensions go one step at a time: from {current_days} days the next step is {step} days",
            code="complaint_extension_days",
            details={"current_days": current_days, "next_days": step},
        )
    if not reason.strip():
        raise Unprocessable(
            "延期必须填写原因", "An extension needs a reason", code="complaint_extension_reason"
        )


def check_approval(
    *, requester_id: int | None, approver_id: int | None, approver_role: str, senior_roles: Sequence[str]
) -> None:
    """Four eyes: a person of a senior role approves, and not the person who asked."""
    if approver_role != "admin" and approver_role not in senior_roles:
        raise Forbidden(
            "延期需由组长或合规人员批准",
            f"Only a senior role ({', '.join(senior_roles)}) may approve an extension",
            code="complaint_extension_needs_approval",
        )
    if approver_id is None or approver_id == requester_id:
        raise Forbidden(
            "申请人不能批准自己的延期申请（需另一位上级审批）",
            "The person who asked for an extension cannot approve it; another senior person must",
            code="complaint_extension_four_eyes",
        )


def check_close(done: Sequence[str], root_cause: str) -> None:
    missing = [stage for stage in STAGES if stage not in done]
    if missing:
        raise StageSkipped(
            f"投诉尚有环节未完成：{'、'.join(STAGE_LABELS[s] for s in missing)}",
            f"The complaint still has stages to record: {', '.join(missing)}",
            details={"missing": missing},
        )
    if root_cause not in ROOT_CAUSES:
        raise Unprocessable(
            f"未知的根因代码：{root_cause}",
            f"Unknown root-cause code: {root_cause} (one of: {', '.join(ROOT_CAUSES)})",
            code="complaint_root_cause_unknown",
        )


def age_bucket(received_at: datetime, now: datetime) -> str:
    days = (business_date(now) - business_date(received_at)).days
    if days <= 1:
        return "0-1d"
    if days <= 7:
        return "2-7d"
    if days <= 15:
        return "8-15d"
    if days <= 30:
        return "16-30d"
    return ">30d"


ALERT_LABELS = {
    "complaint_d3": "距处理期限还有 3 天",
    "complaint_d1": "距处理期限还有 1 天",
    "complaint_breach": "已超过处理期限",
}


def alert_due(due_at: datetime, now: datetime) -> str | None:
    """The alert an open complaint calls for now: D-3 and D-1 (Shanghai calendar days) and on breach."""
    if now > due_at:
        return "complaint_breach"
    days_left = (business_date(due_at) - business_date(now)).days
    if days_left <= 1:
        return "complaint_d1"
    if days_left <= 3:
        return "complaint_d3"
    return None
