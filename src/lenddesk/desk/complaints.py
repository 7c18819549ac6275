"""The complaint stage machine and its deadlines (《银行业保险业消费投诉处理管理办法》). Pure.

Five stages are recorded in order — receive, confirm, analyse, resolve, feedback — none skipped.
Acknowledgment is due within N business days of receipt, resolution within 15 calendar days; a
complex case may be extended to 30 days, and with senior approval to 60, each with a reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from lenddesk.core.calendar import SHANGHAI, CalendarUnknownYear, WorkCalendar, business_date
from lenddesk.core.errors import Forbidden, Unprocessable
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


def check_extension(
    *, current_days: int, requested_days: int, reason: str, senior_approved: bool, rule: ExtensionRule
) -> None:
    """An extension goes to 30 days for a complex case, or 60 with senior approval; always with a reason."""
    if requested_days not in (rule.complex_days, rule.senior_days):
        raise Unprocessable(
            f"延期只能延至 {rule.complex_days} 天或 {rule.senior_days} 天",
            f"A complaint can only be extended to {rule.complex_days} or {rule.senior_days} days",
            code="complaint_extension_days",
        )
    if requested_days <= current_days:
        raise Unprocessable(
            f"投诉处理期限已是 {current_days} 天，不能再延至 {requested_days} 天",
            f"The complaint already has {current_days} days; cannot extend to {requested_days}",
            code="complaint_extension_not_longer",
        )
    if not reason.strip():
        raise Unprocessable(
            "延期必须填写原因", "An extension needs a reason", code="complaint_extension_reason"
        )
    if requested_days == rule.senior_days and not senior_approved:
        raise Forbidden(
            f"延至 {rule.senior_days} 天需要上级（组长或合规）批准",
            f"Extending to {rule.senior_days} days needs senior approval (team lead or compliance)",
            code="complaint_extension_needs_approval",
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
