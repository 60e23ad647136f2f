"""One reading of a training run's documents, shared by every fit of the run.

A training run fits the same recipe several times: on all rows, on an 80 %
split, and once per source held out.  Reading the text (normalising it, cutting
it into n-grams, counting them, computing the signals) is most of a fit's work
and is the same each time; only which rows are counted differs.  ``Corpus``
reads every document once: it counts every n-gram of every document, then a
fit on some rows keeps the n-grams those rows alone would keep (document
frequency within the rows, ``max_features`` by their counts, sklearn's
alphabetical order) and weighs them by those rows' IDF.  The fitted
``CommentFeatures`` is therefore the very object ``fit_transform`` on those rows
would build, and nothing of a held-out row leaks into a fit that holds it out
(a test checks both against sklearn).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

from moderation.model.estimator import FeatureParams, build_features
from moderation.reading.features import CommentDoc, CommentFeatures, FastTfidfVectorizer, split_docs

__all__ = ["Corpus", "FittedFeatures"]


@dataclass
class _Counts:
    """Every n-gram count of one vectorizer's view, over all documents (columns in alphabetical order)."""

    name: str
    prototype: FastTfidfVectorizer  # unfitted, with the recipe's settings
    matrix: sp.csr_matrix  # documents x every n-gram, float32 counts
    terms: np.ndarray  # column -> n-gram


@dataclass
class FittedFeatures:
    """A feature step fitted on some rows of a corpus, and which corpus columns each vectorizer kept."""

    features: CommentFeatures
    kept: list[np.ndarray]


class Corpus:
    """Documents read once; ``fit`` and ``transform`` for any rows, as a fresh feature step would do them."""

    def __init__(self, docs: Sequence[CommentDoc], params: FeatureParams) -> None:
        """Normalise, count every n-gram and compute the signal blocks of every document, once."""
        self.template = build_features(params)
        raw, items = split_docs(docs)
        texts = self.template._normalize(raw)
        self.counts = [_count(name, vec, texts[1]) for name, vec in self.template._vectorizers()]
        blocks = self.template._dense_blocks(raw, texts, items)
        self.dense = sp.hstack([sp.csr_matrix(b) for b in blocks], format="csr") if blocks else None

    def __len__(self) -> int:
        """Number of documents."""
        return self.counts[0].matrix.shape[0]

    def fit(self, rows: np.ndarray) -> tuple[FittedFeatures, sp.csr_matrix]:
        """The feature step fitted on ``rows`` (in that order) and their feature matrix."""
        features = clone(self.template)
        vectorizers, kept, parts = [], [], []
        for counts in self.counts:
            sub = counts.matrix[rows]
            columns = _kept_columns(counts.prototype, sub)
            vec = clone(counts.prototype)
            vec.vocabulary_ = dict(zip(counts.terms[columns].tolist(), range(len(columns)), strict=True))
            vec.fixed_vocabulary_ = False
            x = _sorted(sub[:, columns])
            vec._tfidf = TfidfTransformer(norm=vec.norm, use_idf=vec.use_idf, smooth_idf=vec.smooth_idf,
                                          sublinear_tf=vec.sublinear_tf).fit(x)  # fmt: skip
            parts.append(vec._tfidf.transform(x, copy=False))
            vectorizers.append((counts.name, vec))
            kept.append(columns)
        features.vectorizers_ = vectorizers
        fitted = FittedFeatures(features, kept)
        return fitted, self._stack(parts, rows)

    def transform(self, fitted: FittedFeatures, rows: np.ndarray) -> sp.csr_matrix:
        """Feature rows of ``rows`` under a step fitted on other rows (n-grams it did not keep are dropped)."""
        parts = []
        for (_, vec), counts, columns in zip(fitted.features.vectorizers_, self.counts, fitted.kept, strict=True):
            parts.append(vec._tfidf.transform(_sorted(counts.matrix[rows][:, columns]), copy=False))
        return self._stack(parts, rows)

    def _stack(self, parts: list[Any], rows: np.ndarray) -> sp.csr_matrix:
        """The n-gram blocks beside the signal blocks of the same rows, as CommentFeatures stacks them."""
        blocks = [*parts, self.dense[rows]] if self.dense is not None else parts
        return sp.hstack(blocks, format="csr", dtype=np.float32)


def _count(name: str, prototype: FastTfidfVectorizer, texts: list[str]) -> _Counts:
    """Count every n-gram of the view in every text (no pruning: each fit prunes for its own rows)."""
    counter = CountVectorizer(analyzer=prototype.analyzer, ngram_range=prototype.ngram_range, lowercase=False,
                              token_pattern=prototype.token_pattern, dtype=prototype.dtype)  # fmt: skip
    matrix = counter.fit_transform(texts).tocsr()
    return _Counts(name, prototype, matrix, counter.get_feature_names_out())


def _sorted(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """The matrix as CSR with sorted indices, as sklearn's counting leaves it."""
    matrix = sp.csr_matrix(matrix)
    matrix.sort_indices()
    return matrix


def _kept_columns(prototype: FastTfidfVectorizer, counts: sp.csr_matrix) -> np.ndarray:
    """The n-grams a vectorizer fitted on these rows keeps: sklearn's min_df / max_df / max_features rule."""
    n_doc = counts.shape[0]
    high = float(prototype.max_df if isinstance(prototype.max_df, Integral) else prototype.max_df * n_doc)
    low = float(prototype.min_df if isinstance(prototype.min_df, Integral) else prototype.min_df * n_doc)
    dfs = np.bincount(counts.indices, minlength=counts.shape[1])  # documents holding each n-gram
    mask = (dfs >= max(low, 1)) & (dfs <= high)  # an n-gram absent from these rows is not in their vocabulary
    limit = prototype.max_features
    if limit is not None and mask.sum() > limit:
        totals = np.asarray(counts.sum(axis=0)).ravel()
        best = (-totals[mask]).argsort()[:limit]  # sklearn's own ordering, over the alphabetical columns
        new_mask = np.zeros(len(dfs), dtype=bool)
        new_mask[np.flatnonzero(mask)[best]] = True
        mask = new_mask
    return np.flatnonzero(mask)
