"""The intent model: a linear classifier over character and word n-grams, trained from the shipped
examples, with FAQ retrieval (BM25) beside it. Pure apart from reading and writing its own file.

Features: TF-IDF of character 1–3-grams of the normalised text (robust to typos and unknown
words) and of jieba words and word bigrams (domain dictionary). Classifier: multinomial logistic
regression, whose probabilities give the confidence the dialogue thresholds. Training takes a few
seconds, so the app trains at first use when no model file matches the shipped data; `lenddesk
assistant train` writes the file ahead of time. Nothing is downloaded.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import pickle
import random
import threading
import time
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion

from lenddesk.assistant.intents import INTENT_CODES
from lenddesk.assistant.normalise import normalise
from lenddesk.assistant.tokenise import DOMAIN_DICTIONARY, words

DATA = Path(__file__).parent / "data"
TRAINING_DIR = DATA / "train"
MODEL_VERSION = "1"  # bump when features or training change
SEED = 20261130


# --- training examples ----------------------------------------------------------------------------


def training_examples(directory: Path = TRAINING_DIR) -> list[tuple[str, str]]:
    """(text, intent) from `<intent>.txt`, one example per line."""
    examples = []
    for path in sorted(directory.glob("*.txt")):
        if path.stem not in INTENT_CODES:
            raise ValueError(f"{path.name}: not an intent code")
        examples += [
            (line.strip(), path.stem) for line in path.read_text("utf-8").splitlines() if line.strip()
        ]
    return examples


_PREFIXES = ("", "你好 ", "请问", "我想问下", "麻烦问一下", "客服 ", "咨询下")
_SUFFIXES = ("", "?", "呢", "啊", " 谢谢", "急")


def augmented(examples: Sequence[tuple[str, str]], *, seed: int = SEED) -> list[tuple[str, str]]:
    """Each example, plus a copy with a polite frame and a copy with one character dropped (a typo)."""
    rng = random.Random(seed)
    out = list(examples)
    for text, intent in examples:
        framed = rng.choice(_PREFIXES) + text + rng.choice(_SUFFIXES)
        if framed != text:
            out.append((framed, intent))
        if len(text) >= 5:
            cut = rng.randrange(len(text))
            out.append((text[:cut] + text[cut + 1 :], intent))
    return out


def data_fingerprint(extra: Iterable[str] = ()) -> str:
    digest = hashlib.sha256(f"{MODEL_VERSION}|{sklearn.__version__}|{bm25s.__version__}".encode())
    for path in [*sorted(TRAINING_DIR.glob("*.txt")), DOMAIN_DICTIONARY]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    for item in extra:
        digest.update(item.encode())
    return digest.hexdigest()[:16]


# --- features --------------------------------------------------------------------------------------


def word_features(normalised: str) -> list[str]:
    tokens = [w for w in words(normalised) if w != " "]
    return tokens + [f"{a}_{b}" for a, b in itertools.pairwise(tokens)]


def _features() -> FeatureUnion:
    return FeatureUnion(
        [
            ("chars", TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=1)),
            ("words", TfidfVectorizer(analyzer=word_features, sublinear_tf=True, min_df=1)),
        ]
    )


# --- the model ------------------------------------------------------------------------------------


@dataclass
class IntentModel:
    fingerprint: str
    features: FeatureUnion
    classifier: LogisticRegression
    intents: tuple[str, ...]
    training_seconds: float = 0.0
    examples: int = 0

    _scorer: FastScorer | None = field(default=None, repr=False)

    def probabilities(self, normalised_texts: Sequence[str]) -> np.ndarray:
        return self.classifier.predict_proba(self.features.transform(list(normalised_texts)))

    def predict(self, normalised: str) -> tuple[str, float, list[tuple[str, float]]]:
        """Top intent, its probability, and the top three."""
        if self._scorer is None:
            self._scorer = FastScorer.of(self)
        row = self._scorer.probabilities(normalised)
        order = np.argsort(row)[::-1][:3]
        top = [(self.intents[i], float(row[i])) for i in order]
        return top[0][0], top[0][1], top


class FastScorer:
    """The trained model's arithmetic for one message without scikit-learn's per-call checks.

    TF-IDF (sublinear tf, l2 per vectoriser) of the few n-grams a message has, then the linear
    model and a softmax: ~0.1 ms where `predict_proba` takes ~3 ms. Equal to `predict_proba`
    (tests/assistant/test_understanding.py).
    """

    def __init__(
        self,
        vectorisers: list[tuple[Any, dict[str, int], np.ndarray, int]],
        coef: np.ndarray,
        intercept: np.ndarray,
    ) -> None:
        self.vectorisers, self.coef, self.intercept = vectorisers, coef, intercept

    @classmethod
    def of(cls, model: IntentModel) -> FastScorer:
        parts, offset = [], 0
        for _, vectoriser in model.features.transformer_list:
            vocabulary = vectoriser.vocabulary_
            parts.append((vectoriser.build_analyzer(), vocabulary, vectoriser.idf_, offset))
            offset += len(vocabulary)
        return cls(parts, model.classifier.coef_, model.classifier.intercept_)

    def probabilities(self, normalised: str) -> np.ndarray:
        columns: list[int] = []
        values: list[float] = []
        for analyse, vocabulary, idf, offset in self.vectorisers:
            counts: dict[int, int] = {}
            for gram in analyse(normalised):
                index = vocabulary.get(gram)
                if index is not None:
                    counts[index] = counts.get(index, 0) + 1
            if not counts:
                continue
            indices = np.fromiter(counts, dtype=np.int64, count=len(counts))
            weights = (1.0 + np.log(np.fromiter(counts.values(), dtype=float, count=len(counts)))) * idf[
                indices
            ]
            weights /= np.sqrt((weights**2).sum())
            columns += (indices + offset).tolist()
            values += weights.tolist()
        scores = self.intercept + (self.coef[:, columns] @ np.asarray(values) if columns else 0.0)
        scores = np.exp(scores - scores.max())
        return scores / scores.sum()


def train(
    examples: Sequence[tuple[str, str]] | None = None, *, fingerprint: str | None = None
) -> IntentModel:
    started = time.perf_counter()
    base = list(examples) if examples is not None else training_examples()
    rows = augmented(base)
    texts = [normalise(text) for text, _ in rows]
    labels = [intent for _, intent in rows]
    features = _features()
    matrix = features.fit_transform(texts)
    # saga: the same multinomial model as lbfgs in a fifth of the time on this sparse data.
    classifier = LogisticRegression(C=20.0, solver="saga", max_iter=200, tol=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        classifier.fit(matrix, labels)
    return IntentModel(
        fingerprint=fingerprint or data_fingerprint(),
        features=features,
        classifier=classifier,
        intents=tuple(str(c) for c in classifier.classes_),
        training_seconds=time.perf_counter() - started,
        examples=len(base),
    )


def save(model: IntentModel, path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
    temporary.replace(path)
    return path.stat().st_size


def load(path: Path, fingerprint: str) -> IntentModel | None:
    """The model in `path` if it was trained from the current data; None otherwise."""
    try:
        model = pickle.loads(path.read_bytes())  # our own file, written by `save`
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        return None
    return model if isinstance(model, IntentModel) and model.fingerprint == fingerprint else None


# --- BM25 retrieval -------------------------------------------------------------------------------


def bm25_tokens(normalised: str) -> list[str]:
    return list(words(normalised))


@dataclass
class Retriever:
    """BM25 over short documents (FAQ variants, or training examples for the baseline)."""

    labels: list[str]
    keys: list[str]
    index: bm25s.BM25 = field(repr=False)

    @classmethod
    def build(cls, documents: Sequence[tuple[str, str, str]]) -> Retriever:
        """documents: (text, label, key)."""
        corpus = [bm25_tokens(normalise(text)) or ["_"] for text, _, _ in documents]
        index = bm25s.BM25()
        index.index(corpus, show_progress=False)
        return cls([label for _, label, _ in documents], [key for _, _, key in documents], index)

    def scores(self, normalised: str) -> np.ndarray:
        tokens = bm25_tokens(normalised)
        return np.asarray(self.index.get_scores(tokens)) if tokens else np.zeros(len(self.labels))

    def best(self, normalised: str) -> tuple[str, str, float] | None:
        """(label, key, score) of the best-scoring document, None when nothing matches."""
        scores = self.scores(normalised)
        if not len(scores) or scores.max() <= 0:
            return None
        i = int(scores.argmax())
        return self.labels[i], self.keys[i], float(scores[i])


# --- the model in use: trained once per process -----------------------------------------------------

_lock = threading.Lock()
_loaded: IntentModel | None = None


def model_path(directory: Path, fingerprint: str) -> Path:
    return directory / f"intent-model-{fingerprint}.pkl"


def current(directory: Path) -> IntentModel:
    """The model for the shipped data: from `directory` when trained before, else trained now."""
    global _loaded
    with _lock:
        if _loaded is None:
            fingerprint = data_fingerprint()
            path = model_path(directory, fingerprint)
            model = load(path, fingerprint) if path.exists() else None
            if model is None:
                model = train(fingerprint=fingerprint)
                with contextlib.suppress(OSError):  # a read-only directory: keep it in memory
                    save(model, path)
            _loaded = model
        return _loaded


def use(model: IntentModel | None) -> None:
    """Replace the process's model (after `train`, and in tests)."""
    global _loaded
    with _lock:
        _loaded = model
