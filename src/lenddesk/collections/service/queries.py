"""Reads: a collector's worklist, the account page, the compliance figures, the strategy report."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Integer, case, cast, func, select
from sqlalchemy.orm import Session

from lenddesk.collections import rules
from lenddesk.collections.models import Account, Contact, Hold, Outcome, WorkItem
from lenddesk.collections.rules import Rate, wilson
from lenddesk.core.errors import Unprocessable
from lenddesk.core.models import User
from lenddesk.core.pii import mask_mobile
from lenddesk.ledger import access
from lenddesk.ledger import service as ledger

RIGHT_PARTY = ("right_party", "promise_to_pay", "dispute", "hardship", "refused")


@dataclass(frozen=True)
class WorkRow:
    rank: int
    borrower_id: int
    name: str
    bucket: str
    days_past_due: int
    overdue_fen: int
    propensity: int
    expected_recovery_fen: int
    step: str
    done: bool


def worklist(session: Session, *, user_id: int | None, day: date, limit: int = 200) -> list[WorkRow]:
    """The collector's lines for `day`, best expected recovery first (all collectors' for None)."""
    borrowers = ledger.borrower_names()
    statement = (
        select(WorkItem, Account, borrowers.c.name)
        .join(Account, Account.id == WorkItem.account_id)
        .join(borrowers, borrowers.c.id == WorkItem.borrower_id)
        .where(WorkItem.work_date == day)
        .order_by(WorkItem.done, WorkItem.expected_recovery_fen.desc(), WorkItem.id)
        .limit(limit)
    )
    if user_id is not None:
        statement = statement.where(WorkItem.user_id == user_id)
    return [
        WorkRow(
            item.rank,
            item.borrower_id,
            name,
            account.bucket,
            account.days_past_due,
            account.overdue_fen,
            account.propensity,
            item.expected_recovery_fen,
            item.step,
            item.done,
        )
        for item, account, name in session.execute(statement).all()
    ]


def mark_worked(session: Session, *, borrower_id: int, day: date) -> None:
    for item in session.scalars(
        select(WorkItem).where(WorkItem.borrower_id == borrower_id, WorkItem.work_date == day)
    ):
        item.done = True


# --- the account page -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountPage:
    account: Account | None
    inputs: rules.PropensityInputs | None
    contacts: list[Contact]
    outcomes: list[Outcome]
    holds: list[Hold]


def account_page(session: Session, *, borrower_id: int) -> AccountPage:
    account = session.scalar(select(Account).where(Account.borrower_id == borrower_id))
    inputs = None
    if account is not None:
        inputs = rules.PropensityInputs(
            account.ontime_lines,
            account.due_lines,
            account.days_past_due,
            account.paid_last_30d,
            account.promises_kept,
            account.promises_broken,
        )
    contacts = session.scalars(
        select(Contact).where(Contact.borrower_id == borrower_id).order_by(Contact.id.desc()).limit(100)
    ).all()
    outcomes = session.scalars(
        select(Outcome).where(Outcome.borrower_id == borrower_id).order_by(Outcome.id.desc()).limit(100)
    ).all()
    holds = session.scalars(
        select(Hold).where(Hold.borrower_id == borrower_id).order_by(Hold.id.desc())
    ).all()
    return AccountPage(account, inputs, list(contacts), list(outcomes), list(holds))


def masked_details(outcome: Outcome) -> dict[str, Any]:
    details = dict(outcome.details or {})
    if details.get("mobile"):
        details["mobile"] = mask_mobile(details["mobile"])
    return details


def worklist_grant(session: Session, request: access.AccessRequest) -> access.Grant | None:
    """A collector opens the borrowers assigned to them (the worklist case)."""
    if request.user_id is None:
        return None
    account_id = session.scalar(
        select(Account.id).where(
            Account.borrower_id == request.borrower_id,
            Account.assigned_user_id == request.user_id,
            Account.state == "overdue",
        )
    )
    return access.Grant("worklist", f"CA{account_id}") if account_id else None


access.register_grant_finder(worklist_grant)


# --- compliance ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BlockedFigures:
    by_code: list[tuple[str, int]]
    by_agent: list[tuple[str, int]]
    by_week: list[tuple[str, int]]
    recent: list[Contact]


def blocked_figures(session: Session, *, since: datetime) -> BlockedFigures:
    blocked = select(Contact).where(Contact.status == "blocked", Contact.created_at >= since)
    rows = session.scalars(blocked.order_by(Contact.id.desc()).limit(5000)).all()
    by_code: dict[str, int] = {}
    by_agent: dict[str, int] = {}
    by_week: dict[str, int] = {}
    for contact in rows:
        for code in contact.codes or []:
            by_code[code] = by_code.get(code, 0) + 1
        by_agent[contact.actor_name] = by_agent.get(contact.actor_name, 0) + 1
        monday = contact.local_date - timedelta(days=contact.local_date.weekday())
        by_week[monday.isoformat()] = by_week.get(monday.isoformat(), 0) + 1
    return BlockedFigures(
        sorted(by_code.items(), key=lambda item: -item[1]),
        sorted(by_agent.items(), key=lambda item: -item[1]),
        sorted(by_week.items()),
        list(rows[:50]),
    )


# --- champion / challenger report ------------------------------------------------------------------

METRICS = (
    ("contact_rate", "联系率", "accounts contacted / accounts in collection"),
    ("right_party_rate", "本人联系率", "right-party contacts / accounts contacted"),
    ("promise_rate", "承诺率", "accounts with a promise / right-party contacts"),
    ("promise_kept_rate", "承诺兑现率", "promises kept / promises judged"),
    ("cure_rate", "治愈率", "accounts cured / accounts in collection"),
    # Not roll rates (those are month-end matrices, in the reports room): the share that ever got
    # as far as a bucket while in collection.
    ("reached_m2", "曾达 M2 占比", "accounts ever reaching M2 / accounts in collection"),
    ("reached_m3", "M2 中曾达 M3 占比", "accounts ever reaching M3 / accounts ever reaching M2"),
)


def bucket_number(column: Any) -> Any:
    """M2 → 2, M7+ → 7 in SQL: buckets compare by number, never as text ("M10" < "M2" as text).

    Anything that is not an M bucket (WO) ranks past every bucket.
    """
    return case((column.like("M%"), cast(func.replace(func.substr(column, 2), "+", ""), Integer)), else_=999)


@dataclass(frozen=True)
class ArmReport:
    strategy: str
    arm: str
    accounts: int
    rates: dict[str, Rate]


def strategy_report(session: Session, *, since: date, until: date) -> list[ArmReport]:
    """Per strategy arm, over accounts in collection whose overdue began in [since, until]."""
    if until < since or (until - since).days > 3660:
        raise Unprocessable("统计区间不正确", "The report period is invalid", code="bad_period")
    in_scope = (Account.overdue_since >= since) & (Account.overdue_since <= until)
    reports = []
    arms = session.execute(
        select(Account.strategy, Account.arm, func.count())
        .where(in_scope)
        .group_by(Account.strategy, Account.arm)
    ).all()
    for strategy, arm, total in sorted(arms, key=lambda row: (row[1] != "champion", row[0])):
        scope = in_scope & (Account.strategy == strategy) & (Account.arm == arm)
        ids = select(Account.borrower_id).where(scope)

        def accounts_with(*condition: Any, ids: Any = ids) -> int:
            return (
                session.scalar(
                    select(func.count(func.distinct(Contact.borrower_id))).where(
                        *condition, Contact.borrower_id.in_(ids)
                    )
                )
                or 0
            )

        contacted = accounts_with(Contact.status == "sent", Contact.source != "inbound")
        right_party = _outcome_accounts(session, ids, Outcome.kind.in_(RIGHT_PARTY))
        promised = _outcome_accounts(session, ids, Outcome.kind == "promise_to_pay")
        kept = _promises(session, ids, ("kept",))
        judged = _promises(session, ids, ("kept", "broken"))
        cured = session.scalar(select(func.count()).where(scope, Account.cured_on.is_not(None))) or 0
        worst = bucket_number(Account.worst_bucket)
        m2 = session.scalar(select(func.count()).where(scope, worst >= 2)) or 0
        m3 = session.scalar(select(func.count()).where(scope, worst >= 3)) or 0
        rates = {
            "contact_rate": wilson(contacted, total),
            "right_party_rate": wilson(right_party, contacted),
            "promise_rate": wilson(promised, right_party),
            "promise_kept_rate": wilson(kept, judged),
            "cure_rate": wilson(cured, total),
            "reached_m2": wilson(m2, total),
            "reached_m3": wilson(m3, m2),
        }
        reports.append(ArmReport(strategy, arm, total, rates))
    return reports


def _outcome_accounts(session: Session, ids: Any, condition: Any) -> int:
    return (
        session.scalar(
            select(func.count(func.distinct(Outcome.borrower_id))).where(
                condition, Outcome.borrower_id.in_(ids)
            )
        )
        or 0
    )


def _promises(session: Session, ids: Any, statuses: tuple[str, ...]) -> int:
    return (
        session.scalar(
            select(func.count()).where(Outcome.promise_status.in_(statuses), Outcome.borrower_id.in_(ids))
        )
        or 0
    )


def report_chart_svg(reports: list[ArmReport]) -> str:
    """A grouped bar chart (one group per metric, one bar per arm) with 95 % interval whiskers."""
    width, height, left, top, bottom = 760, 300, 40, 20, 60
    plot_h = height - top - bottom
    group_w = (width - left - 10) / len(METRICS)
    colours = ["#2563eb", "#f59e0b", "#10b981", "#ef4444"]
    bar_w = max(6.0, (group_w - 16) / max(len(reports), 1))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img"'
        ' aria-label="策略效果对比 / strategy comparison" font-size="11">',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" stroke="#999"/>',
    ]
    for tick in (0, 25, 50, 75, 100):
        y = top + plot_h * (1 - tick / 100)
        parts.append(f'<text x="4" y="{y + 4:.1f}">{tick}%</text>')
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" stroke="#eee"/>')
    for index, (key, label_zh, _) in enumerate(METRICS):
        x0 = left + index * group_w + 8
        for arm_index, report in enumerate(reports):
            rate = report.rates[key]
            x = x0 + arm_index * bar_w
            bar_h = plot_h * rate.value
            colour = colours[arm_index % len(colours)]
            name = html.escape(report.strategy)
            parts.append(
                f'<rect x="{x:.1f}" y="{top + plot_h - bar_h:.1f}" width="{bar_w - 2:.1f}"'
                f' height="{bar_h:.1f}" fill="{colour}">'
                f"<title>{name}/{report.arm} {label_zh} {rate.hits}/{rate.total}"
                f" ({rate.value:.1%}, 95% {rate.low:.1%}–{rate.high:.1%})</title></rect>"
            )
            cx = x + (bar_w - 2) / 2
            y_low, y_high = top + plot_h * (1 - rate.low), top + plot_h * (1 - rate.high)
            parts.append(
                f'<line x1="{cx:.1f}" y1="{y_low:.1f}" x2="{cx:.1f}" y2="{y_high:.1f}" stroke="#111"/>'
            )
        parts.append(f'<text x="{x0:.1f}" y="{top + plot_h + 16}">{label_zh}</text>')
    for arm_index, report in enumerate(reports):
        colour = colours[arm_index % len(colours)]
        y = height - 14
        x = left + arm_index * 200
        parts.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{colour}"/>')
        parts.append(
            f'<text x="{x + 14}" y="{y}">{html.escape(report.strategy)}'
            f" ({report.arm}, n={report.accounts})</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def collector_names(session: Session) -> dict[int, str]:
    return dict(session.execute(select(User.id, User.display_name).where(User.role == "collector")).all())


# --- set-based reads for the care room --------------------------------------------------------------


def held_borrower_ids() -> Any:
    """Ids of borrowers under an open dispute hold."""
    return select(Hold.borrower_id).where(Hold.released_at.is_(None))


def contacted_borrower_ids(day: date) -> Any:
    """Ids of borrowers collections contacted, or plans to contact, on the Shanghai date `day` (sent
    or still scheduled; blocked and expired attempts reached nobody)."""
    return select(Contact.borrower_id).where(
        Contact.local_date == day, Contact.status.in_(("sent", "scheduled")), Contact.source != "inbound"
    )
