"""What each report means, in the words shown on its page, in exports and in docs/REPORTS.md."""

from __future__ import annotations

DEFINITIONS: dict[str, tuple[str, str]] = {
    "state": (
        "月末状态",
        "A loan's state at a month end: settled (结清) if settled on or before that day, WO (核销) if"
        " written off on or before it, else its bucket at that day's close (M0 if it never left)."
        " M6 and beyond are shown as M6+.",
    ),
    "roll-rates": (
        "迁徙率矩阵（账户数 / 余额）",
        "For month t: loans on the book at the end of t−1 that were neither settled nor written off,"
        " by their state then (row) and at the end of t (column). Loans disbursed in t are not in t's"
        " matrix. Balance basis: weighted by outstanding principal at the end of t−1. Each row sums"
        " to 100 %; each rate carries n, numerator, denominator and a 95 % Wilson interval.",
    ),
    "flow-rates": (
        "迁移率（滚动率）",
        "Flow into M(n) in month t: the balance at the end of t of loans that were M(n−1) at the end"
        " of t−1 and are M(n) at the end of t, divided by the M(n−1) balance at the end of t−1."
        " Count basis: loans over loans.",
    ),
    "cure-rates": (
        "回正率",
        "Share of loans in M1 or worse at the end of t−1 that are M0 at the end of t; shown with and"
        " without loans whose schedule was restructured by an agreement.",
    ),
    "vintage": (
        "账龄分析（Vintage）",
        "Per disbursement month (MOB0 = that month), at each month on book: balance 1+/30+/90+ days"
        " past due divided by principal disbursed. Current basis: outstanding principal of loans past"
        " that line now. Ever basis: each loan counts with its outstanding principal at the first"
        " month end it was past that line, for ever after. Written-off balances stay in 90+.",
    ),
    "par": (
        "PAR 与 DPD",
        "PAR30 = outstanding principal of loans more than 30 days past due (> 30) ÷ outstanding"
        " principal of active loans; DPD30+ counts 30 days or more (≥ 30). Likewise PAR90 and DPD90+."
        " Written-off and settled loans are off the book.",
    ),
    "promises": (
        "承诺兑现率",
        "A promise to pay counts in the month its promised date falls in, once judged kept or broken"
        " by the close. By count: kept ÷ judged. By amount: Σ min(paid from the day it was made to its"
        " date, promised) ÷ Σ promised. A promise superseded by a later promise of the same borrower,"
        " made on or before its date, is left out.",
    ),
    "csat": (
        "满意度（CSAT / NPS）",
        "CSAT = share of answers scoring 4 or 5; NPS = % scoring 9–10 − % scoring 0–6, in points;"
        " response rate = answered ÷ sent, surveys counted in the month they were sent (Shanghai)."
        " A group with no answers shows empty, not 0.",
    ),
    "sla": (
        "SLA 达成率与一次解决率",
        "A target (first response, resolution) counts in the period its due time falls in (Shanghai);"
        " achieved when done by then, breached when done later or still open past it; targets not yet"
        " due are pending and left out. Due times are in business minutes on the China calendar."
        " First-contact resolution: resolved in the period with at most one reply, never reopened, and"
        " no new ticket from the same customer within 3 working days.",
    ),
    "agents": (
        "坐席表现",
        "Per agent (or team) for one month, from the QA scorecards: conversations handled, mean first"
        " response and resolution time in minutes, share of tickets within SLA, mean QA score and"
        " severe findings, CSAT (share of 4–5), complaints and reopen rate. Agents see only their own row.",
    ),
    "complaints": (
        "投诉根因（帕累托）",
        "Complaints closed in the period (Shanghai), by the root cause recorded at closing, most"
        " frequent first, with each cause's share and the cumulative share.",
    ),
    "collectors": (
        "催收员表现",
        "Per collector over the period: contacts sent (blocked attempts not counted), outcomes that"
        " reached the borrower (right-party contacts, their share of contacts), promises made, kept and"
        " their kept rate among judged ones, and the amount recovered against judged promises (paid by"
        " each promise's date, up to what was promised). Collectors see only their own row.",
    ),
    "unavailable": (
        "余额不可用",
        "Months rebuilt from the bucket history (lenddesk reports rebuild) are exact on the count"
        " basis; their balances are not replayed and show as empty, never as 0.",
    ),
}


def definition_rows(*keys: str) -> list[tuple[str, str]]:
    """(term, definition) rows for the 说明 sheet: the state rule first, then each report's own."""
    chosen = ["state", *keys, "unavailable"]
    return [(DEFINITIONS[key][0], DEFINITIONS[key][1]) for key in dict.fromkeys(chosen)]
