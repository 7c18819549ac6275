"""`lenddesk collections eval`: the guard on a labelled set, beside the baseline.

Each row {"text", "codes", "to_third_party"} is checked as a contact in hours, under the caps, to
the borrower or (to_third_party) to a third party; only the text codes and THIRD_PARTY_DISCLOSURE
count. Three guards side by side: the pre-issue-19 rules (`guard_baseline`, frozen), today's rules
alone (`learned=False`) and today's rules with the learned model. Only aggregate figures are
printed — never the texts — so a held-out set stays unseen.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import time

from lenddesk.collections import guard, guard_baseline
from lenddesk.collections.guard_model import Example

SCORED_CODES: tuple[str, ...] = (
    "THREAT",
    "INSULT",
    "FALSE_AUTHORITY",
    "FALSE_CONSEQUENCE",
    "PRIVACY",
    "THIRD_PARTY_DISCLOSURE",
)
Checker = Callable[[str, bool], set[str]]


def _situation(module, third_party: bool):  # type: ignore[no-untyped-def]
    return module.ContactSituation(
        recipient="third_party" if third_party else "self", channel="sms", local_time=time(10, 0)
    )


def current_guard(*, learned: bool = True) -> Checker:
    def check(text: str, third_party: bool) -> set[str]:
        verdict = guard.check_contact(text, _situation(guard, third_party), learned=learned)
        return set(verdict.codes) & set(SCORED_CODES)

    return check


def baseline_guard(text: str, third_party: bool) -> set[str]:
    verdict = guard_baseline.check_contact(text, _situation(guard_baseline, third_party))
    return set(verdict.codes) & set(SCORED_CODES)


@dataclass
class Report:
    rows: int = 0
    violating: int = 0
    violating_blocked: int = 0
    compliant: int = 0
    compliant_blocked: int = 0
    expected_codes: int = 0
    expected_codes_named: int = 0
    messages_all_codes_named: int = 0
    true_positive: Counter[str] = field(default_factory=Counter)
    false_positive: Counter[str] = field(default_factory=Counter)
    false_negative: Counter[str] = field(default_factory=Counter)
    # (expected code, what was named instead or "none") for each missed expected code
    confusions: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def blocked_rate(self) -> float:
        return self.violating_blocked / self.violating if self.violating else 0.0

    @property
    def false_block_rate(self) -> float:
        return self.compliant_blocked / self.compliant if self.compliant else 0.0

    @property
    def codes_named_rate(self) -> float:
        return self.expected_codes_named / self.expected_codes if self.expected_codes else 0.0

    @property
    def messages_codes_named_rate(self) -> float:
        return self.messages_all_codes_named / self.violating if self.violating else 0.0

    def precision(self, code: str) -> float | None:
        named = self.true_positive[code] + self.false_positive[code]
        return self.true_positive[code] / named if named else None

    def recall(self, code: str) -> float | None:
        expected = self.true_positive[code] + self.false_negative[code]
        return self.true_positive[code] / expected if expected else None


def evaluate(examples: Sequence[Example], check: Checker) -> Report:
    report = Report()
    for example in examples:
        expected = set(example.codes)
        named = check(example.text, example.to_third_party)
        report.rows += 1
        if expected:
            report.violating += 1
            report.violating_blocked += bool(named)
            report.expected_codes += len(expected)
            report.expected_codes_named += len(expected & named)
            report.messages_all_codes_named += expected <= named
        else:
            report.compliant += 1
            report.compliant_blocked += bool(named)
        for code in SCORED_CODES:
            if code in expected and code in named:
                report.true_positive[code] += 1
            elif code in named:
                report.false_positive[code] += 1
            elif code in expected:
                report.false_negative[code] += 1
                instead = sorted(named - expected) or ["none"]
                for other in instead:
                    report.confusions[(code, other)] += 1
    return report


def _percent(value: float | None) -> str:
    return "   —  " if value is None else f"{value * 100:5.1f}%"


def format_reports(reports: dict[str, Report]) -> list[str]:
    names = list(reports)
    first = reports[names[0]]
    lines = [
        f"{first.rows} messages: {first.violating} violating, {first.compliant} compliant",
        "",
        f"{'':38}" + "".join(f"{name:>16}" for name in names),
    ]
    rows = [
        ("violating messages blocked (≥ 95 %)", lambda r: _percent(r.blocked_rate)),
        ("compliant blocked by mistake (≤ 5 %)", lambda r: _percent(r.false_block_rate)),
        ("expected codes named (≥ 90 %)", lambda r: _percent(r.codes_named_rate)),
        ("messages with every code named", lambda r: _percent(r.messages_codes_named_rate)),
    ]
    for label, value in rows:
        lines.append(f"{label:38}" + "".join(f"{value(reports[name]):>16}" for name in names))
    lines += ["", "per code: precision / recall (support)"]
    for code in SCORED_CODES:
        support = first.true_positive[code] + first.false_negative[code]
        cells = "".join(
            f"{_percent(reports[n].precision(code)) + ' /' + _percent(reports[n].recall(code)):>16}"
            for n in names
        )
        lines.append(f"  {code + f' ({support})':36}" + cells)
    lines += ["", "missed expected code → named instead (count per guard)"]
    keys = sorted({key for report in reports.values() for key in report.confusions})
    for key in keys:
        label = f"  {key[0]} → {key[1]}"
        lines.append(f"{label:38}" + "".join(f"{reports[n].confusions[key]:>16}" for n in names))
    return lines
