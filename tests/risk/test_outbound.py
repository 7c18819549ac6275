"""No outbound text ever says 黑名单: the risk room queues nothing for borrowers, and the guard that
checks outbound collection text refuses the word."""

from __future__ import annotations

import re
from pathlib import Path

import lenddesk.risk
from lenddesk.collections.guard import text_violations


def test_the_risk_room_never_queues_outbound_messages() -> None:
    room = Path(lenddesk.risk.__file__).parent
    for path in room.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"queue_outbound|OutboxMessage|desk_outbox|notify\(", source), path


def test_the_outbound_guard_refuses_the_word_blacklist() -> None:
    found = text_violations("您好，如不还款将把您列入黑名单。")
    assert [violation.code for violation in found] == ["FALSE_CONSEQUENCE"]
    assert "黑名单" in found[0].evidence
