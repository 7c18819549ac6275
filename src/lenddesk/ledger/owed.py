"""What is still owed on a schedule line — the one definition, pure.

Each component owes what was charged less what was paid and (but principal) waived,
never below zero: penalty (罚息), late fee (滞纳金), interest (利息), principal (本金). A line owes
something when any component does. Postings (`service`), the close of business (`cob`, as SQL),
the delinquency rules and the demo seeder all read it from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import or_

COMPONENTS = ("penalty", "late_fee", "interest", "principal")

# component: (charged column, paid column, waived column or None)
COLUMNS: dict[str, tuple[str, str, str | None]] = {
    "penalty": ("penalty_fen", "paid_penalty_fen", "waived_penalty_fen"),
    "late_fee": ("late_fee_fen", "paid_late_fee_fen", "waived_late_fee_fen"),
    "interest": ("interest_fen", "paid_interest_fen", "waived_interest_fen"),
    "principal": ("principal_fen", "paid_principal_fen", None),
}


def owed_components(line: Any) -> dict[str, int]:
    """What `line` still owes per component; `line` is a row, an object or a mapping of the columns."""
    try:  # attribute access spelled out: this runs for every line of every posting (the hot paths)
        return {
            "penalty": max(line.penalty_fen - line.paid_penalty_fen - line.waived_penalty_fen, 0),
            "late_fee": max(line.late_fee_fen - line.paid_late_fee_fen - line.waived_late_fee_fen, 0),
            "interest": max(line.interest_fen - line.paid_interest_fen - line.waived_interest_fen, 0),
            "principal": max(line.principal_fen - line.paid_principal_fen, 0),
        }
    except AttributeError:  # a mapping of the columns
        return {
            component: max(line[charged] - line[paid] - (line[waived] if waived else 0), 0)
            for component, (charged, paid, waived) in COLUMNS.items()
        }


def owed_fen(line: Any, components: Sequence[str] = COMPONENTS) -> int:
    """What `line` still owes in total (or of the given components)."""
    if components is COMPONENTS:
        try:  # the whole line, without building the components (the hot paths)
            return (
                max(line.penalty_fen - line.paid_penalty_fen - line.waived_penalty_fen, 0)
                + max(line.late_fee_fen - line.paid_late_fee_fen - line.waived_late_fee_fen, 0)
                + max(line.interest_fen - line.paid_interest_fen - line.waived_interest_fen, 0)
                + max(line.principal_fen - line.paid_principal_fen, 0)
            )
        except AttributeError:
            return sum(owed_components(line).values())
    owed = owed_components(line)
    return sum(owed[component] for component in components)


def owes_clause(table: Any, components: Sequence[str] = COMPONENTS) -> Any:
    """`owes_sql` as a SQLAlchemy expression on the schedule lines' `table`."""
    conditions = []
    for component in components:
        charged, paid, waived = COLUMNS[component]
        owed = table.c[charged] - table.c[paid] - (table.c[waived] if waived else 0)
        conditions.append(owed > 0)
    return or_(*conditions)


def owes_sql(alias: str, components: Sequence[str] = COMPONENTS) -> str:
    """A SQL condition, true when the schedule line `alias` still owes any of `components`.

    The same as `owed_fen(line, components) > 0`: a component owes when charged − paid − waived > 0.
    """
    conditions = []
    for component in components:
        charged, paid, waived = COLUMNS[component]
        waived_part = f" - {alias}.{waived}" if waived else ""
        conditions.append(f"{alias}.{charged} - {alias}.{paid}{waived_part} > 0")
    return f"({' OR '.join(conditions)})"


def owed_sql(alias: str, components: Sequence[str] = COMPONENTS) -> str:
    """A SQL expression: what the schedule line `alias` still owes in fen (of the given components).

    The same as `owed_fen(line, components)`: each component's charged − paid − waived, never below 0.
    """
    parts = []
    for component in components:
        charged, paid, waived = COLUMNS[component]
        amount = f"{alias}.{charged} - {alias}.{paid}" + (f" - {alias}.{waived}" if waived else "")
        parts.append(f"CASE WHEN {amount} > 0 THEN {amount} ELSE 0 END")
    return " + ".join(parts)
