"""The process's assistant engine: the trained model, the knowledge base index and the baseline.

The model is trained once per process (or read from `LENDDESK_ASSISTANT_MODEL_DIR`, default
`var/assistant`, when `lenddesk assistant train` wrote it for the current data). The knowledge
base index is rebuilt when the admins' entries change (their newest `updated_at` and count).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from lenddesk.assistant import classifier, dialogue
from lenddesk.assistant.evaluation import Prediction
from lenddesk.assistant.knowledge import Entry, KnowledgeBase, merged
from lenddesk.assistant.normalise import normalise
from lenddesk.assistant.understanding import Understanding, understand
from lenddesk.core.policy import get_policy


class AssistantSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LENDDESK_ASSISTANT_", extra="ignore")

    model_dir: Path = Field(
        default=Path("var/assistant"), description="Where the trained intent model is kept between runs."
    )


@lru_cache
def assistant_settings() -> AssistantSettings:
    return AssistantSettings()


def intent_model() -> classifier.IntentModel:
    return classifier.current(assistant_settings().model_dir)


_kb_lock = threading.Lock()
_kb: tuple[object, KnowledgeBase] | None = None


def knowledge_base(version: object = None, overrides: Sequence[Entry] = ()) -> KnowledgeBase:
    """The index for this version of the admins' entries (built again only when it changes)."""
    global _kb
    with _kb_lock:
        if _kb is None or _kb[0] != version:
            _kb = (version, KnowledgeBase(merged(overrides)))
        return _kb[1]


def cached_knowledge() -> tuple[object, KnowledgeBase]:
    """The index this process built last and its version (the shipped defaults at first); the
    caller checks the version against the database's before it relies on it."""
    with _kb_lock:
        current = _kb
    if current is None:
        return None, knowledge_base()
    return current


def understand_text(text: str, knowledge: KnowledgeBase | None = None) -> Understanding:
    return understand(text, intent_model(), knowledge or knowledge_base())


def predict_for_evaluation(text: str) -> Prediction:
    """One message in a fresh conversation: its intent, and whether it would be handed off or flagged."""
    return _prediction(understand_text(text))


@lru_cache(maxsize=1)
def today_model() -> classifier.IntentModel:
    """The assistant before issue 19: the classifier on the hand-written examples only, no emotion
    or scam model (so the lexicon and the scam rules decide)."""
    return classifier.train_legacy()


def today_prediction(text: str) -> Prediction:
    """The evaluation's baseline: what today's assistant would do with the message."""
    u = understand(text, today_model(), knowledge_base())
    return _prediction(dataclasses.replace(u, wants_human=u.intent == "human"))


def _prediction(u: Understanding) -> Prediction:
    policy = get_policy().assistant
    decision = dialogue.decide(
        u, misses=0, min_confidence=policy.min_confidence, misses_before_handoff=policy.misses_before_handoff
    )
    return Prediction(u.intent, decision.handoff, u.scam.suspected, u.emotion.label)


@lru_cache(maxsize=1)
def baseline_retriever() -> classifier.Retriever:
    examples = classifier.training_examples()
    return classifier.Retriever.build([(text, intent, str(i)) for i, (text, intent) in enumerate(examples)])


def baseline_intent(text: str) -> str:
    best = baseline_retriever().best(normalise(text))
    return best[0] if best else "other"
