"""Players of the simulation window: rooms above the ledger acting on the book day by day.

Some demo history can only be made while the window is simulated: a hardship agreement is computed
from the loan as it stands on the day it is accepted, and judged kept or broken by the closes after
it. A player is a module named in `SeedOptions.players` (named, not imported, like
`after_close.STEP_MODULES`: the ledger imports no room above it) with a function
`play_window_day(window: WindowDay) -> None`, called on each simulated day after that day's planned
payments are posted and before its close of business. It commits its own transactions.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Engine


@dataclass(frozen=True)
class WindowDay:
    """One simulated day as a player sees it."""

    engine: Engine
    day: date
    first_day: date  # the window's first simulated day
    last_day: date  # its last: the business date of the seeded book
    borrowers: int
    seed: int
    # The last day the book's plan has each loan pay something on its own in the window.
    last_planned_payment: Mapping[int, date] = field(default_factory=dict, repr=False)

    def pays_on_its_own(self, loan_id: int) -> bool:
        """Whether the book's plan has the loan pay something from this day to the window's end."""
        last = self.last_planned_payment.get(loan_id)
        return last is not None and last >= self.day


WindowPlayer = Callable[[WindowDay], None]


def load_players(module_names: tuple[str, ...]) -> list[WindowPlayer]:
    return [importlib.import_module(name).play_window_day for name in module_names]
