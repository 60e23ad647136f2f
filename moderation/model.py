"""The runtime model object: two text classifiers (spam, abusive) in one pickle.

Workers unpickle this class, so it lives in the runtime package and imports
nothing from ``training``.  Both heads are sklearn Pipelines
``CommentFeatures(normalise -> word 1-2-gram, char_wb 2-5-gram TF-IDF, structural signals) -> linear classifier``
sharing one fitted feature step; probabilities are Platt-calibrated on held-out
decision values.  ``predict`` transforms a batch once and feeds both heads, and
explanations are read off the sparse feature rows times the coefficients.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

from moderation.features import CommentDoc, CommentFeatures, SparseRows
from moderation.lexicon import BRAND_TOKEN, load_lexicon, load_word_map, load_words
from moderation.text import normalize_many

__all__ = [
    "FeatureParams",
    "ModerationModel",
    "build_classifier",
    "build_features",
    "build_pipeline",
    "top_contributions",
]

SPAM = "spam"
ABUSIVE = "abusive"
HEADS = (SPAM, ABUSIVE)


DEFAULT_LEXICON = Path(__file__).resolve().parent.parent / "config" / "lexicons" / "abusive_id.txt"
"""The project's own Indonesian abusive-word list (a feature of both heads; the abusive head uses it)."""


DEFAULT_NOT_BRANDS = DEFAULT_LEXICON.parent / "not_brands.txt"
"""Letter parts of letter+digit tokens that are not gambling brands (jkt48, densus88, iphone15)."""


@dataclass(frozen=True)
class FeatureParams:
    """Vocabulary limits, regularisation and the classifier of each head (kept small enough to load fast)."""

    word_max_features: int = 150_000
    char_max_features: int = 250_000
    min_df: int = 2
    C: float = 8.0
    classifier: str = "lr"  # "lr" (logistic regression) or "svm" (linear SVM; probabilities from calibration)
    signals: bool = True
    author: bool = True  # author name/URL/e-mail signals (texts without author fields get zeros)
    lexicon: str | None = str(DEFAULT_LEXICON)  # abusive-word lexicon file, read at training, stored in the model
    brands: bool = True  # brand-like tokens (aero88) read as xbrandx, so new campaign names look like known ones
    not_brands: str | None = str(DEFAULT_NOT_BRANDS)  # letters+digits that are not brands (jkt48), stored in the model
    # slang/typo -> formal word CSV (word,normalized), read at training, stored in the model
    word_map: str | None = None
    # the capitals-ratio signal: off, because it punished how a comment is typed (S P A C E D, D-A-S-H-E-D ham)
    # and cost recall at 1 % FPR in grouped CV
    capitals: bool = False


def build_features(params: FeatureParams | None = None) -> CommentFeatures:
    """Build the unfitted raw comment -> (word 1-2, char_wb 2-5 TF-IDF, signals) transform."""
    p = params or FeatureParams()
    words = load_lexicon(p.lexicon) if p.lexicon else ()
    mapping = load_word_map(p.word_map) if p.word_map else ()
    return CommentFeatures(p.word_max_features, p.char_max_features, p.min_df, signals=p.signals, author=p.author,
                           lexicon=words, word_map=mapping, brands=p.brands, capitals=p.capitals,
                           not_brands=load_words(p.not_brands) if p.not_brands else ())


def build_classifier(params: FeatureParams | None = None) -> LogisticRegression | LinearSVC:
    """Build the unfitted linear classifier used by each head."""
    p = params or FeatureParams()
    if p.classifier == "svm":
        return LinearSVC(C=p.C, loss="squared_hinge", dual=True, max_iter=5000)
    if p.classifier != "lr":
        raise ValueError(f"unknown classifier {p.classifier!r} (lr or svm)")
    return LogisticRegression(C=p.C, max_iter=2000, solver="liblinear")


def build_pipeline(features: Any = None, clf: Any = None) -> Pipeline:
    """Assemble a head: raw comment -> features -> classifier (fitted parts may be passed in)."""
    return Pipeline(
        [
            ("features", features if features is not None else build_features()),
            ("clf", clf if clf is not None else build_classifier()),
        ]
    )


def compact(features: Any) -> None:
    """Drop fit-time leftovers (pruned vocabulary) that would bloat the pickle."""
    vectorizers = getattr(features, "vectorizers_", None) or getattr(features, "transformer_list", [])
    for _, vec in vectorizers:
        # stop_words_ holds every term cut by min_df/max_features: often
        # millions of strings, needed only for introspection.
        if hasattr(vec, "stop_words_"):
            del vec.stop_words_


PLACEHOLDERS = {
    BRAND_TOKEN: "a brand-like name such as AERO88",
    "xurlx": "a link",
    "xemailx": "an e-mail address",
    "xphonex": "a phone number",
}
"""What the placeholder words of the model's text stand for, said beside a reason that holds one."""


def _gloss(name: str) -> str:
    """' (xbrandx = a brand-like name ...)' for a feature holding placeholders, else ''."""
    said = [f"{token} = {meaning}" for token, meaning in PLACEHOLDERS.items() if token in name]
    return f" ({'; '.join(said)})" if said else ""


def top_contributions(
    indices: np.ndarray, values: np.ndarray, coef: np.ndarray, names: np.ndarray, k: int
) -> list[tuple[str, float]]:
    """Return up to ``k`` (n-gram, x*w) pairs with the largest positive contribution in one row."""
    return _top_of(values * coef[indices], indices, names, k)


def _top_of(contrib: np.ndarray, indices: np.ndarray, names: np.ndarray, k: int) -> list[tuple[str, float]]:
    """Top ``k`` positive contributions of one row, given x*w per stored column (array methods: no wrappers)."""
    positive = (contrib > 0).nonzero()[0]
    if positive.size == 0:
        return []
    # Over-fetch: overlapping char n-grams of one word are collapsed below.
    take = min(positive.size, 4 * k)
    best = positive[(-contrib[positive]).argpartition(take - 1)[:take]]
    best = best[(-contrib[best]).argsort()]
    chosen: list[tuple[str, float]] = []
    # Python ints and floats for the loop: indexing numpy scalars one by one costs more than the loop.
    for col, weight in zip(indices[best].tolist(), contrib[best].tolist(), strict=True):
        name = str(names[col]).strip()
        if any(name in seen or seen in name for seen, _ in chosen):
            continue
        chosen.append((name, weight))
        if len(chosen) == k:
            break
    return chosen


def _column_names(features: Any) -> np.ndarray:
    """Invert the vocabularies of a fitted feature transform into one column -> name array."""
    if isinstance(features, CommentFeatures):
        return features.get_feature_names_out()
    parts = []
    for _, vec in features.transformer_list:  # models saved before CommentFeatures: a FeatureUnion
        names = np.empty(len(vec.vocabulary_), dtype=object)
        for term, col in vec.vocabulary_.items():
            names[col] = term
        parts.append(names)
    return np.concatenate(parts)


class ModerationModel:
    """A spam head and an abusive head, scored together on normalised text."""

    def __init__(
        self, spam: Pipeline, abusive: Pipeline, calibration: dict[str, tuple[float, float]] | None = None
    ) -> None:
        """Wrap two fitted pipelines built by :func:`build_pipeline`; calibration maps head -> (a, b)."""
        self.pipelines: dict[str, Pipeline] = {SPAM: spam, ABUSIVE: abusive}
        # Platt scaling fitted on held-out decision values: P = 1 / (1 + exp(-(a*d + b))).
        self.calibration: dict[str, tuple[float, float]] = dict(calibration or {})
        self._names: dict[str, np.ndarray] = {}
        self._linear: dict[str, tuple[np.ndarray, float]] = {}
        self._fast: tuple[CommentFeatures | None] | None = None

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the lazily built feature-name arrays and per-process caches."""
        return {"pipelines": self.pipelines, "calibration": self.calibration}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore from a pickle; feature names are rebuilt on first explain."""
        self.pipelines = state["pipelines"]
        self.calibration = state.get("calibration", {})
        self._names = {}
        self._linear = {}
        self._fast = None

    def features(self, texts: Sequence[str | CommentDoc]) -> dict[str, sp.csr_matrix]:
        """Transform a batch (texts or CommentDocs) once per distinct feature step; each head's sparse matrix."""
        normalized: list[str] | None = None
        # Heads trained together share one fitted feature step (the same
        # object after unpickling too): transform once per distinct step.
        by_union: dict[int, sp.csr_matrix] = {}
        out: dict[str, sp.csr_matrix] = {}
        for head, pipe in self.pipelines.items():
            union = pipe.named_steps["features"]
            if id(union) not in by_union:
                if "normalize" in pipe.named_steps:  # older models: FeatureUnion over normalised text
                    plain = [t.text if isinstance(t, CommentDoc) else t for t in texts]
                    normalized = normalized if normalized is not None else normalize_many(plain)
                    by_union[id(union)] = union.transform(normalized).tocsr()
                else:
                    by_union[id(union)] = union.transform(list(texts)).tocsr()
            out[head] = by_union[id(union)]
        return out

    def rows(self, texts: Sequence[str | CommentDoc]) -> dict[str, SparseRows | sp.csr_matrix]:
        """Feature rows of each head for scoring: the fast SparseRows path where the model allows it.

        The fast path needs one shared CommentFeatures step and calibrated heads
        (only ``X @ w`` is computed); other models get :meth:`features`.
        """
        if self._fast is None:  # decided once per process: sklearn's named_steps builds a Bunch per access
            steps = {id(p.named_steps["features"]): p.named_steps["features"] for p in self.pipelines.values()}
            step = next(iter(steps.values()))
            calibrated = set(self.calibration) >= set(self.pipelines)
            usable = len(steps) == 1 and isinstance(step, CommentFeatures) and calibrated
            self._fast = (step if usable else None,)
        step = self._fast[0]
        if step is None:
            return dict(self.features(texts))
        return dict.fromkeys(self.pipelines, step.rows(texts))

    def coef(self, head: str) -> np.ndarray:
        """Return the linear weights of one head as a 1-D array."""
        clf = self.pipelines[head].named_steps["clf"]
        return np.asarray(clf.coef_).ravel()

    def decision(self, head: str, matrix: sp.csr_matrix | SparseRows) -> np.ndarray:
        """Return the raw linear decision values of one head (the margin, before calibration)."""
        # X @ w + b, as decision_function computes it, without sklearn's per-call input validation.
        if head not in self._linear:
            clf = self.pipelines[head].named_steps["clf"]
            self._linear[head] = (self.coef(head), float(np.ravel(clf.intercept_)[0]))
        coef, intercept = self._linear[head]
        product = matrix.dot(coef) if isinstance(matrix, SparseRows) else matrix @ coef
        return np.asarray(product + intercept, dtype=np.float64)

    def probabilities(self, head: str, matrix: sp.csr_matrix | SparseRows) -> np.ndarray:
        """Return the calibrated P(positive class) for rows of a feature matrix of ``head``."""
        if head in self.calibration:
            a, b = self.calibration[head]
            return np.asarray(1.0 / (1.0 + np.exp(-(a * self.decision(head, matrix) + b))))
        clf = self.pipelines[head].named_steps["clf"]
        return np.asarray(clf.predict_proba(matrix)[:, 1], dtype=np.float64)

    def predict(self, texts: Sequence[str | CommentDoc]) -> tuple[np.ndarray, np.ndarray]:
        """Return (spam probability, abusive probability) arrays for a batch of texts."""
        mats = self.features(texts)
        return self.probabilities(SPAM, mats[SPAM]), self.probabilities(ABUSIVE, mats[ABUSIVE])

    def feature_names(self, head: str) -> np.ndarray:
        """Return the n-gram of every feature column of ``head`` (built once per process)."""
        if head not in self._names:
            union = self.pipelines[head].named_steps["features"]
            shared = [h for h, p in self.pipelines.items() if p.named_steps["features"] is union]
            names = _column_names(union)
            for h in shared:
                self._names[h] = names
        return self._names[head]

    def reasons_for_row(self, head: str, matrix: sp.csr_matrix | SparseRows, i: int, k: int) -> list[dict[str, Any]]:
        """Turn the top positive contributions of row ``i`` of a CSR matrix (or SparseRows) into reason dicts."""
        coef = self._linear[head][0] if head in self._linear else self.coef(head)
        if isinstance(matrix, SparseRows):  # x*w of the whole batch at once, sliced per explained row
            indptr, indices, _ = matrix.row_major()
            start, end = indptr[i], indptr[i + 1]
            contrib = matrix.contributions(head, coef)[start:end]
        else:
            indptr, indices = matrix.indptr, matrix.indices
            start, end = indptr[i], indptr[i + 1]
            contrib = matrix.data[start:end] * coef[indices[start:end]]
        pairs = _top_of(contrib, indices[start:end], self.feature_names(head), k)
        return [
            {"code": f"model.{head}", "detail": f"'{name}' +{weight:.2f}{_gloss(name)}",
             "feature": name, "weight": round(weight, 4)}
            for name, weight in pairs
        ]  # fmt: skip

    def explain(self, text: str | CommentDoc, k: int = 5, abusive_above: float = 0.5) -> list[dict[str, Any]]:
        """Top features pushing ``text`` towards spam (and abusive, when that score is high)."""
        mats = self.features([text])
        reasons = self.reasons_for_row(SPAM, mats[SPAM], 0, k)
        if self.probabilities(ABUSIVE, mats[ABUSIVE])[0] >= abusive_above:
            reasons += self.reasons_for_row(ABUSIVE, mats[ABUSIVE], 0, k)
        return reasons
