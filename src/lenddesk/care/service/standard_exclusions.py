"""The care room's own exclusions (care/exclusions.py), in the order a borrower is counted under.

Each reads the owning room's set-based read interface: consents and sends here; opt-outs and
complaints from the desk; overdue loans, the contact window, addresses and the repayment record from
the ledger; dispute holds and the day's collection contacts from collections; the blacklist and the
score band from risk.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from lenddesk.care.exclusions import (
    Excluded,
    ExclusionContext,
    Required,
    RowCondition,
    Verdict,
    register_exclusion,
)
from lenddesk.care.models import Profile, Send
from lenddesk.care.service.consents import consented_borrower_ids
from lenddesk.collections import service as collections
from lenddesk.desk import service as desk
from lenddesk.ledger import service as ledger
from lenddesk.risk import service as risk

REASON_LABELS_ZH = {
    "no_consent": "未同意接收",
    "opted_out": "已退订",
    "blacklisted": "风险名单",  # never the word the outbound texts avoid
    "overdue": "有逾期",
    "open_complaint": "投诉未结",
    "dispute_hold": "争议暂停",
    "active_incident": "应急事件中",
    "collection_contact_today": "当日已有催收联系",
    "marketing_cap": "30 天内营销已达上限",
    "outside_window": "不在联系时段",
    "no_address": "无该渠道联系方式",
    "not_good_credit": "近 12 期未全部按时还款",
    "risk_band_not_low": "风险等级非低",
    "not_personalised": "未开启个性化推荐",
}


def _no_consent(context: ExclusionContext, audience: Any) -> Verdict | None:
    if context.purpose is None:
        return None
    return Required(consented_borrower_ids(context.purpose, context.channel))


def _opted_out(context: ExclusionContext, audience: Any) -> Verdict | None:
    # A marketing opt-out stops greetings and offers only; one of scope `all` stops everything.
    scopes = ("all", "marketing") if context.marketing else ("all",)
    return Excluded(desk.opted_out_borrower_ids(context.channel, scopes))


def _blacklisted(context: ExclusionContext, audience: Any) -> Verdict | None:
    return Excluded(risk.blacklisted_borrower_ids())


def _overdue(context: ExclusionContext, audience: Any) -> Verdict | None:
    return Excluded(ledger.overdue_borrower_ids())


def _open_complaint(context: ExclusionContext, audience: Any) -> Verdict | None:
    return Excluded(desk.open_complaint_borrower_ids())


def _dispute_hold(context: ExclusionContext, audience: Any) -> Verdict | None:
    return Excluded(collections.held_borrower_ids())


def _collection_contact_today(context: ExclusionContext, audience: Any) -> Verdict | None:
    return Excluded(collections.contacted_borrower_ids(context.day))


def _marketing_cap(context: ExclusionContext, audience: Any) -> Verdict | None:
    if not context.marketing:
        return None
    since = context.now - timedelta(days=context.policy.marketing_window_days)
    capped = (
        select(Send.borrower_id)
        .where(Send.marketing.is_(True), Send.sent_at > since)
        .group_by(Send.borrower_id)
        .having(func.count() >= context.policy.marketing_cap)
    )
    return Excluded(capped)


def _outside_window(context: ExclusionContext, audience: Any) -> Verdict | None:
    default = ledger.parse_window(context.policy.default_contact_window)
    assert default is not None  # the policy validates the shape
    return RowCondition(ledger.outside_window_condition(audience.c.contact_time, context.hhmm, default))


def _no_address(context: ExclusionContext, audience: Any) -> Verdict | None:
    condition = ledger.unreachable_condition(audience, context.channel)
    return None if condition is None else RowCondition(condition)


def _not_good_credit(context: ExclusionContext, audience: Any) -> Verdict | None:
    if context.kind != "offer":
        return None
    return Required(ledger.good_credit_borrower_ids(context.policy.good_credit_instalments, context.day))


def _risk_band_not_low(context: ExclusionContext, audience: Any) -> Verdict | None:
    if context.kind != "offer":
        return None
    return Required(risk.borrower_ids_in_band("low"))


def _not_personalised(context: ExclusionContext, audience: Any) -> Verdict | None:
    if context.kind != "offer":
        return None
    return Required(select(Profile.borrower_id).where(Profile.personalised.is_(True)))


for _order, (_reason, _builder) in enumerate(
    (
        ("no_consent", _no_consent),
        ("opted_out", _opted_out),
        ("blacklisted", _blacklisted),
        ("overdue", _overdue),
        ("open_complaint", _open_complaint),
        ("dispute_hold", _dispute_hold),
        # order 65: the incidents room's `active_incident` (registered from its own module)
        ("collection_contact_today", _collection_contact_today),
        ("marketing_cap", _marketing_cap),
        ("outside_window", _outside_window),
        ("no_address", _no_address),
        ("not_good_credit", _not_good_credit),
        ("risk_band_not_low", _risk_band_not_low),
        ("not_personalised", _not_personalised),
    )
):
    register_exclusion(_reason, _builder, order=10 * (_order + 1))
