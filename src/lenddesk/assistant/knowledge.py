"""The knowledge base: FAQ entries (question variants, a Chinese answer, an intent). Pure.

Shipped defaults live in `data/faq.toml`, one or more per intent; admins override an entry by
saving one with the same code, or add their own, in the console. Answers carry placeholders
({hotline}, {official_numbers} …) filled from the policy when the bot answers, so a new hotline
number reaches every answer at once.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lenddesk.assistant.classifier import Retriever
from lenddesk.assistant.intents import INTENTS
from lenddesk.assistant.normalise import normalise

DEFAULTS = Path(__file__).parent / "data" / "faq.toml"
PLACEHOLDERS = (
    "hotline",
    "official_numbers",
    "official_website",
    "official_app",
    "official_wechat",
    "repayment_channels",
    "human_hours",
    "company",
)
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True)
class Entry:
    code: str
    intent: str
    question: str
    variants: tuple[str, ...]
    answer: str
    active: bool = True
    edited: bool = False  # an admin's entry rather than a shipped default


@lru_cache(maxsize=1)
def default_entries() -> tuple[Entry, ...]:
    raw = tomllib.loads(DEFAULTS.read_text(encoding="utf-8"))
    return tuple(
        Entry(e["code"], e["intent"], e["question"], tuple(e["variants"]), e["answer"].strip())
        for e in raw["entry"]
    )


def unknown_placeholders(answer: str) -> list[str]:
    return sorted({name for name in _PLACEHOLDER.findall(answer) if name not in PLACEHOLDERS})


def fill(answer: str, values: Mapping[str, str]) -> str:
    """The answer with its placeholders filled; an unknown one is left as written."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), answer)


def merged(overrides: Iterable[Entry]) -> tuple[Entry, ...]:
    """Shipped defaults with the admins' entries laid over them (same code replaces)."""
    by_code = {entry.code: entry for entry in default_entries()}
    by_code.update({entry.code: entry for entry in overrides})
    return tuple(entry for entry in by_code.values() if entry.active and entry.intent in INTENTS)


class KnowledgeBase:
    """Entries with a BM25 index over their questions and variants."""

    def __init__(self, entries: Sequence[Entry]) -> None:
        self.entries = {entry.code: entry for entry in entries}
        documents = [
            (text, entry.intent, entry.code)
            for entry in entries
            for text in (entry.question, *entry.variants)
        ]
        self.exact = {normalise(text): code for text, _, code in documents}
        self.retriever = Retriever.build(documents) if documents else None

    def exact_match(self, normalised: str) -> Entry | None:
        code = self.exact.get(normalised)
        return self.entries[code] if code else None

    def entry_for(self, intent: str, normalised: str) -> Entry | None:
        """The entry of `intent` closest to the message (BM25), else the intent's default entry."""
        candidates = [entry for entry in self.entries.values() if entry.intent == intent]
        if not candidates:
            return None
        if self.retriever is not None and len(candidates) > 1:
            scores = self.retriever.scores(normalised)
            best: dict[str, float] = {}
            for score, label, code in zip(scores, self.retriever.labels, self.retriever.keys, strict=True):
                if label == intent:
                    best[code] = max(best.get(code, 0.0), float(score))
            if best and max(best.values()) > 0:
                return self.entries[max(best, key=lambda code: best[code])]
        return next((entry for entry in candidates if entry.code == intent), candidates[0])
