"""The assistant's models: intent, emotion and scam story, each a linear classifier over character
and word n-grams, trained from the shipped data, with FAQ retrieval (BM25) beside them. Pure apart
from reading and writing its own file.

Data: the hand-written examples (`data/train/<intent>.txt`, one per line, augmented with a polite
frame and a typo), the generated corpus (`data/train/corpus.jsonl`, scripts/assistant_data.py:
text, intent, emotion and scam per line, in the styles borrowers write), the hand-written scam
stories and hard negatives (`data/train/scam_handwritten.jsonl`, the same fields) and the
hand-written angry messages and calm/anxious hard negatives (`data/train/emotion_handwritten.jsonl`,
the same fields; intent and emotion models). Features: TF-IDF of character n-grams of the
normalised text (robust to typos, pinyin, Cantonese and unknown words) and of jieba words and word
bigrams (domain dictionary); the emotion model reads the text with its punctuation. Classifier:
logistic regression, whose probabilities give the confidence the dialogue thresholds; a verdict's
evidence is the n-grams that pushed it most. Training takes about a minute, so the app trains at
first use when no model file matches the shipped data; `lenddesk assistant train` (or `make
assistant-model`) writes the file ahead of time. Nothing is downloaded.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import pickle
import random
import threading
import time
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from lenddesk.assistant.intents import INTENT_CODES
from lenddesk.assistant.normalise import emotion_text, normalise
from lenddesk.assistant.tokenise import DOMAIN_DICTIONARY, words

# scikit-learn and bm25s are imported where a model is trained or loaded, not with the module: they
# weigh some 85 MiB, which every process importing the app paid (an export, the close, the demo).
if TYPE_CHECKING:
    import bm25s
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion

DATA = Path(__file__).parent / "data"
TRAINING_DIR = DATA / "train"
CORPUS = TRAINING_DIR / "corpus.jsonl"
# Scam stories and their hard negatives written freely by a hand that had not read the corpus's
# templates (docs/DATA.md): read before the corpus, so a text in both keeps the hand-written label.
HANDWRITTEN_SCAM = TRAINING_DIR / "scam_handwritten.jsonl"
# Angry messages and calm/anxious hard negatives in the same words, written freely by another hand
# that had not read the anger templates (docs/DATA.md), read before the corpus likewise.
HANDWRITTEN_EMOTION = TRAINING_DIR / "emotion_handwritten.jsonl"
ROW_FILES = (HANDWRITTEN_SCAM, HANDWRITTEN_EMOTION, CORPUS)  # the intent model's
EMOTION_ROW_FILES = (HANDWRITTEN_EMOTION, CORPUS)
# The emotion file's rows are all "no scam" and were written about tone, not impostors' scripts.
SCAM_ROW_FILES = (HANDWRITTEN_SCAM, CORPUS)
MODEL_VERSION = "4"  # bump when features, training or the stored form change
SEED = 20261130
EMOTION_C = 3.0


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


@dataclass(frozen=True)
class CorpusRow:
    text: str
    intent: str
    emotion: str
    scam: bool


def corpus_rows(paths: Sequence[Path] = ROW_FILES) -> list[CorpusRow]:
    """The labelled rows: the hand-written files and the generated corpus (scripts/
    assistant_data.py), text, intent, emotion and scam per line. A text already read from an
    earlier file (compared normalised) is skipped; repeats within one file are that file's own."""
    rows: list[CorpusRow] = []
    earlier: set[str] = set()
    for path in paths:
        mine = [raw for raw in _json_lines(path) if normalise(raw["text"]) not in earlier]
        rows += [CorpusRow(r["text"], r["intent"], r["emotion"], bool(r["scam"])) for r in mine]
        earlier |= {normalise(r["text"]) for r in mine}
    return rows


def _json_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


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
    import bm25s
    import sklearn

    digest = hashlib.sha256(f"{MODEL_VERSION}|{sklearn.__version__}|{bm25s.__version__}".encode())
    row_files = dict.fromkeys([*ROW_FILES, *EMOTION_ROW_FILES, *SCAM_ROW_FILES])
    for path in [*sorted(TRAINING_DIR.glob("*.txt")), *row_files, DOMAIN_DICTIONARY]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    for item in extra:
        digest.update(item.encode())
    return digest.hexdigest()[:16]


# --- features --------------------------------------------------------------------------------------


def word_features(normalised: str) -> list[str]:
    tokens = [w for w in words(normalised) if w != " "]
    return tokens + [f"{a}_{b}" for a, b in itertools.pairwise(tokens)]


def _features(char_range: tuple[int, int] = (1, 3), min_df: int = 1) -> FeatureUnion:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    return FeatureUnion(
        [
            (
                "chars",
                TfidfVectorizer(analyzer="char", ngram_range=char_range, sublinear_tf=True, min_df=min_df),
            ),
            ("words", TfidfVectorizer(analyzer=word_features, sublinear_tf=True, min_df=min_df)),
        ]
    )


def _char_features(char_range: tuple[int, int], min_df: int) -> FeatureUnion:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    return FeatureUnion(
        [
            (
                "chars",
                TfidfVectorizer(analyzer="char", ngram_range=char_range, sublinear_tf=True, min_df=min_df),
            )
        ]
    )


# --- a linear text model ---------------------------------------------------------------------------


@dataclass
class LinearModel:
    """TF-IDF features and a logistic regression: probabilities per label, and the n-grams that
    carried a verdict (the explanation)."""

    features: FeatureUnion
    classifier: LogisticRegression
    labels: tuple[str, ...]

    _scorer: FastScorer | None = field(default=None, repr=False)

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        return self.classifier.predict_proba(self.features.transform(list(texts)))

    def scorer(self) -> FastScorer:
        if self._scorer is None:
            self._scorer = FastScorer.of(self)
        return self._scorer

    def probability_row(self, text: str) -> np.ndarray:
        return self.scorer().probabilities(text)

    def probability(self, text: str, label: str) -> float:
        return float(self.probability_row(text)[self.labels.index(label)])

    def evidence(self, text: str, label: str, top: int = 3) -> tuple[str, ...]:
        """The n-grams of `text` that pushed hardest towards `label`."""
        return self.scorer().evidence(text, self.labels.index(label), top)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_scorer": None}


@dataclass
class IntentModel(LinearModel):
    """The intent model, with the emotion and scam models trained beside it (one file)."""

    fingerprint: str = ""
    training_seconds: float = 0.0
    examples: int = 0
    emotion: LinearModel | None = None
    scam: LinearModel | None = None

    @property
    def intents(self) -> tuple[str, ...]:
        return self.labels

    def predict(self, normalised: str) -> tuple[str, float, list[tuple[str, float]]]:
        """Top intent, its probability, and the top three."""
        row = self.probability_row(normalised)
        order = np.argsort(row)[::-1][:3]
        top = [(self.labels[i], float(row[i])) for i in order]
        return top[0][0], top[0][1], top


class FastScorer:
    """The trained model's arithmetic for one message without scikit-learn's per-call checks.

    TF-IDF (sublinear tf, l2 per vectoriser) of the few n-grams a message has, then the linear
    model and a softmax (a sigmoid for two labels): ~0.1 ms where `predict_proba` takes ~3 ms.
    Equal to `predict_proba` (tests/assistant/test_understanding.py).
    """

    def __init__(
        self,
        vectorisers: list[tuple[Any, dict[str, int], np.ndarray, int]],
        coef: np.ndarray,
        intercept: np.ndarray,
    ) -> None:
        self.vectorisers = vectorisers
        if coef.shape[0] == 1:  # binary: p(1) = sigmoid(z) = softmax([0, z])[1]
            coef, intercept = np.vstack([np.zeros_like(coef), coef]), np.concatenate([[0.0], intercept])
        # The stored float32 coefficients widen as they meet the message's float64 weights; the
        # intercept is widened here, so that a message with no known n-gram is scored in float64 too.
        self.coef, self.intercept = coef, intercept.astype(np.float64)
        self._names: list[str] | None = None
        self._last: tuple[str, list[int], np.ndarray] | None = None

    @classmethod
    def of(cls, model: LinearModel) -> FastScorer:
        parts, offset = [], 0
        for _, vectoriser in model.features.transformer_list:
            vocabulary = vectoriser.vocabulary_
            parts.append((vectoriser.build_analyzer(), vocabulary, vectoriser.idf_, offset))
            offset += len(vocabulary)
        return cls(parts, model.classifier.coef_, model.classifier.intercept_)

    def weights(self, text: str) -> tuple[list[int], np.ndarray]:
        last = self._last  # the probabilities' and the evidence's message are the same one
        if last is not None and last[0] == text:
            return last[1], last[2]
        columns, values = self._weights(text)
        self._last = (text, columns, values)
        return columns, values

    def _weights(self, text: str) -> tuple[list[int], np.ndarray]:
        columns: list[int] = []
        values: list[float] = []
        for analyse, vocabulary, idf, offset in self.vectorisers:
            counts: dict[int, int] = {}
            for gram in analyse(text):
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
        return columns, np.asarray(values)

    def probabilities(self, text: str) -> np.ndarray:
        columns, values = self.weights(text)
        scores = self.intercept + (self.coef[:, columns] @ values if columns else 0.0)
        scores = np.exp(scores - scores.max())
        return scores / scores.sum()

    def evidence(self, text: str, label: int, top: int) -> tuple[str, ...]:
        columns, values = self.weights(text)
        if not columns:
            return ()
        contribution = (self.coef[label, columns] - self.coef[:, columns].mean(axis=0)) * values
        names = self._feature_names()
        order = np.argsort(contribution)[::-1][:top]
        return tuple(names[columns[i]].replace("_", "") for i in order if contribution[i] > 0)

    def _feature_names(self) -> list[str]:
        if self._names is None:
            names: list[str] = []
            for _, vocabulary, _, _ in self.vectorisers:
                part = [""] * len(vocabulary)
                for gram, index in vocabulary.items():
                    part[index] = gram
                names += part
            self._names = names
        return self._names


def _fit(features: FeatureUnion, texts: list[str], labels: list[str], c: float) -> LogisticRegression:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    matrix = features.fit_transform(texts)
    # saga: the same multinomial model as lbfgs in a fifth of the time on this sparse data. Its
    # shuffling is seeded: `make models` gives the same model on every machine.
    classifier = LogisticRegression(C=c, solver="saga", max_iter=200, tol=1e-3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        classifier.fit(matrix, labels)
    return classifier


# The fitted arrays are stored in float32: half the file, and a score moves by about 1e-6, far
# below any threshold's margin (tests/assistant/test_compact_models.py compares the two).
STORED_FLOAT = np.float32


def compact(model: LinearModel) -> LinearModel:
    """The model with its coefficients, intercepts and idf weights stored as float32, in place.

    Messages are still weighted and scored in float64: scipy and numpy widen the float32 arrays as
    they multiply them with the message's float64 weights."""
    fitted = model.classifier
    fitted.coef_ = fitted.coef_.astype(STORED_FLOAT)
    fitted.intercept_ = fitted.intercept_.astype(STORED_FLOAT)
    for _, vectoriser in model.features.transformer_list:
        vectoriser.idf_ = vectoriser.idf_.astype(STORED_FLOAT)
    model._scorer = None
    return model


def train_legacy(examples: Sequence[tuple[str, str]] | None = None) -> IntentModel:
    """Today's model before issue 19 (hand-written examples only): the evaluation's baseline."""
    base = list(examples) if examples is not None else training_examples()
    rows = augmented(base)
    features = _features()
    fitted = _fit(features, [normalise(t) for t, _ in rows], [i for _, i in rows], 20.0)
    return IntentModel(features, fitted, tuple(str(c) for c in fitted.classes_), examples=len(base))


# Hand-written examples of these intents are plain questions: calm examples for the emotion model.
_CALM_INTENTS = frozenset(INTENT_CODES) - {"complaint", "collection_complaint", "human", "fraud_report"}


def train_emotion(rows: Sequence[CorpusRow], calm: Sequence[tuple[str, str]] = ()) -> LinearModel:
    texts = [emotion_text(r.text) for r in rows] + [emotion_text(t) for t, i in calm if i in _CALM_INTENTS]
    labels = [r.emotion for r in rows] + ["calm" for _, i in calm if i in _CALM_INTENTS]
    features = _features((1, 3), min_df=2)
    fitted = _fit(features, texts, labels, EMOTION_C)
    return LinearModel(features, fitted, tuple(str(c) for c in fitted.classes_))


def train_scam(rows: Sequence[CorpusRow]) -> LinearModel:
    features = _features((2, 4), min_df=2)
    labels = ["scam" if r.scam else "no" for r in rows]
    fitted = _fit(features, [normalise(r.text) for r in rows], labels, 10.0)
    return LinearModel(features, fitted, tuple(str(c) for c in fitted.classes_))


def train(
    examples: Sequence[tuple[str, str]] | None = None, *, fingerprint: str | None = None
) -> IntentModel:
    """The intent model from the hand-written examples (augmented), both hand-written files and the
    generated corpus; the emotion model from the hand-written emotion file and the generated corpus
    (and the plain questions among the examples, as calm); the scam model from the hand-written scam
    file and the generated corpus."""
    started = time.perf_counter()
    base = list(examples) if examples is not None else training_examples()
    corpus = corpus_rows() if examples is None else []
    rows = augmented(base) + [(r.text, r.intent) for r in corpus]
    features = _features((1, 3), min_df=1 if examples is not None else 2)
    fitted = _fit(features, [normalise(t) for t, _ in rows], [i for _, i in rows], 20.0)
    # The hand-written scam file's emotions are one writer's reading, mostly anxious victims: mixed
    # in, they pulled victims' stories told angrily below the anger threshold (docs/DATA.md).
    emotion = train_emotion(corpus_rows(EMOTION_ROW_FILES), base) if corpus else None
    scam = train_scam(corpus_rows(SCAM_ROW_FILES)) if corpus else None
    model = IntentModel(
        features,
        fitted,
        tuple(str(c) for c in fitted.classes_),
        fingerprint=fingerprint or data_fingerprint(),
        examples=len(base) + len(corpus),
        emotion=emotion,
        scam=scam,
    )
    for part in (model, emotion, scam):
        if part is not None:
            compact(part)
    model.training_seconds = time.perf_counter() - started
    return model


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
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError):
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
        import bm25s

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
