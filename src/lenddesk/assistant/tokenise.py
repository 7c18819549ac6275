"""Word segmentation with jieba and the lending domain dictionary (`data/domain_dict.txt`). Pure.

One private jieba tokenizer for the assistant, so the domain words (等额本息, 提前还款, 罚息, 征信,
花呗 …) stay whole without changing how any other room's jieba segments. The dictionary loads
once per process on first use (about a second; cached by jieba between runs).
"""

from __future__ import annotations

import logging
import threading
from functools import lru_cache
from pathlib import Path

import jieba

DOMAIN_DICTIONARY = Path(__file__).parent / "data" / "domain_dict.txt"
_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None


def tokenizer() -> jieba.Tokenizer:
    global _tokenizer
    with _lock:
        if _tokenizer is None:
            jieba.setLogLevel(logging.WARNING)
            loaded = jieba.Tokenizer()
            loaded.initialize()
            loaded.load_userdict(str(DOMAIN_DICTIONARY))
            _tokenizer = loaded
    return _tokenizer


def domain_words() -> list[str]:
    return [line.split()[0] for line in DOMAIN_DICTIONARY.read_text(encoding="utf-8").splitlines() if line]


@lru_cache(maxsize=8192)
def words(normalised: str) -> tuple[str, ...]:
    """The words of an already normalised text, spaces dropped."""
    return tuple(word for word in tokenizer().lcut(normalised, HMM=True) if word.strip())
