"""Plan options for a borrower in hardship, pure: computed from the ledger's state on a date.

Kinds (docs/NEGOTIATION.md "Options"):
- extension (展期): every unpaid instalment keeps its amounts and is lined up monthly from the
  first future due date moved `n` months later; extension interest for `n` months on the
  principal outstanding is added to the first instalment;
- reinstalment (分期): the principal outstanding over N months, level instalments (等额本息) at the
  contract rate × `reinstalment_rate_share`; overdue interest, penalties and late fees are spread
  over the N instalments without interest (or fall due with the first, per policy). The N proposed
  is the shortest term in policy whose largest instalment fits the stated monthly capacity;
- waiver (减免): a share of the penalties and late fees owed, the schedule otherwise unchanged;
  the discounted settlement waives them all (and a share of overdue interest) on the condition
  that the rest is paid by a date — one instalment due on that date;
- interest_suspension (停息挂账): no interest from now on; principal and everything owed repaid
  over N months;
- combined: a waiver (conditional on the first instalment being paid on time) + re-instalment.

Interest is never capitalised: new instalments' principal is exactly the principal outstanding.
Every plan keeps the cost cap (ledger/costcap.py): a plan whose interest would break it has that
interest cut, earliest instalment first, and says so in its conditions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from lenddesk.core.money import Rounding, format_fen, round_fen
from lenddesk.core.policy import AuthorityLimits, NegotiationPolicy
from lenddesk.ledger import costcap
from lenddesk.ledger.allocation import Due
from lenddesk.ledger.schedule import add_months, generate_schedule
from lenddesk.ledger.settlement import quote_settlement

CAUSES = {
    "income_drop": "收入下降",
    "unemployment": "失业",
    "illness": "疾病",
    "family_emergency": "家庭突发状况",
    "business_cashflow": "经营资金周转困难",
    "disaster": "自然灾害",
    "dispute": "对账单有异议",
    "other": "其他",
}
KINDS = ("extension", "reinstalment", "waiver", "interest_suspension", "combined")
LEVELS = ("agent", "team_lead", "compliance")
LEVEL_LABELS_ZH = {"agent": "坐席", "team_lead": "组长", "compliance": "合规"}
KIND_LABELS_ZH = {
    "extension": "展期",
    "reinstalment": "分期",
    "waiver": "减免",
    "interest_suspension": "停息挂账",
    "combined": "减免+分期",
}


# --- the ledger's state, as plans read it ----------------------------------------------------------


@dataclass(frozen=True)
class LineState:
    """One instalment: what it still owes, what was charged on it, and whether anything was paid
    or waived on it (such an instalment is closed by a plan, never re-used)."""

    period: int
    due_on: date
    principal: int
    interest: int
    penalty: int = 0
    late_fee: int = 0
    charged_interest: int = 0
    charged_penalty: int = 0
    charged_late_fee: int = 0
    touched: bool = False

    @property
    def owed(self) -> int:
        return self.principal + self.interest + self.penalty + self.late_fee

    def is_open(self, on: date) -> bool:
        """Owes something, or is not yet due: a plan replaces it."""
        return self.owed > 0 or self.due_on > on


@dataclass(frozen=True)
class LoanState:
    contract_number: str
    annual_rate: Decimal
    disbursed_on: date
    cap_ppm: int
    principal_days_repaid: int
    early_repayment_fees_fen: int
    lines: tuple[LineState, ...]
    extensions_used: int = 0

    def memo(self, key: object, compute: Callable[[], Any]) -> Any:
        """A value computed once per state (the options of one loan read the same sums often)."""
        cache = self.__dict__.setdefault("_memo", {})
        if key not in cache:
            cache[key] = compute()
        return cache[key]

    def due(self, on: date) -> list[LineState]:
        return [line for line in self.lines if line.due_on <= on]

    def future(self, on: date) -> list[LineState]:
        return [line for line in self.lines if line.due_on > on]


@dataclass(frozen=True)
class Outstanding:
    principal: int
    interest: int  # overdue interest (instalments due by the date)
    penalty: int
    late_fee: int

    @property
    def fees(self) -> int:
        return self.late_fee

    @property
    def total(self) -> int:
        return self.principal + self.interest + self.penalty + self.late_fee


def outstanding_on(state: LoanState, on: date) -> Outstanding:
    return state.memo(  # type: ignore[no-any-return]
        ("outstanding", on),
        lambda: Outstanding(
            principal=sum(line.principal for line in state.lines),
            interest=sum(line.interest for line in state.due(on)),
            penalty=sum(line.penalty for line in state.lines),
            late_fee=sum(line.late_fee for line in state.lines),
        ),
    )


# --- what a plan proposes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanLine:
    period: int
    due_on: date
    principal: int
    interest: int
    penalty: int = 0
    late_fee: int = 0

    @property
    def fees(self) -> int:
        return self.penalty + self.late_fee

    @property
    def total(self) -> int:
        return self.principal + self.interest + self.penalty + self.late_fee


@dataclass(frozen=True)
class WaiverGrant:
    component: str  # penalty, late_fee, interest
    amount: int


@dataclass(frozen=True)
class Condition:
    """What the borrower must pay by when; missed, the agreement is broken."""

    amount_fen: int
    due_on: date


@dataclass(frozen=True)
class Option:
    slug: str
    kind: str
    title_zh: str
    lines: tuple[PlanLine, ...]
    monthly_amount: int
    total_to_pay: int
    extra_cost: int  # total_to_pay − continuing as now (negative: the borrower pays less)
    approval: str
    conditions_zh: tuple[str, ...] = ()
    pros_zh: tuple[str, ...] = ()
    cons_zh: tuple[str, ...] = ()
    waivers: tuple[WaiverGrant, ...] = ()
    conditional_waiver: bool = False
    restructures: bool = True  # replaces the open instalments with `lines`
    condition: Condition | None = None
    months: int = 0  # the extension's months, or the new term
    fits_capacity: bool = True
    cap_cut_fen: int = 0  # interest cut to keep the cost cap

    @property
    def term(self) -> int:
        return len(self.lines)

    @property
    def first_due_on(self) -> date | None:
        return self.lines[0].due_on if self.lines else None

    @property
    def waived_fen(self) -> int:
        return sum(grant.amount for grant in self.waivers)


@dataclass(frozen=True)
class Comparison:
    on: date
    outstanding: Outstanding
    continue_monthly: int
    continue_total: int
    options: tuple[Option, ...]

    def option(self, slug: str) -> Option | None:
        return next((option for option in self.options if option.slug == slug), None)


@dataclass(frozen=True)
class Terms:
    """What plans need besides the loan: the policy and the ledger's rules."""

    policy: NegotiationPolicy
    rounding: Rounding
    waiver_single_approval_fen: int
    first_due_on: date | None = None


def _yuan(fen: int) -> str:
    return format_fen(fen, thousands=True, symbol=True)


def _day(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


# --- the cost cap after a plan ---------------------------------------------------------------------


def cap_room(state: LoanState, on: date, lines: Sequence[PlanLine]) -> int:
    """The cost cap's room once the open instalments are replaced by `lines` (≥ 0: within the cap).

    Counted as the close of business counts it (ledger/costcap.py): penalties, late fees and
    interest fallen due on the instalments kept or closed, and the penalties and late fees moved
    onto the new ones; the new instalments' interest as it falls due.
    """
    static_cost, principal_days = state.memo(("cap", on), lambda: _cap_static(state, on))
    moved = sum(line.penalty + line.late_fee for line in lines)
    return costcap.headroom_fen(
        cap_ppm=state.cap_ppm,
        principal_days_now=principal_days,
        on=on,
        cost_fen=static_cost + moved,
        future=[(line.due_on, line.principal, line.interest) for line in lines],
    )


def _cap_static(state: LoanState, on: date) -> tuple[int, int]:
    """The cost of the instalments a plan keeps or closes, and the principal-days to `on`."""
    kept = sum(
        line.charged_penalty + line.charged_late_fee + line.charged_interest
        for line in state.lines
        if not line.is_open(on)
    )
    closed = sum(
        (line.charged_penalty - line.penalty)
        + (line.charged_late_fee - line.late_fee)
        + (line.charged_interest - line.interest)
        for line in state.lines
        if line.is_open(on) and line.touched
    )
    outstanding = sum(line.principal for line in state.lines)
    principal_days = costcap.principal_days(state.principal_days_repaid, outstanding, state.disbursed_on, on)
    return state.early_repayment_fees_fen + kept + closed, principal_days


def fit_cap(state: LoanState, on: date, lines: Sequence[PlanLine]) -> tuple[list[PlanLine], int]:
    """`lines` with interest cut (earliest instalment first) until the cost cap holds; and the cut."""
    fitted, cut = list(lines), 0
    room = cap_room(state, on, fitted)
    while room < 0:
        index = next((i for i, line in enumerate(fitted) if line.interest > 0), None)
        if index is None:
            break  # nothing left to cut: the loan is at its cap already (the ledger refuses it)
        take = min(-room, fitted[index].interest)
        fitted[index] = replace(fitted[index], interest=fitted[index].interest - take)
        cut += take
        room = cap_room(state, on, fitted)
    return fitted, cut


# --- building schedules --------------------------------------------------------------------------


def spread(amount: int, parts: int) -> list[int]:
    """`amount` in `parts` whole-fen parts, the remainder on the last."""
    base = amount // parts
    return [base] * (parts - 1) + [amount - base * (parts - 1)]


def _add_carried(
    lines: list[PlanLine], carried: dict[str, int], spread_components: Sequence[str]
) -> list[PlanLine]:
    """Add overdue interest, penalty and late fee to the new instalments: spread evenly or all on
    the first, per policy."""
    extra = {component: [0] * len(lines) for component in carried}
    for component, amount in carried.items():
        if component in spread_components:
            extra[component] = spread(amount, len(lines))
        else:
            extra[component][0] = amount
    interest, penalty, late_fee = extra["interest"], extra["penalty"], extra["late_fee"]
    return [
        PlanLine(
            line.period,
            line.due_on,
            line.principal,
            line.interest + interest[index],
            line.penalty + penalty[index],
            line.late_fee + late_fee[index],
        )
        for index, line in enumerate(lines)
    ]


def _amortised(
    principal: int, annual_rate: Decimal, term: int, on: date, first_due_on: date, rounding: Rounding
) -> list[PlanLine]:
    schedule = generate_schedule(
        principal_fen=principal,
        annual_rate=annual_rate,
        term=term,
        method="equal_instalment",
        start_date=on,
        first_due_on=first_due_on,
        rounding=rounding,
    )
    return [PlanLine(line.period, line.due_on, line.principal_fen, line.interest_fen) for line in schedule]


def _carried(state: LoanState, on: date, waivers: Sequence[WaiverGrant] = ()) -> dict[str, int]:
    """Overdue interest, penalties and late fees owed, less what `waivers` forgive."""
    owed = outstanding_on(state, on)
    carried = {"interest": owed.interest, "penalty": owed.penalty, "late_fee": owed.late_fee}
    for grant in waivers:
        carried[grant.component] -= grant.amount
    return carried


def reinstalment_lines(
    state: LoanState,
    on: date,
    term: int,
    terms: Terms,
    *,
    annual_rate: Decimal | None = None,
    waivers: Sequence[WaiverGrant] = (),
    spread_components: Sequence[str] | None = None,
    schedules: dict[tuple[object, ...], list[PlanLine]] | None = None,
) -> list[PlanLine]:
    """The principal outstanding over `term` months at `annual_rate` (default: the policy's share of
    the contract rate) with what is carried added; the cost cap not yet applied.

    `schedules` keeps the amortisation of one comparison: re-instalment, the combined option and the
    option's own text need the same schedule for a term (only what is carried onto it differs)."""
    policy = terms.policy
    rate = state.annual_rate * policy.reinstalment_rate_share if annual_rate is None else annual_rate
    rate = min(rate, state.annual_rate)
    principal = outstanding_on(state, on).principal
    first_due = terms.first_due_on or add_months(on, 1)
    carried = _carried(state, on, waivers)
    if principal > 0:
        key = (principal, rate, term, on, first_due, terms.rounding)
        if schedules is None:
            lines = _amortised(*key)
        elif key in schedules:
            lines = schedules[key]
        else:
            lines = schedules[key] = _amortised(*key)
    else:
        lines = [PlanLine(k + 1, add_months(first_due, k), 0, 0) for k in range(term)]
    components = policy.reinstalment_spread if spread_components is None else spread_components
    return _add_carried(lines, carried, components)


def _due_date(known: dict[int, date], anchor: date, months: int) -> date:
    if months not in known:
        known[months] = add_months(anchor, months)
    return known[months]


def _monthly(lines: Sequence[PlanLine]) -> int:
    return max((line.total for line in lines), default=0)


def choose_term(
    state: LoanState,
    on: date,
    capacity_fen: int,
    candidates: Sequence[int],
    build: Callable[[int], list[PlanLine]],
    *,
    spread_total: int = 0,
) -> tuple[int, list[PlanLine], bool]:
    """The shortest candidate term whose largest instalment fits `capacity_fen` (least interest);
    the longest when none does (and False).

    `spread_total` (what the instalments repay besides interest) gives a floor no instalment plan
    of n months can beat — its largest instalment is at least the average, spread_total / n — so
    terms below it are not built.
    """
    ordered = sorted(candidates)
    best: tuple[int, list[PlanLine]] | None = None
    for term in ordered:
        if spread_total > capacity_fen * term and term != ordered[-1]:
            continue
        lines, _cut = fit_cap(state, on, build(term))
        best = (term, lines)
        if _monthly(lines) <= capacity_fen:
            return term, lines, True
    assert best is not None
    return best[0], best[1], False


# --- authority ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grant:
    """What an option grants, for the authority matrix."""

    waiver_fen: int = 0
    waiver_base_fen: int = 0
    extension_months: int = 0
    reinstalment_months: int = 0
    interest_suspension: bool = False


def _within(limits: AuthorityLimits, grant: Grant, extensions_used: int) -> bool:
    if grant.waiver_fen:
        if grant.waiver_fen > limits.waiver_max_fen:
            return False
        if grant.waiver_fen * 100 > limits.waiver_max_percent * grant.waiver_base_fen:
            return False
    if grant.extension_months and (
        grant.extension_months > limits.extension_months or extensions_used >= limits.extensions
    ):
        return False
    if grant.reinstalment_months > limits.reinstalment_months:
        return False
    return not (grant.interest_suspension and not limits.interest_suspension)


def approval_level(
    grant: Grant, policy: NegotiationPolicy, *, extensions_used: int, waiver_single_approval_fen: int
) -> str:
    """The lowest level of the authority matrix that may grant this alone; beyond the team lead,
    compliance. A waiver above the ledger's single-approval limit always needs a second person."""
    for level in ("agent", "team_lead"):
        limits = policy.authority.get(level)  # type: ignore[call-overload]
        if limits is None or not _within(limits, grant, extensions_used):
            continue
        if level == "agent" and grant.waiver_fen > waiver_single_approval_fen:
            continue
        return level
    return "compliance"


# --- the options -----------------------------------------------------------------------------------


def continuing_as_now(state: LoanState, on: date) -> tuple[int, int]:
    """(the next regular instalment, everything still to pay) if nothing changes."""
    future = state.future(on)
    monthly = future[0].owed if future else 0
    return monthly, sum(line.owed for line in state.lines)


def _open_lines_as_plan(state: LoanState, on: date) -> list[PlanLine]:
    return [
        PlanLine(line.period, line.due_on, line.principal, line.interest, line.penalty, line.late_fee)
        for line in state.lines
        if line.owed > 0
    ]


def _penalty_waivers(state: LoanState, on: date, percent: int) -> list[WaiverGrant]:
    owed = outstanding_on(state, on)
    grants = [
        WaiverGrant("penalty", owed.penalty * percent // 100),
        WaiverGrant("late_fee", owed.late_fee * percent // 100),
    ]
    return [grant for grant in grants if grant.amount > 0]


class _Builder:
    def __init__(self, state: LoanState, on: date, capacity_fen: int, terms: Terms) -> None:
        self.state, self.on, self.capacity, self.terms = state, on, capacity_fen, terms
        self.policy = terms.policy
        self.owed = outstanding_on(state, on)
        self.continue_monthly, self.continue_total = continuing_as_now(state, on)
        self.schedules: dict[tuple[object, ...], list[PlanLine]] = {}

    def level(self, grant: Grant) -> str:
        return approval_level(
            grant,
            self.policy,
            extensions_used=self.state.extensions_used,
            waiver_single_approval_fen=self.terms.waiver_single_approval_fen,
        )

    def option(
        self, slug: str, kind: str, title: str, lines: Sequence[PlanLine], grant: Grant, **kw: object
    ) -> Option:
        total = sum(line.total for line in lines)
        monthly = _monthly(lines) if kw.get("restructures", True) else self.continue_monthly
        extra = total - self.continue_total
        return Option(
            slug=slug,
            kind=kind,
            title_zh=title,
            lines=tuple(lines),
            monthly_amount=monthly,
            total_to_pay=total,
            extra_cost=extra,
            approval=self.level(grant),
            **kw,  # type: ignore[arg-type]
        )

    def _first_condition(self, lines: Sequence[PlanLine]) -> tuple[Condition, str]:
        first = lines[0]
        return Condition(first.total, first.due_on), f"需在{_day(first.due_on)}前支付首期{_yuan(first.total)}"

    def _cost_sentence(self, extra: int) -> str:
        if extra > 0:
            return f"总还款额增加{_yuan(extra)}"
        if extra < 0:
            return f"总还款额减少{_yuan(-extra)}"
        return "总还款额不变"

    def _cap_note(self, cut: int) -> tuple[str, ...]:
        return (f"为不超过综合融资成本上限，利息调减{_yuan(cut)}",) if cut else ()

    # -- extension --------------------------------------------------------------------------------

    def extensions(self) -> list[Option]:
        policy, state = self.policy, self.state
        if state.extensions_used >= policy.max_extensions_per_loan or self.owed.principal <= 0:
            return []
        open_lines = [line for line in state.lines if line.is_open(self.on) and line.owed > 0]
        if not open_lines:
            return []
        future = state.future(self.on)
        anchor = future[0].due_on if future else add_months(self.on, 1)
        options = []
        due_dates: dict[int, date] = {}  # the month choices overlap: each due date is computed once
        for months in policy.extension_month_choices:
            extension_interest = 0
            if policy.extension_interest == "contract":
                extension_interest = round_fen(
                    Decimal(self.owed.principal) * state.annual_rate * months / 12, self.terms.rounding
                )
            lines = [
                PlanLine(k + 1, _due_date(due_dates, anchor, months + k), line.principal, line.interest)
                for k, line in enumerate(open_lines)
            ]
            lines[0] = replace(
                lines[0],
                interest=lines[0].interest + extension_interest,
                penalty=self.owed.penalty,
                late_fee=self.owed.late_fee,
            )
            lines, cut = fit_cap(state, self.on, lines)
            condition, condition_zh = self._first_condition(lines)
            monthly = _monthly(lines)
            extra = sum(line.total for line in lines) - self.continue_total
            pros = [f"首期还款推迟至{_day(lines[0].due_on)}，其后每月一期", "按新还款日还款不产生逾期罚息"]
            cons = [f"展期利息{_yuan(extension_interest - min(cut, extension_interest))}"]
            cons.append(f"本贷款已展期{state.extensions_used}次，最多{policy.max_extensions_per_loan}次")
            if self.owed.penalty + self.owed.late_fee:
                cons.append(f"已产生的罚息和滞纳金{_yuan(self.owed.penalty + self.owed.late_fee)}随首期支付")
            options.append(
                self.option(
                    f"EXT{months}",
                    "extension",
                    f"展期{months}个月",
                    lines,
                    Grant(extension_months=months),
                    conditions_zh=(condition_zh, *self._cap_note(cut)),
                    pros_zh=tuple(pros),
                    cons_zh=(*cons, self._cost_sentence(extra)) if monthly else tuple(cons),
                    condition=condition,
                    months=months,
                    fits_capacity=monthly <= self.capacity,
                    cap_cut_fen=cut,
                )
            )
        return options

    # -- re-instalment ----------------------------------------------------------------------------

    def reinstalments(self) -> list[Option]:
        if self.owed.principal <= 0:
            return []
        policy = self.policy
        term, lines, fits = choose_term(
            self.state,
            self.on,
            self.capacity,
            policy.reinstalment_terms,
            lambda n: reinstalment_lines(self.state, self.on, n, self.terms, schedules=self.schedules),
            spread_total=self.owed.total,
        )
        return [self._reinstalment_option(term, lines, fits)]

    def _reinstalment_option(self, term: int, lines: list[PlanLine], fits: bool) -> Option:
        raw = reinstalment_lines(self.state, self.on, term, self.terms, schedules=self.schedules)
        cut = sum(line.interest for line in raw) - sum(line.interest for line in lines)
        condition, condition_zh = self._first_condition(lines)
        monthly = _monthly(lines)
        total = sum(line.total for line in lines)
        extra = total - self.continue_total
        pros = [f"月供{_yuan(monthly)}，分{term}期还清"]
        if self.continue_monthly and monthly < self.continue_monthly:
            pros = [f"月供降至{_yuan(monthly)}（原{_yuan(self.continue_monthly)}）", f"分{term}期还清"]
        if self.owed.interest + self.owed.penalty + self.owed.late_fee:
            pros.append("逾期欠款并入新计划，按时还款即恢复正常状态")
        interest_now = sum(line.interest for line in self.state.lines)
        interest_new = sum(line.interest for line in lines)
        cons = []
        if interest_new > interest_now:
            cons.append(f"总利息增加{_yuan(interest_new - interest_now)}")
        cons.append(self._cost_sentence(extra))
        if not fits:
            cons.append(f"月供仍高于所述还款能力{_yuan(self.capacity)}")
        return self.option(
            f"RI{term}",
            "reinstalment",
            f"分{term}期还款",
            lines,
            Grant(reinstalment_months=term),
            conditions_zh=(condition_zh, *self._cap_note(cut)),
            pros_zh=tuple(pros),
            cons_zh=tuple(cons),
            condition=condition,
            months=term,
            fits_capacity=fits,
            cap_cut_fen=cut,
        )

    # -- waivers ------------------------------------------------------------------------------------

    def waivers(self) -> list[Option]:
        base = self.owed.penalty + self.owed.late_fee
        if base <= 0:
            return []
        options = []
        for percent in self.policy.waiver_percents:
            grants = _penalty_waivers(self.state, self.on, percent)
            waived = sum(grant.amount for grant in grants)
            if waived <= 0:
                continue
            lines = _open_lines_as_plan(self.state, self.on)
            lines = _apply_grants(lines, grants)
            overdue_left = sum(line.total for line in lines if line.due_on <= self.on)
            options.append(
                self.option(
                    f"WV{percent}",
                    "waiver",
                    f"减免{percent}%罚息和滞纳金",
                    lines,
                    Grant(waiver_fen=waived, waiver_base_fen=base),
                    restructures=False,
                    waivers=tuple(grants),
                    conditions_zh=(f"减免即时生效；仍需尽快归还逾期欠款{_yuan(overdue_left)}",),
                    pros_zh=(f"减免罚息和滞纳金{_yuan(waived)}",),
                    cons_zh=("月供和还款期不变", f"逾期欠款{_yuan(overdue_left)}仍需立即归还"),
                    fits_capacity=overdue_left <= self.capacity,
                )
            )
        return options

    def discounted_settlement(self) -> list[Option]:
        if self.owed.principal <= 0:
            return []
        policy = self.policy
        pay_by = self.on + timedelta(days=policy.discounted_settlement_days)
        grants = _penalty_waivers(self.state, self.on, 100)
        interest_waived = self.owed.interest * policy.discounted_settlement_interest_percent // 100
        if interest_waived:
            grants.append(WaiverGrant("interest", interest_waived))
        waived = sum(grant.amount for grant in grants)
        if waived <= 0:
            return []
        dues = [
            Due(
                line.period,
                line.due_on,
                0,
                0,
                line.interest,
                line.principal,
                line.charged_interest - line.interest,
            )
            for line in self.state.lines
        ]
        quote = quote_settlement(
            dues,
            annual_rate=self.state.annual_rate,
            disbursed_on=self.state.disbursed_on,
            on=pay_by,
            rounding=self.terms.rounding,
        )
        amount = quote.overdue_fen + quote.accrued_interest_fen + quote.principal_fen - interest_waived
        principal = self.owed.principal
        lines = [PlanLine(1, pay_by, principal, amount - principal)]
        lines, cut = fit_cap(self.state, self.on, lines)
        total = lines[0].total
        base = self.owed.penalty + self.owed.late_fee + self.owed.interest
        return [
            self.option(
                "DS",
                "waiver",
                f"优惠结清（{_day(pay_by)}前一次性结清）",
                lines,
                Grant(waiver_fen=waived, waiver_base_fen=base),
                waivers=tuple(grants),
                conditional_waiver=True,
                condition=Condition(total, pay_by),
                conditions_zh=(
                    f"需在{_day(pay_by)}前一次性支付{_yuan(total)}",
                    "逾期未付则减免作废，已减免的金额恢复计收",
                    *self._cap_note(cut),
                ),
                pros_zh=(f"一次性结清，减免{_yuan(waived)}", "结清后不再产生利息和罚息"),
                cons_zh=(f"需在{_day(pay_by)}前一次性支付{_yuan(total)}",),
                months=1,
                fits_capacity=total <= self.capacity,
                cap_cut_fen=cut,
            )
        ]

    # -- interest suspension -------------------------------------------------------------------------

    def suspension(self) -> list[Option]:
        if self.owed.principal <= 0:
            return []
        every = ("principal", "interest", "penalty", "late_fee")
        term, lines, fits = choose_term(
            self.state,
            self.on,
            self.capacity,
            self.policy.suspension_terms,
            lambda n: reinstalment_lines(
                self.state, self.on, n, self.terms, annual_rate=Decimal(0), spread_components=every
            ),
            spread_total=self.owed.total,
        )
        condition, condition_zh = self._first_condition(lines)
        total = sum(line.total for line in lines)
        saved = sum(line.interest for line in self.state.future(self.on))
        return [
            self.option(
                f"IS{term}",
                "interest_suspension",
                f"停息挂账，分{term}期归还",
                lines,
                Grant(interest_suspension=True, reinstalment_months=term),
                conditions_zh=(condition_zh, "停息期间不再计收利息"),
                pros_zh=(f"停止计息，未到期利息{_yuan(saved)}不再收取", f"月供{_yuan(_monthly(lines))}"),
                cons_zh=("须经合规审批", self._cost_sentence(total - self.continue_total)),
                condition=condition,
                months=term,
                fits_capacity=fits,
            )
        ]

    # -- waiver + re-instalment ----------------------------------------------------------------------

    def combined(self) -> list[Option]:
        base = self.owed.penalty + self.owed.late_fee
        percent = self.policy.combined_waiver_percent
        grants = _penalty_waivers(self.state, self.on, percent)
        waived = sum(grant.amount for grant in grants)
        if self.owed.principal <= 0 or waived <= 0:
            return []
        term, lines, fits = choose_term(
            self.state,
            self.on,
            self.capacity,
            self.policy.reinstalment_terms,
            lambda n: reinstalment_lines(
                self.state, self.on, n, self.terms, waivers=grants, schedules=self.schedules
            ),
            spread_total=self.owed.total - waived,
        )
        condition, condition_zh = self._first_condition(lines)
        monthly, total = _monthly(lines), sum(line.total for line in lines)
        return [
            self.option(
                f"CB{term}",
                "combined",
                f"减免{percent}%罚息和滞纳金 + 分{term}期",
                lines,
                Grant(waiver_fen=waived, waiver_base_fen=base, reinstalment_months=term),
                waivers=tuple(grants),
                conditional_waiver=True,
                condition=condition,
                conditions_zh=(condition_zh, "首期未按时支付则减免作废，已减免的金额恢复计收"),
                pros_zh=(f"减免罚息和滞纳金{_yuan(waived)}", f"月供{_yuan(monthly)}，分{term}期还清"),
                cons_zh=(self._cost_sentence(total - self.continue_total), "减免以按时支付首期为条件"),
                months=term,
                fits_capacity=fits,
            )
        ]


def _apply_grants(lines: list[PlanLine], grants: Sequence[WaiverGrant]) -> list[PlanLine]:
    """Waive penalty and late fee oldest instalment first, as the ledger does."""
    result = list(lines)
    for grant in grants:
        left = grant.amount
        for index, line in enumerate(result):
            take = min(getattr(line, grant.component), left)
            if take:
                result[index] = replace(line, **{grant.component: getattr(line, grant.component) - take})
                left -= take
    return result


def plan_options(state: LoanState, *, on: date, capacity_fen: int, terms: Terms) -> Comparison:
    """Every option the policy allows for this loan on `on`, side by side."""
    builder = _Builder(state, on, capacity_fen, terms)
    options = [
        *builder.extensions(),
        *builder.reinstalments(),
        *builder.waivers(),
        *builder.discounted_settlement(),
        *builder.suspension(),
        *builder.combined(),
    ]
    return Comparison(
        on=on,
        outstanding=builder.owed,
        continue_monthly=builder.continue_monthly,
        continue_total=builder.continue_total,
        options=tuple(options),
    )
