"""What the assistant does with an understood message. Pure: the caller supplies the state.

Order of precedence: a scam story (warn at once, urgent fraud ticket) → anger, a request for a
person (also inside another question) or a complaint (hand off) → a fraud report (the FAQ's
guidance and a fraud ticket) → a low-confidence or
off-topic message (ask to rephrase; hand off on the policy's n-th miss in a row) → an account
question (answer from the ledger when this session is verified, else explain how to verify) → the
FAQ answer.

Fraud (issue 19): a scam story or a fraud report opens an urgent ticket for the fraud team (7×24,
P1) but is not a handoff of the chat to a person: the bot answers at once with the anti-fraud
guidance and stays in the conversation, the fraud team works the ticket. Only when the borrower
is angry or asks for a person is the chat handed off as well (to the same ticket). docs/ASSISTANT.md
"Fraud and handoff".
"""

from __future__ import annotations

from dataclasses import dataclass

from lenddesk.assistant.intents import ACCOUNT_INTENTS, HANDOFF_INTENTS, MISS_INTENTS
from lenddesk.assistant.understanding import Understanding

HANDOFF_REASONS = {
    "scam": "疑似诈骗",
    "fraud": "诈骗/冒名举报",
    "angry": "客户情绪激动",
    "asked": "客户要求人工",
    "complaint": "投诉",
    "misses": "机器人连续未能理解",
}
_REASON_OF_INTENT = {
    "human": "asked",
    "complaint": "complaint",
    "collection_complaint": "complaint",
    "fraud_report": "fraud",
}


@dataclass(frozen=True)
class Decision:
    action: str  # scam_warning, fraud_ticket, handoff, rephrase, account, verify_official, answer
    handoff_reason: str | None = None
    miss: bool = False  # counts towards the misses in a row
    ticket_reason: str | None = None  # a ticket for a back-office team without a handoff (fraud)

    @property
    def handoff(self) -> bool:
        return self.handoff_reason is not None


def decide(u: Understanding, *, misses: int, min_confidence: float, misses_before_handoff: int) -> Decision:
    if u.scam.suspected:
        if u.emotion.label == "angry" or u.wants_human:
            return Decision("scam_warning", "scam")
        return Decision("scam_warning", ticket_reason="scam")
    if u.emotion.label == "angry":
        return Decision("handoff", "angry")
    if u.wants_human:
        return Decision("handoff", "asked")
    if u.intent == "fraud_report" and u.confidence >= min_confidence:
        return Decision("fraud_ticket", ticket_reason="fraud")
    if u.intent in HANDOFF_INTENTS and u.confidence >= min_confidence:
        return Decision("handoff", _REASON_OF_INTENT[u.intent])
    if u.confidence < min_confidence or u.intent in MISS_INTENTS:
        if misses + 1 >= misses_before_handoff:
            return Decision("handoff", "misses", miss=True)
        return Decision("rephrase", miss=True)
    if u.intent == "verify_official" and (u.numbers or u.agent_ids):
        return Decision("verify_official")
    if u.intent in ACCOUNT_INTENTS:
        return Decision("account")
    return Decision("answer")
