"""The runtime model object: two text classifiers (spam, abusive) in one pickle, and the recipe that builds them.

Workers unpickle this class, so it lives in the runtime package and imports
nothing from ``training``.  Both heads are sklearn Pipelines
``CommentFeatures(normalise -> char 2-5-gram TF-IDF, signals, lexicon) -> linear classifier``
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
from sklearn.base import BaseEstimator, clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

from moderation.model.reasons import words_of
from moderation.reading.features import CommentDoc, CommentFeatures, SparseRows
from moderation.reading.lexicon import BRAND_TOKEN, load_lexicon, load_word_map, load_words
from moderation.reading.signals import DISGUISED_BRAND
from moderation.reading.text import normalize_many

__all__ = [
    "LEGACY_PARAMS",
    "FeatureParams",
    "ModerationModel",
    "PinnedLinear",
    "build_classifier",
    "build_features",
    "build_pipeline",
    "pinned_columns",
    "top_contributions",
]

SPAM = "spam"
ABUSIVE = "abusive"
HEADS = (SPAM, ABUSIVE)


DEFAULT_LEXICON = Path(__file__).resolve().parents[2] / "config" / "lexicons" / "abusive_id.txt"
"""The project's own Indonesian abusive-word list (a feature of both heads; the abusive head uses it)."""


DEFAULT_NOT_BRANDS = DEFAULT_LEXICON.parent / "not_brands.txt"
"""Letter parts of letter+digit tokens that are not gambling brands (jkt48, densus88, iphone15)."""


@dataclass(frozen=True)
class FeatureParams:
    """The recipe: how a comment is read, the classifier of each head, and how training adds rows.

    The defaults are the cross-source recipe (``docs/model/crossval.md``): every part was kept only where it
    paid on sources held out whole.  ``LEGACY_PARAMS`` is the recipe before it, kept for comparison.
    """

    word_max_features: int = 150_000
    char_max_features: int = 400_000
    min_df: int = 2
    C: float = 0.5
    classifier: str = "svm"  # "svm" (linear SVM; probabilities from Platt calibration) or "lr"
    class_weight: str | None = "balanced"  # spam and ham weigh alike, whatever their share of the rows
    char_analyzer: str = "char"  # "char": n-grams across word boundaries; "char_wb": within words
    word: bool = False  # word 1-2-grams beside the char n-grams
    signals: bool = True
    # the signals read, from moderation.reading.signals.ALL_SIGNAL_NAMES; None: the eleven of signal_row (older recipe)
    signal_names: tuple[str, ...] | None = ("signal:phone", DISGUISED_BRAND)
    # margin added by a brand-like name written in disguise (spam head), pinned rather than learnt: learnt, it
    # explains away the words around a brand and brandless spam scores lower; 0 learns it like any feature
    brand_prior: float = 1.0
    author: bool = True  # author name/URL/e-mail signals (texts without author fields get zeros)
    lexicon: str | None = str(DEFAULT_LEXICON)  # abusive-word lexicon file, read at training, stored in the model
    brands: bool = False  # brand-like tokens (aero88) read as xbrandx in the n-grams (readers' handles look alike)
    not_brands: str | None = str(DEFAULT_NOT_BRANDS)  # letters+digits that are not brands (jkt48), stored in the model
    # slang/typo -> formal word CSV (word,normalized), read at training, stored in the model
    word_map: str | None = None
    # the n-grams read the word-mapped text too (the lexicon always does); off: mapping cost recall cross-source
    map_ngrams: bool = False
    # the capitals-ratio signal (older recipe only): it punished how a comment is typed
    capitals: bool = False
    # training also reads every comment lower-cased without punctuation, as other platforms and plugins deliver it
    style_copies: bool = True
    # the spam head's calibration and approve_below / spam_above from sources held out whole (not the 80/20 split)
    cross_source_thresholds: bool = True
    # a site's own model: its rows also read in columns of their own (training/site_columns.py), folded back in
    site_columns: bool = False


LEGACY_PARAMS = FeatureParams(
    char_max_features=250_000, C=8.0, classifier="lr", class_weight=None, char_analyzer="char_wb", word=True,
    signal_names=None, brand_prior=0.0, brands=True, style_copies=False, cross_source_thresholds=False,
    map_ngrams=True,
)  # fmt: skip
"""The recipe models were trained with before the cross-source recipe (chosen on in-source grouped folds)."""


def build_features(params: FeatureParams | None = None) -> CommentFeatures:
    """Build the unfitted raw comment -> (char 2-5 TF-IDF, signals, author, lexicon) transform of a recipe."""
    p = params or FeatureParams()
    words = load_lexicon(p.lexicon) if p.lexicon else ()
    mapping = load_word_map(p.word_map) if p.word_map else ()
    return CommentFeatures(p.word_max_features, p.char_max_features, p.min_df, signals=p.signals, author=p.author,
                           lexicon=words, word_map=mapping, brands=p.brands, capitals=p.capitals,
                           not_brands=load_words(p.not_brands) if p.not_brands else (),
                           char_analyzer=p.char_analyzer, word=p.word, signal_names=p.signal_names,
                           map_ngrams=p.map_ngrams)  # fmt: skip


def build_classifier(params: FeatureParams | None = None) -> LogisticRegression | LinearSVC:
    """Build the unfitted linear classifier used by each head."""
    p = params or FeatureParams()
    if p.classifier == "svm":
        return LinearSVC(C=p.C, class_weight=p.class_weight, loss="squared_hinge", dual=True, max_iter=5000,
                         random_state=0)  # fmt: skip
    if p.classifier != "lr":
        raise ValueError(f"unknown classifier {p.classifier!r} (lr or svm)")
    return LogisticRegression(C=p.C, class_weight=p.class_weight, max_iter=2000, solver="liblinear")


def pinned_columns(features: CommentFeatures, params: FeatureParams, head: str) -> tuple[tuple[int, float], ...]:
    """The (column, weight) pairs a head's classifier takes as given instead of learning (the brand prior)."""
    if head != SPAM or not params.brand_prior or DISGUISED_BRAND not in (params.signal_names or ()):
        return ()
    names = list(features.get_feature_names_out())
    # Stored feature values are signal * signal_weight, so the weight is scaled to add exactly brand_prior.
    return ((names.index(DISGUISED_BRAND), params.brand_prior / features.signal_weight),)


class PinnedLinear(BaseEstimator):  # type: ignore[misc]
    """A linear classifier fitted without some columns, whose weights on them are then set to given values.

    An additive prior: ``decision = learnt(x without pinned) + sum(weight * x_pinned)``.  Scoring reads
    ``coef_`` and ``intercept_`` like any linear head, so saved models need nothing special to score.
    """

    def __init__(self, estimator: Any = None, pinned: tuple[tuple[int, float], ...] = ()) -> None:
        """Keep the inner estimator (unfitted) and the pinned (column, weight) pairs."""
        self.estimator = estimator
        self.pinned = pinned

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> PinnedLinear:
        """Fit the inner estimator with the pinned columns zeroed, then pin their weights."""
        cols = [c for c, _ in self.pinned]
        keep = np.ones(X.shape[1], dtype=X.dtype)
        keep[cols] = 0
        inner = clone(self.estimator).fit(sp.csr_matrix(X) @ sp.diags(keep), y, sample_weight=sample_weight)
        coef = np.array(inner.coef_, dtype=np.float64)
        for col, weight in self.pinned:
            coef[0, col] = weight
        self.coef_, self.intercept_, self.classes_ = coef, np.asarray(inner.intercept_), inner.classes_
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """Signed distance of each row to the boundary (``X @ coef + intercept``)."""
        return np.asarray(X @ self.coef_.T).ravel() + float(self.intercept_[0])

    def predict(self, X: Any) -> np.ndarray:
        """The class of each row (positive where the decision is above 0)."""
        return np.asarray(self.classes_)[(self.decision_function(X) > 0).astype(int)]


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
    if "x" not in name:  # every placeholder is x...x: most reasons hold none
        return ""
    said = [f"{token} = {meaning}" for token, meaning in PLACEHOLDERS.items() if token in name]
    return f" ({'; '.join(said)})" if said else ""


def top_contributions(
    indices: np.ndarray, values: np.ndarray, coef: np.ndarray, names: np.ndarray, k: int
) -> list[tuple[str, float]]:
    """Return up to ``k`` (n-gram, x*w) pairs with the largest positive contribution in one row."""
    return _top_of(values * coef[indices], indices, names, k)


def _strongest(contrib: np.ndarray, n: int) -> np.ndarray:
    """Positions of the ``n`` largest positive contributions, largest first."""
    best = (-contrib).argpartition(n - 1)[:n] if contrib.size > n else np.arange(contrib.size)
    best = best[(-contrib[best]).argsort()]
    return best[contrib[best] > 0]


def _top_of(contrib: np.ndarray, indices: np.ndarray, names: np.ndarray, k: int) -> list[tuple[str, float]]:
    """Top ``k`` positive contributions of one row as (name, x*w), given x*w per stored column (array methods: no
    wrappers)."""
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
        self._spans: dict[str, tuple[int, int] | None] = {}
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
        self._spans = {}
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

    def reasons_for_row(
        self, head: str, matrix: sp.csr_matrix | SparseRows, i: int, k: int, text: str | None = None
    ) -> list[dict[str, Any]]:
        """Turn the top positive contributions of row ``i`` of a CSR matrix (or SparseRows) into reason dicts.

        A model reading char n-grams across words names the words holding its strongest n-grams, not the
        fragments; it needs the row's text as the n-grams read it (``SparseRows.texts``, or ``text`` for a CSR
        row: ``CommentFeatures.model_texts``).  Without it, and for other models, the n-grams are named.
        """
        coef = self._linear[head][0] if head in self._linear else self.coef(head)
        if isinstance(matrix, SparseRows):  # x*w of the whole batch at once, sliced per explained row
            indptr, indices, _ = matrix.row_major()
            start, end = indptr[i], indptr[i + 1]
            contrib = matrix.contributions(head, coef)[start:end]
            text = text if text is not None or matrix.texts is None else matrix.texts[i]
        else:
            indptr, indices = matrix.indptr, matrix.indices
            start, end = indptr[i], indptr[i + 1]
            contrib = matrix.data[start:end] * coef[indices[start:end]]
        names = self.feature_names(head)
        span = self._char_span(head)
        if text is None or span is None:
            pairs = _top_of(contrib, indices[start:end], names, k)
        else:  # the strongest n-grams, overlapping ones too: the score adds them all, and so does their word
            best = _strongest(contrib, 2 * k)
            cols = indices[start:end][best].tolist()
            found = [(str(names[c]), w) for c, w in zip(cols, contrib[best].tolist(), strict=True)]
            pairs = words_of(text, found, [span[0] <= c < span[1] for c in cols], k)
        return [
            {"code": f"model.{head}", "detail": f"'{name}' +{weight:.2f}{_gloss(name)}",
             "feature": name, "weight": round(weight, 4)}
            for name, weight in pairs
        ]  # fmt: skip

    def _char_span(self, head: str) -> tuple[int, int] | None:
        """The columns of a head's ``char`` n-gram block (across words), or None for models without one."""
        if head not in self._spans:
            step = self.pipelines[head].named_steps["features"]
            block = step.char_block() if isinstance(step, CommentFeatures) else None
            self._spans[head] = None if block is None else (block[1], block[1] + len(block[0].vocabulary_))
        return self._spans[head]

    def warm(self) -> None:
        """Build now what the first scored comment would otherwise wait for: feature names, the char n-gram index."""
        for head in self.pipelines:
            self.feature_names(head)
            step = self.pipelines[head].named_steps["features"]
            block = step.char_block() if isinstance(step, CommentFeatures) else None
            if block is not None:
                block[0].char_index()

    def model_texts(self, head: str, texts: Sequence[str | CommentDoc]) -> list[str] | None:
        """The texts a head's n-grams read (for word-level reasons), or None for models before CommentFeatures."""
        step = self.pipelines[head].named_steps["features"]
        return step.model_texts(list(texts)) if isinstance(step, CommentFeatures) else None

    def explain(self, text: str | CommentDoc, k: int = 5, abusive_above: float = 0.5) -> list[dict[str, Any]]:
        """Top features pushing ``text`` towards spam (and abusive, when that score is high)."""
        mats = self.features([text])
        read = self.model_texts(SPAM, [text])
        said = read[0] if read else None
        reasons = self.reasons_for_row(SPAM, mats[SPAM], 0, k, said)
        if self.probabilities(ABUSIVE, mats[ABUSIVE])[0] >= abusive_above:
            reasons += self.reasons_for_row(ABUSIVE, mats[ABUSIVE], 0, k, said)
        return reasons
