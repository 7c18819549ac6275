"""What a message means: intent and confidence, emotion, scam marks, and what it names. Pure
apart from the trained model it is given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lenddesk.assistant import emotion as emotions
from lenddesk.assistant import scam
from lenddesk.assistant.classifier import IntentModel
from lenddesk.assistant.knowledge import Entry, KnowledgeBase
from lenddesk.assistant.normalise import normalise

SCAM_INTENTS = frozenset({"fraud_report", "verify_official"})
_MOBILE = re.compile(r"(?<!\d)(?:\+?86)?(1[3-9]\d{9})(?!\d)")
_PHONE = re.compile(r"(?<![0-9a-z-])(\d[\d-]{4,18}\d)(?![0-9a-z-])")
_AGENT_ID = re.compile(r"(?:工号|编号|id)\s*[:：]?\s*([a-z][a-z0-9_.-]{1,31}|\d{2,12})", re.IGNORECASE)


@dataclass(frozen=True)
class Understanding:
    text: str
    normalised: str
    intent: str
    confidence: float
    top: list[tuple[str, float]]
    emotion: emotions.Emotion
    scam: scam.ScamCheck
    entry: Entry | None
    numbers: tuple[str, ...] = field(default=())  # phone-like numbers named in the message
    agent_ids: tuple[str, ...] = field(default=())

    @property
    def risk_flags(self) -> list[str]:
        return self.scam.flags


def named_numbers(normalised: str) -> tuple[str, ...]:
    found = [m.group(1) for m in _MOBILE.finditer(normalised)]
    found += [m.group(1).replace("-", "") for m in _PHONE.finditer(normalised)]
    return tuple(dict.fromkeys(n for n in found if 5 <= len(n) <= 16))


def named_agent_ids(normalised: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(m.group(1) for m in _AGENT_ID.finditer(normalised)))


def understand(text: str, model: IntentModel, knowledge: KnowledgeBase) -> Understanding:
    normalised = normalise(text)
    feeling = emotions.detect(text)
    screened = scam.screen(normalised)
    if not normalised:
        return Understanding(text, normalised, "other", 0.0, [], feeling, screened, None)
    exact = knowledge.exact_match(normalised)
    intent, confidence, top = model.predict(normalised)
    if exact is not None:  # a question or variant of the knowledge base, word for word
        intent, confidence = exact.intent, max(confidence, 0.95) if exact.intent == intent else 0.95
    if screened.suspected and intent not in SCAM_INTENTS:
        intent, confidence = "fraud_report", max(confidence, 0.9)
    entry = exact if exact is not None and exact.intent == intent else knowledge.entry_for(intent, normalised)
    return Understanding(
        text,
        normalised,
        intent,
        confidence,
        top,
        feeling,
        screened,
        entry,
        named_numbers(normalised),
        named_agent_ids(normalised),
    )
