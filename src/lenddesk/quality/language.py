"""What the compliance guard finds in the staff's words, remembered for QA's rubric.

The guard's check is a pure function of the text and costs a few hundred microseconds a call;
conversations repeat sentences (macros, greetings, closings), so a bounded cache of recent answers
saves much of the nightly run's time without changing any result.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable

from lenddesk.collections import guard


class Recent:
    """The guard's findings of the most recently checked texts (at most `size`)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._found: OrderedDict[str, tuple[guard.Violation, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str) -> tuple[guard.Violation, ...] | None:
        with self._lock:
            found = self._found.get(text)
            if found is not None:
                self._found.move_to_end(text)
            return found

    def put(self, text: str, found: tuple[guard.Violation, ...]) -> None:
        with self._lock:
            self._found[text] = found
            self._found.move_to_end(text)
            while len(self._found) > self.size:
                self._found.popitem(last=False)


RECENT = Recent(8192)


def findings(text: str) -> tuple[guard.Violation, ...]:
    found = RECENT.get(text)
    if found is None:
        found = tuple(guard.text_violations(text))
        RECENT.put(text, found)
    return found


def check_many(texts: Iterable[str]) -> None:
    """Check many texts before they are scored: the findings wait in the cache `findings` reads
    (8,192 texts), the learned layer counts and looks up the n-grams of all the texts at once, and
    the rules, checking text after text, keep their tables in the processor's cache."""
    unique = dict.fromkeys(texts)
    batch = [text for text in unique if RECENT.get(text) is None][: RECENT.size]
    for text, found in zip(batch, guard.text_violations_of_many(batch), strict=True):
        RECENT.put(text, tuple(found))
