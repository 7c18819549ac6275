"""Stored conversations as the rubric reads them: a ticket's messages, replies and notes.

Read set-based for a chunk of tickets (three queries per chunk, whatever its size), because the
nightly run scores every changed conversation: through the desk's read interface for transcripts
(`desk.transcripts`), never the desk's tables.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lenddesk.core.models import User
from lenddesk.core.policy import get_policy
from lenddesk.desk import macros
from lenddesk.desk import service as desk
from lenddesk.quality import rubric


@dataclass(frozen=True)
class TicketFacts:
    """What quality keeps of a ticket beside its transcript."""

    id: int
    number: str
    owner_id: int | None  # the agent the conversation counts for (see `load`)
    team_id: int | None
    channel: str
    category: str
    tags: tuple[str, ...]
    resolved_at: datetime | None
    updated_at: datetime
    borrower_id: int | None


@dataclass(frozen=True)
class StoredConversation:
    ticket: TicketFacts
    conversation: rubric.Conversation

    def content_hash(self) -> str:
        return content_hash(self.conversation)


def content_hash(conversation: rubric.Conversation) -> str:
    """A fingerprint of everything the rubric reads: same fingerprint, same result."""

    def moment(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    ledger = conversation.ledger
    payload: dict[str, Any] = {
        "channel": conversation.channel,
        "turns": [[t.speaker, t.text, moment(t.at)] for t in conversation.turns],
        "verified_at": moment(conversation.verified_at),
        "ledger": None
        if ledger is None
        else [sorted(ledger.amounts_fen), sorted(d.isoformat() for d in ledger.dates)],
        "first_response_due": moment(conversation.first_response_due),
        "first_response_minutes": conversation.first_response_minutes,
        "category": conversation.category,
        "contracts": list(conversation.contract_numbers),
        "public": list(conversation.public),
    }
    if conversation.verified_turn is not None:  # only posted transcripts have one: stored hashes stay
        payload["verified_turn"] = conversation.verified_turn
    encoded = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "replace")
    return hashlib.sha256(encoded).hexdigest()


def ledger_facts_from_json(data: dict[str, Any] | None) -> rubric.LedgerFacts | None:
    if not data:
        return None
    return rubric.LedgerFacts(
        amounts_fen=frozenset(int(a) for a in data.get("amounts_fen", [])),
        dates=frozenset(date.fromisoformat(d) for d in data.get("dates", [])),
    )


def ledger_facts_to_json(facts: rubric.LedgerFacts | None, contracts: Sequence[str] = ()) -> dict[str, Any]:
    amounts = sorted(facts.amounts_fen) if facts else []
    dates = sorted(d.isoformat() for d in facts.dates) if facts else []
    return {"amounts_fen": amounts, "dates": dates, "contracts": list(contracts)}


def _speaker(message: desk.TranscriptLine) -> str:
    if message.direction == "in":
        return "borrower"
    return "bot" if message.sender.startswith(("system:assistant", "bot")) else "agent"


def _verified_at(events: Iterable[desk.TranscriptLine], required: str) -> datetime | None:
    """When identity first reached the level account data needs (the timeline's verification lines)."""
    for event in events:
        level = (event.data or {}).get("level")
        if level and macros.level_allows(level, required):
            return event.at
    return None


def load(
    session: Session,
    ticket_ids: Sequence[int],
    *,
    ledger_facts: dict[int, rubric.LedgerFacts | None] | None = None,
    contract_numbers: dict[int, tuple[str, ...]] | None = None,
) -> list[StoredConversation]:
    """The conversations of these tickets, in ticket id order (three queries)."""
    if not ticket_ids:
        return []
    read = desk.transcripts(session, ticket_ids)
    tickets = read.tickets
    turns: dict[int, list[tuple[datetime, int, rubric.Turn]]] = defaultdict(list)
    repliers: dict[int, Counter[str]] = defaultdict(Counter)
    for row in read.messages:
        speaker = _speaker(row)
        if speaker == "agent":
            repliers[row.ticket_id][row.sender] += 1
        turns[row.ticket_id].append((row.at, row.id, rubric.Turn(speaker, row.text, row.at)))
    verifications: dict[int, list[desk.TranscriptLine]] = defaultdict(list)
    for event in read.timeline:
        if event.kind == "note" and event.text:
            turns[event.ticket_id].append((event.at, 0, rubric.Turn("note", event.text, event.at)))
        elif event.kind == "verification":
            verifications[event.ticket_id].append(event)
    names = {name for counts in repliers.values() for name in counts}
    user_ids = (
        dict(session.execute(select(User.username, User.id).where(User.username.in_(names))).all())
        if names
        else {}
    )
    desk_policy = get_policy().desk
    facts = ledger_facts or {}
    contracts = contract_numbers or {}
    loaded = []
    for row in tickets:
        ordered = tuple(turn for _, _, turn in sorted(turns[row.id], key=lambda item: (item[0], item[1])))
        conversation = rubric.Conversation(
            channel=row.channel,
            turns=ordered,
            verified_at=_verified_at(verifications[row.id], desk_policy.account_detail_level),
            ledger=facts.get(row.id),
            first_response_due=row.first_response_due,
            category=row.category,
            contract_numbers=contracts.get(row.id, ()),
            public=(desk_policy.hotline, row.number),
        )
        # The owner at resolution answers for the conversation; an unowned ticket counts for the
        # agent who wrote most of its replies.
        top = sorted(repliers[row.id].items(), key=lambda pair: (-pair[1], pair[0]))[:1]
        agent_id = row.owner_id if row.owner_id is not None else (user_ids.get(top[0][0]) if top else None)
        ticket = TicketFacts(
            row.id,
            row.number,
            agent_id,
            row.team_id,
            row.channel,
            row.category,
            tuple(row.tags or ()),
            row.resolved_at,
            row.updated_at,
            row.borrower_id,
        )
        loaded.append(StoredConversation(ticket, conversation))
    return loaded
