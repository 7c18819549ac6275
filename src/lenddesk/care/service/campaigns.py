"""Care campaigns: draft, preview (who is eligible, who is left out and why), four-eyes approval,
launch through the desk's outbox (idempotent per campaign and borrower), results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, case, func, literal, select, union_all, update
from sqlalchemy.orm import Session

from lenddesk.care import festivals, texts
from lenddesk.care.exclusions import Excluded, ExclusionContext, Required, RowCondition, registered_exclusions
from lenddesk.care.models import Campaign, Send
from lenddesk.care.service._common import CHANNELS, care_policy, insert_for, sender_name
from lenddesk.collections import guard
from lenddesk.collections import service as collections
from lenddesk.core import audit
from lenddesk.core.calendar import business_date, to_shanghai
from lenddesk.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from lenddesk.core.roles import admits
from lenddesk.desk import service as desk
from lenddesk.ledger import service as ledger
from lenddesk.ledger.locking import begin_write
from lenddesk.risk import service as risk

SEGMENTS = ("all", "good_credit", "low_risk")
STATUSES = ("draft", "approved", "launched")
STATUS_LABELS_ZH = {"draft": "草稿", "approved": "已批准", "launched": "已发送"}
KIND_LABELS_ZH = {"greeting": "节日问候", "education": "金融教育", "offer": "优惠活动", "revisit": "回访关怀"}
NAME_MAX = 100
AUDIENCE_IDS_MAX = 100_000
CARE_KIND = "care"  # the outbox kind of a service care message (education, revisit)


@dataclass(frozen=True)
class Preview:
    campaign_id: int
    audience: int
    eligible: int
    excluded: dict[str, int]


@dataclass(frozen=True)
class LaunchResult:
    campaign_id: int
    queued: int  # borrowers queued by this launch
    already: int  # eligible borrowers an earlier launch reached
    status: str


@dataclass(frozen=True)
class Results:
    campaign_id: int
    sends: int
    launches: int
    delivery: dict[str, int]


# A launch's sends get their outbox ids in one executemany.
_sends = Send.__table__
_SET_OUTBOX_ID = (
    update(_sends).where(_sends.c.id == bindparam("send_id")).values(outbox_id=bindparam("queued_as"))
)


# --- drafting ------------------------------------------------------------------------------------------


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise Unprocessable(
            f"活动名称须为 1–{NAME_MAX} 字", f"The name needs 1–{NAME_MAX} characters", code="bad_name"
        )
    return name


def _check_kind_and_channel(kind: str, channel: str) -> None:
    if kind not in texts.KINDS:
        raise Unprocessable(
            f"活动类型须为 {'、'.join(texts.KINDS)} 之一",
            f"kind must be one of {', '.join(texts.KINDS)}",
            code="unknown_kind",
        )
    if channel not in CHANNELS:
        raise Unprocessable(
            f"渠道须为 {'、'.join(CHANNELS)} 之一",
            f"channel must be one of {', '.join(CHANNELS)}",
            code="unknown_channel",
        )


def check_text(text: str, kind: str) -> None:
    problems = texts.text_problems(text, kind=kind, sender=sender_name())
    if problems:
        raise Unprocessable(
            "；".join(problem.message_zh for problem in problems),
            "; ".join(problem.message_en for problem in problems),
            code=problems[0].code,
            details={"problems": [problem.code for problem in problems]},
        )


def _check_audience(audience: dict[str, Any]) -> dict[str, Any]:
    ids = audience.get("borrower_ids")
    segment = audience.get("segment")
    if ids is not None and segment is not None:
        raise Unprocessable(
            "受众只能指定借款人列表或分群之一",
            "Give either borrower_ids or a segment, not both",
            code="bad_audience",
        )
    if ids is not None:
        if not ids or len(ids) > AUDIENCE_IDS_MAX or any(not isinstance(i, int) or i < 1 for i in ids):
            raise Unprocessable(
                f"借款人列表须为 1–{AUDIENCE_IDS_MAX} 个正整数编号",
                f"borrower_ids needs 1–{AUDIENCE_IDS_MAX} positive ids",
                code="bad_audience",
            )
        return {"borrower_ids": sorted(set(ids))}
    segment = segment or "all"
    if segment not in SEGMENTS:
        raise Unprocessable(
            f"分群须为 {'、'.join(SEGMENTS)} 之一",
            f"segment must be one of {', '.join(SEGMENTS)}",
            code="bad_audience",
        )
    return {"segment": segment}


def _send_on(kind: str, send_on: date | None, festival: str | None, today: date) -> date | None:
    if festival is not None:
        if kind != "greeting":
            raise Unprocessable(
                "只有节日问候可指定节日", "Only a greeting names a festival", code="bad_festival"
            )
        if festival not in festivals.FESTIVALS:
            raise Unprocessable(
                f"未知节日：{festival}", f"Unknown festival {festival!r}", code="bad_festival"
            )
        send_on = send_on or festivals.next_festival(festival, today)
    if send_on is not None and send_on < today:
        raise Unprocessable("发送日期不能早于今天", "send_on is in the past", code="bad_send_on")
    return send_on


def create_campaign(
    session: Session,
    *,
    actor: audit.Actor,
    name: str,
    kind: str,
    channel: str,
    text: str,
    audience: dict[str, Any],
    send_on: date | None,
    festival: str | None = None,
    now: datetime,
) -> Campaign:
    """A draft: checked now (kind, channel, text, audience, date) so that approval judges a valid one."""
    name = _check_name(name)
    _check_kind_and_channel(kind, channel)
    check_text(text, kind)
    audience = _check_audience(audience)
    send_on = _send_on(kind, send_on, festival, business_date(now))
    campaign = Campaign(
        name=name,
        kind=kind,
        channel=channel,
        text=text,
        audience=audience,
        send_on=send_on,
        festival=festival,
        status="draft",
        created_by_id=actor.user_id,
        created_by=actor.name,
        launches=0,
        sent=0,
        created_at=now,
    )
    session.add(campaign)
    session.flush()
    audit.record(
        session,
        actor,
        "care.campaign.create",
        ("care_campaign", campaign.id),
        None,
        {"name": name, "kind": kind, "channel": channel, "audience": audience, "send_on": send_on},
    )
    return campaign


def get_campaign(session: Session, *, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(
            f"关怀活动不存在：{campaign_id}", f"No such campaign: {campaign_id}", code="campaign_not_found"
        )
    return campaign


def list_campaigns(session: Session, *, status: str | None = None, limit: int = 100) -> list[Campaign]:
    statement = select(Campaign).order_by(Campaign.id.desc()).limit(limit)
    if status is not None:
        statement = statement.where(Campaign.status == status)
    return list(session.scalars(statement))


# --- eligibility -------------------------------------------------------------------------------------


def _context(campaign: Campaign, now: datetime, session: Session) -> ExclusionContext:
    local = to_shanghai(now)
    return ExclusionContext(
        campaign_id=campaign.id,
        kind=campaign.kind,
        channel=campaign.channel,
        purpose=texts.PURPOSE_OF_KIND[campaign.kind],
        marketing=campaign.kind in texts.MARKETING_KINDS,
        now=now,
        day=local.date(),
        hhmm=local.strftime("%H:%M"),
        policy=care_policy(),
        session=session,
    )


def _audience(campaign: Campaign, context: ExclusionContext) -> Any:
    rows = ledger.contact_rows()
    borrower = rows.selected_columns.borrower_id
    ids = campaign.audience.get("borrower_ids")
    segment = campaign.audience.get("segment", "all")
    if ids:
        rows = rows.where(borrower.in_(ids))
    elif segment == "good_credit":
        instalments = context.policy.good_credit_instalments
        rows = rows.where(borrower.in_(ledger.good_credit_borrower_ids(instalments, context.day)))
    elif segment == "low_risk":
        rows = rows.where(borrower.in_(risk.borrower_ids_in_band("low")))
    return rows.subquery("audience")


ELIGIBLE = 1_000_000  # above every exclusion's order: "no reason"


def _least(session: Session, parts: list[Any]) -> Any:
    if len(parts) == 1:
        return parts[0]
    # SQLite's min() of several arguments is the scalar minimum; PostgreSQL spells it LEAST.
    return func.least(*parts) if session.get_bind().dialect.name == "postgresql" else func.min(*parts)


def _judged(session: Session, campaign: Campaign, context: ExclusionContext) -> tuple[Any, dict[int, str]]:
    """A subquery: every borrower of the audience (`borrower_id`) with the order of the first
    exclusion that leaves them out (`first`, ELIGIBLE for none), and the reasons by order.

    One statement: the `Excluded` sets become one list of (borrower, first order) joined once, each
    `Required` set is joined once, row conditions are evaluated on the audience's own columns."""
    audience = _audience(campaign, context)
    borrower = audience.c.borrower_id
    reasons: dict[int, str] = {}
    excluded: list[Any] = []
    source: Any = audience
    candidates: list[Any] = []
    for exclusion in registered_exclusions():
        verdict = exclusion.build(context, audience)
        if verdict is None:
            continue
        reasons[exclusion.order] = exclusion.reason
        order = literal(exclusion.order)
        if isinstance(verdict, Excluded):
            ids = verdict.ids.subquery()
            excluded.append(select(ids.c[0].label("borrower_id"), order.label("first")))
        elif isinstance(verdict, Required):
            kept = (
                select(verdict.ids.subquery().c[0].label("borrower_id"))
                .distinct()
                .subquery(f"kept_{len(reasons)}")
            )
            source = source.outerjoin(kept, kept.c.borrower_id == borrower)
            candidates.append(case((kept.c.borrower_id.is_(None), order), else_=ELIGIBLE))
        elif isinstance(verdict, RowCondition):
            candidates.append(case((verdict.condition, order), else_=ELIGIBLE))
    if excluded:
        listed = union_all(*excluded).subquery("listed")
        flags = (
            select(listed.c.borrower_id, func.min(listed.c.first).label("first"))
            .group_by(listed.c.borrower_id)
            .subquery("flags")
        )
        source = source.outerjoin(flags, flags.c.borrower_id == borrower)
        candidates.append(func.coalesce(flags.c.first, ELIGIBLE))
    first = _least(session, candidates) if candidates else literal(ELIGIBLE)
    judged = (
        select(borrower.label("borrower_id"), first.label("first")).select_from(source).subquery("judged")
    )
    return judged, reasons


def preview(session: Session, *, campaign_id: int, now: datetime) -> Preview:
    """Who the campaign would reach if launched now, and how many are left out for which reason."""
    campaign = get_campaign(session, campaign_id=campaign_id)
    judged, reasons = _judged(session, campaign, _context(campaign, now, session))
    rows = session.execute(select(judged.c.first, func.count()).group_by(judged.c.first)).all()
    excluded = {reasons[int(first)]: int(count) for first, count in rows if int(first) != ELIGIBLE}
    eligible = next((int(count) for first, count in rows if int(first) == ELIGIBLE), 0)
    return Preview(campaign.id, eligible + sum(excluded.values()), eligible, excluded)


# --- approval and launch --------------------------------------------------------------------------------


def _lock_campaign(session: Session, campaign_id: int) -> Campaign:
    begin_write(session)
    campaign = session.scalar(
        select(Campaign)
        .where(Campaign.id == campaign_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if campaign is None:
        raise NotFound(
            f"关怀活动不存在：{campaign_id}", f"No such campaign: {campaign_id}", code="campaign_not_found"
        )
    return campaign


def approve_campaign(session: Session, *, actor: audit.Actor, campaign_id: int, now: datetime) -> Campaign:
    """Compliance (policy `campaign_approver_roles`, admins too) approves a draft; never its creator."""
    if not admits(actor.role, care_policy().campaign_approver_roles):
        raise Forbidden(
            "只有合规人员可以批准关怀活动", "Only compliance approves a campaign", code="not_an_approver"
        )
    campaign = _lock_campaign(session, campaign_id)
    if (
        actor.user_id is not None and actor.user_id == campaign.created_by_id
    ) or actor.name == campaign.created_by:
        raise Forbidden(
            "不能批准自己创建的活动", "The creator cannot approve their own campaign", code="four_eyes"
        )
    if campaign.status != "draft":
        raise Conflict(
            "只有草稿可以批准",
            "Only a draft can be approved",
            code="not_a_draft",
            details={"status": campaign.status},
        )
    check_text(campaign.text, campaign.kind)  # the policy (sender, guard lists) may have changed since
    campaign.status, campaign.approved_by, campaign.approved_at = "approved", actor.name, now
    session.flush()
    audit.record(
        session,
        actor,
        "care.campaign.approve",
        ("care_campaign", campaign.id),
        {"status": "draft"},
        {"status": "approved"},
    )
    return campaign


def _check_launchable(campaign: Campaign, now: datetime) -> None:
    if campaign.status not in ("approved", "launched"):
        raise Conflict(
            "活动尚未批准，不能发送",
            "The campaign is not approved",
            code="not_approved",
            details={"status": campaign.status},
        )
    today = business_date(now)
    if campaign.send_on is not None and campaign.send_on != today:
        raise Conflict(
            f"该活动只能在 {campaign.send_on.isoformat()} 发送",
            f"The campaign goes out on {campaign.send_on.isoformat()} only",
            code="not_send_day",
        )
    rules = collections.contact_rules()
    if not rules.window_start <= to_shanghai(now).time() < rules.window_end:
        raise Conflict(guard.MESSAGES_ZH["QUIET_HOURS"], guard.MESSAGES_EN["QUIET_HOURS"], code="quiet_hours")


def launch_campaign(session: Session, *, actor: audit.Actor, campaign_id: int, now: datetime) -> LaunchResult:
    """Queue the campaign to every borrower eligible now who has not had it yet (through the desk's
    outbox). Launching again later the same day reaches those whose window has opened since; two
    launches at once queue each borrower once (the campaign's lock, and the unique key per borrower)."""
    campaign = _lock_campaign(session, campaign_id)
    _check_launchable(campaign, now)
    check_text(campaign.text, campaign.kind)
    context = _context(campaign, now, session)
    judged, _ = _judged(session, campaign, context)
    eligible = select(
        literal(campaign.id),
        judged.c.borrower_id,
        literal(context.marketing),
        literal(campaign.channel),
        literal(now),
    ).where(judged.c.first == ELIGIBLE)
    eligible_count = (
        session.scalar(select(func.count()).select_from(judged).where(judged.c.first == ELIGIBLE)) or 0
    )
    inserted = session.execute(
        insert_for(session)(Send)
        .from_select(["campaign_id", "borrower_id", "marketing", "channel", "sent_at"], eligible)
        .on_conflict_do_nothing(index_elements=["campaign_id", "borrower_id"])
        .returning(Send.id, Send.borrower_id)
    ).all()
    addresses = ledger.borrower_addresses(session, [row.borrower_id for row in inserted], campaign.channel)
    kind = desk.MARKETING_KIND if context.marketing else CARE_KIND
    to_send = sorted(inserted, key=lambda row: row.borrower_id)
    outbox_ids = desk.queue_addressed(
        session,
        channel=campaign.channel,
        kind=kind,
        body=campaign.text,
        recipients=[addresses[row.borrower_id] for row in to_send],
        now=now,
    )
    if to_send:
        pairs = zip(to_send, outbox_ids, strict=True)
        session.execute(_SET_OUTBOX_ID, [{"send_id": row.id, "queued_as": queued} for row, queued in pairs])
    queued = len(inserted)
    session.execute(
        update(Campaign)
        .where(Campaign.id == campaign.id)
        .values(
            status="launched",
            launches=Campaign.launches + 1,
            sent=Campaign.sent + queued,
            launched_at=func.coalesce(Campaign.launched_at, now),
        )
    )
    session.refresh(campaign)
    audit.record(
        session,
        actor,
        "care.campaign.launch",
        ("care_campaign", campaign.id),
        None,
        {"queued": queued, "launch": campaign.launches},
    )
    return LaunchResult(campaign.id, queued, int(eligible_count) - queued, campaign.status)


def campaign_results(session: Session, *, campaign_id: int) -> Results:
    campaign = get_campaign(session, campaign_id=campaign_id)
    outbox_ids = list(
        session.scalars(
            select(Send.outbox_id).where(Send.campaign_id == campaign.id, Send.outbox_id.is_not(None))
        )
    )
    sends = session.scalar(select(func.count()).select_from(Send).where(Send.campaign_id == campaign.id)) or 0
    return Results(campaign.id, int(sends), campaign.launches, desk.outbox_status_counts(session, outbox_ids))
