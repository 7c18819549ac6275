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
# A request for a person inside another question ("帮我转人工问下还款日"): the borrower asked.
_WANTS_HUMAN = re.compile(
    r"转人工|人工客服|人工服务|找人工|要人工|接人工|人工坐席|人工台|rg ?kf|转rg|"
    r"(找|要|转|叫|换|接)(个|一个)?(真人|活人)|"
    r"human agent|real person|live agent|(找|叫|让|换)(个|一个)?(客服|工作人员|人)(来|跟我|和我|接)"
)
_MOBILE = re.compile(r"(?<!\d)(?:\+?86)?(1[3-9]\d{9})(?!\d)")
_PHONE = re.compile(r"(?<![0-9a-z-])(\d[\d-]{4,18}\d)(?![0-9a-z-])")
_AGENT_ID = re.compile(
    r"(?:工号|编号|id)\s*(?:是|为)?\s*[:：]?\s*([a-z][a-z0-9_.-]{1,31}|\d{2,12})", re.IGNORECASE
)


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
    evidence: tuple[str, ...] = field(default=())  # the n-grams that carried the intent
    wants_human: bool = False

    @property
    def risk_flags(self) -> list[str]:
        return self.scam.flags


def named_numbers(normalised: str) -> tuple[str, ...]:
    found = [m.group(1) for m in _MOBILE.finditer(normalised)]
    found += [m.group(1).replace("-", "") for m in _PHONE.finditer(normalised)]
    return tuple(dict.fromkeys(n for n in found if 5 <= len(n) <= 16))


def named_agent_ids(normalised: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(m.group(1) for m in _AGENT_ID.finditer(normalised)))


def wants_human(normalised: str, intent: str) -> bool:
    return intent == "human" or bool(_WANTS_HUMAN.search(normalised))


def understand(text: str, model: IntentModel, knowledge: KnowledgeBase) -> Understanding:
    normalised = normalise(text)
    feeling = emotions.classify(text, model.emotion)
    screened = scam.assess(normalised, model.scam)
    if not normalised:  # only symbols or emoji ("？", "👍"): small talk, with no confidence to answer
        return Understanding(text, normalised, "chitchat", 0.0, [], feeling, screened, None)
    numbers, agent_ids = named_numbers(normalised), named_agent_ids(normalised)
    exact = knowledge.exact_match(normalised)
    intent, confidence, top = model.predict(normalised)
    if exact is not None:  # a question or variant of the knowledge base, word for word
        intent, confidence = exact.intent, max(confidence, 0.95) if exact.intent == intent else 0.95
    if screened.scripts == ("model",) and intent == "verify_official" and (numbers or agent_ids):
        # "is this number / 工号 yours?": the look-up answers it (and warns when it is not ours);
        # the model alone does not turn a verification question into a scam.
        screened = scam.ScamCheck(False, ())
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
        numbers,
        agent_ids,
        model.evidence(normalised, intent) if intent in model.labels else (),
        wants_human(normalised, intent),
    )
