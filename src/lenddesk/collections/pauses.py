"""Pauses other rooms put on outbound collection contact (an emergency: EMERGENCY_HOLD).

Collections asks before every reminder and collection contact whether a room above it pauses the
contact, without importing that room: the room registers a check here at import. `PAUSE_MODULES`
names the modules that register, the way `ledger.after_close.STEP_MODULES` does, so every process
(server, worker, CLI) sees the same set; a module that does not exist yet is skipped.

A check gets the session (the borrower's account already locked by the caller), the borrower and,
when the contact is about one loan, that loan; it answers the evidence to record ("应急事件 #3 …")
or "" when it does not pause the contact. A check may lock what it reads so that a pause declared
at the same moment is either seen or waits for this transaction (incidents: `read.py`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from sqlalchemy.orm import Session

PauseCheck = Callable[[Session, int, int | None], str]

PAUSE_MODULES = ("lenddesk.incidents.read",)

_checks: dict[str, PauseCheck] = {}
_loaded = False


def register(name: str, check: PauseCheck) -> None:
    """Ask `check` before every reminder and collection contact (re-registering replaces)."""
    _checks[name] = check


def registered_checks() -> list[PauseCheck]:
    global _loaded
    if not _loaded:
        for module_name in PAUSE_MODULES:
            try:
                importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name != module_name:
                    raise
        _loaded = True
    return [_checks[name] for name in sorted(_checks)]


def emergency_hold(session: Session, *, borrower_id: int, loan_id: int | None = None) -> str:
    """The evidence of the first pause on this contact, or "" when nothing pauses it."""
    for check in registered_checks():
        evidence = check(session, borrower_id, loan_id)
        if evidence:
            return evidence
    return ""
