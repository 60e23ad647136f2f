"""The feature step inside saved pipelines: ``CommentFeatures`` reads a comment (normalised text, n-grams,
signals, author fields, lexicon) into one feature row; ``SparseRows`` holds rows for the scoring fast path.

It lives in the runtime package because a saved model imports it when loaded.  The n-gram vectorizer is
``moderation.reading.vectorizers.FastTfidfVectorizer`` (re-exported here: models saved before the split name it here).
"""

from __future__ import annotations

import unicodedata
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from moderation.reading.lexicon import LEXICON_NAMES, Lexicon, apply_word_map, mask_brands
from moderation.reading.signals import (
    AUTHOR_SIGNAL_NAMES,
    SIGNAL_NAMES,
    CommentDoc,
    author_row,
    signal_row,
    signal_values,
    split_docs,
)
from moderation.reading.text import normalize_many
from moderation.reading.vectorizers import FastTfidfVectorizer, char_wb_ngrams, word_ngrams

__all__ = [
    "AUTHOR_SIGNAL_NAMES", "SIGNAL_NAMES", "CommentDoc", "CommentFeatures", "FastTfidfVectorizer", "SparseRows",
    "author_row",
    "char_wb_ngrams", "signal_row", "split_docs", "word_ngrams",
]  # fmt: skip

class SparseRows:
    """Feature rows as (row, col, value) triplets in CSR order *within each block*: the scoring fast path.

    Building scipy matrices costs ~0.3 ms per block per call in validation
    alone, which dominates scoring one comment.  A linear head only needs
    ``X @ w``, computed here with one ``bincount``: for every row it adds
    ``float64(value) * w[col]`` in the same order as scipy's CSR mat-vec
    (blocks left to right, columns ascending), so the result is bit-identical.
    """

    def __init__(self, n_rows: int, rows: np.ndarray, cols: np.ndarray, data: np.ndarray,
                 texts: list[str] | None = None) -> None:  # fmt: skip
        """Wrap triplets; ``data`` is float32 like the CSR matrices of the training path; ``texts`` as the
        n-grams read them (for reasons that name words)."""
        self.n_rows, self.rows, self.cols, self.data, self.texts = n_rows, rows, cols, data, texts
        self._csr: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def dot(self, coef: np.ndarray) -> np.ndarray:
        """Return ``X @ coef`` (float64), as scipy computes it for the equivalent CSR matrix."""
        data64 = self.__dict__.get("_data64")
        if data64 is None:  # shared by both heads
            data64 = self.__dict__["_data64"] = self.data.astype(np.float64)
        return np.bincount(self.rows, weights=data64 * coef[self.cols], minlength=self.n_rows)

    def row_major(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(indptr, indices, data) of the whole matrix in CSR order (built once, on demand)."""
        if self._csr is None:
            order = np.argsort(self.rows, kind="stable")  # keeps block and column order within a row
            indptr = np.zeros(self.n_rows + 1, dtype=np.int64)
            np.cumsum(np.bincount(self.rows, minlength=self.n_rows), out=indptr[1:])
            self._csr = (indptr, self.cols[order], self.data[order])
        return self._csr

    def contributions(self, key: str, coef: np.ndarray) -> np.ndarray:
        """Per stored value x*w in CSR order (cached under ``key``, one head's weights): the reasons' input."""
        cache: dict[str, np.ndarray] = self.__dict__.setdefault("_contrib", {})
        if key not in cache:
            _, indices, data = self.row_major()
            cache[key] = data * coef[indices]
        return cache[key]

    @property
    def indptr(self) -> np.ndarray:
        """CSR row pointers (as on a csr_matrix, for reading one row's features)."""
        return self.row_major()[0]

    @property
    def indices(self) -> np.ndarray:
        """CSR column indices."""
        return self.row_major()[1]

    @property
    def csr_data(self) -> np.ndarray:
        """CSR values, row-major."""
        return self.row_major()[2]


class CommentFeatures(BaseEstimator, TransformerMixin):  # type: ignore[misc]
    """Comment -> [word 1-2-gram | char 2-5-gram TF-IDF of the normalised text | signals | author | lexicon].

    Input items are plain texts or CommentDocs (text plus author fields); a
    plain text has empty author fields.  ``char_analyzer`` is ``char`` (n-grams
    across word boundaries) or ``char_wb`` (within words, models before the
    cross-source recipe); ``word`` switches the word n-grams; ``signal_names``
    selects signals from ``moderation.reading.signals.ALL_SIGNAL_NAMES`` (None: the
    eleven of ``signal_row``, as older models read them); ``map_ngrams`` has the
    n-grams read the word-mapped text (the lexicon always does).
    """

    def __init__(
        self,
        word_max_features: int = 150_000,
        char_max_features: int = 250_000,
        min_df: int = 2,
        signals: bool = True,
        signal_weight: float = 0.5,
        author: bool = False,
        lexicon: tuple[str, ...] = (),
        word_map: tuple[tuple[str, str], ...] = (),
        brands: bool = False,
        not_brands: tuple[str, ...] = (),
        capitals: bool = True,
        char_analyzer: str = "char_wb",
        word: bool = True,
        signal_names: tuple[str, ...] | None = None,
        map_ngrams: bool = True,
    ) -> None:
        """Keep the settings; the vectorizers are built in fit (sklearn convention)."""
        self.word_max_features = word_max_features
        self.char_max_features = char_max_features
        self.min_df = min_df
        self.signals = signals
        self.signal_weight = signal_weight
        self.author = author
        self.lexicon = lexicon
        self.word_map = word_map
        self.brands = brands
        self.not_brands = not_brands
        self.capitals = capitals
        self.char_analyzer = char_analyzer
        self.word = word
        self.signal_names = signal_names
        self.map_ngrams = map_ngrams

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickle; models saved before author signals existed get ``author=False`` and score as before."""
        state.setdefault("author", False)
        state.setdefault("lexicon", ())
        state.setdefault("word_map", ())
        state.setdefault("brands", False)  # older models read brand names as they are
        state.setdefault("not_brands", ())
        state.setdefault("capitals", True)  # older models read the capitals ratio
        state.setdefault("char_analyzer", "char_wb")  # ... char n-grams within words
        state.setdefault("word", True)  # ... word n-grams
        state.setdefault("signal_names", None)  # ... and the eleven signals of signal_row
        state.setdefault("map_ngrams", True)  # ... and n-grams of word-mapped text
        super().__setstate__(state)

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the lookup structures (rebuilt from ``lexicon`` and ``word_map`` on first use)."""
        state = dict(super().__getstate__())
        state.pop("_lexicon", None)
        state.pop("_word_map_dict", None)
        state.pop("_keep", None)
        return state

    def _mapped(self, normalized: list[str]) -> list[str]:
        """Normalised texts with the word map applied (unchanged without one)."""
        if not self.word_map:
            return normalized
        mapping = self.__dict__.get("_word_map_dict")
        if mapping is None:
            mapping = self.__dict__["_word_map_dict"] = dict(self.word_map)
        return [apply_word_map(n, mapping) for n in normalized]

    def _normalize(self, raw: list[str]) -> tuple[list[str], list[str]]:
        """(normalised, model text): signals read the first, n-grams the second (words mapped where
        ``map_ngrams``, brands masked where ``brands``)."""
        normalized = normalize_many(raw)
        texts = self._mapped(normalized) if self.map_ngrams else normalized
        if self.brands:
            keep = frozenset(self.not_brands)
            texts = [mask_brands(t, keep) for t in texts]
        return normalized, texts

    def _vectorizers(self) -> list[tuple[str, FastTfidfVectorizer]]:
        """Build the unfitted word and char vectorizers."""
        common: dict[str, Any] = {"lowercase": False, "sublinear_tf": True, "min_df": self.min_df,
                                  "dtype": np.float32}  # fmt: skip
        char = FastTfidfVectorizer(analyzer=self.char_analyzer, ngram_range=(2, 5),
                                   max_features=self.char_max_features, **common)  # fmt: skip
        if not self.word:
            return [("char", char)]
        word = FastTfidfVectorizer(analyzer="word", ngram_range=(1, 2), max_features=self.word_max_features, **common)
        return [("word", word), ("char", char)]

    def fit(self, raw_documents: Any, y: Any = None) -> CommentFeatures:
        """Fit the vocabularies on raw comments."""
        self.fit_transform(raw_documents)
        return self

    def fit_transform(self, raw_documents: Any, y: Any = None, **fit_params: Any) -> sp.csr_matrix:
        """Fit on raw comments and return their feature rows."""
        raw, docs = split_docs(raw_documents)
        normalized, mapped = self._normalize(raw)
        self.vectorizers_ = self._vectorizers()
        parts = [vec.fit_transform(mapped) for _, vec in self.vectorizers_]
        for _, vec in self.vectorizers_:
            if hasattr(vec, "stop_words_"):
                del vec.stop_words_  # every pruned term: large, needed only for introspection
        return self._stack(parts, raw, (normalized, mapped), docs)

    def transform(self, raw_documents: Any) -> sp.csr_matrix:
        """Feature rows of raw comments (normalised once, shared by every part)."""
        if not hasattr(self, "vectorizers_"):
            check_is_fitted(self, "vectorizers_")
        raw, docs = split_docs(raw_documents)
        texts = self._normalize(raw)
        return self._stack([vec.transform(texts[1]) for _, vec in self.vectorizers_], raw, texts, docs)

    def _stack(
        self, parts: list[sp.csr_matrix], raw: list[str], texts: tuple[list[str], list[str]], docs: list[CommentDoc]
    ) -> sp.csr_matrix:
        """Join the n-gram blocks, the signal block and the author block into one CSR matrix."""
        parts = [*parts, *(sp.csr_matrix(d) for d in self._dense_blocks(raw, texts, docs))]
        return sp.hstack(parts, format="csr", dtype=np.float32)

    def _dense_blocks(
        self, raw: list[str], texts: tuple[list[str], list[str]], docs: list[CommentDoc]
    ) -> list[np.ndarray]:
        """The signal, author and lexicon blocks (float32, already weighted), those that are switched on."""
        normalized, mapped = texts
        blocks = []
        if self.signals and self.signal_names is not None:
            blocks.append(self._signal_block(raw, texts))
        elif self.signals:
            folded = [unicodedata.normalize("NFKC", t) if not t.isascii() else t for t in raw]
            masked = mapped if self.brands else [None] * len(raw)  # the brand signal follows the mask
            caps = self.capitals
            rows = np.asarray([signal_row(r, n, m, caps) for r, n, m in zip(folded, normalized, masked, strict=True)],
                              dtype=np.float32)  # fmt: skip
            blocks.append(rows.reshape(len(raw), len(SIGNAL_NAMES)) * self.signal_weight)
        if self.author and not any(d.author_name or d.author_url or d.author_email for d in docs):
            blocks.append(np.zeros((len(raw), len(AUTHOR_SIGNAL_NAMES)), dtype=np.float32))  # nothing to read
        elif self.author:
            rows = np.asarray([author_row(d, n) for d, n in zip(docs, normalized, strict=True)], dtype=np.float32)
            blocks.append(rows.reshape(len(raw), len(AUTHOR_SIGNAL_NAMES)) * self.signal_weight)
        if self.lexicon:
            lexicon = self.__dict__.get("_lexicon")
            if lexicon is None:
                lexicon = self.__dict__["_lexicon"] = Lexicon(self.lexicon, dict(self.word_map))
            words = mapped if self.map_ngrams else self._mapped(normalized)  # the lexicon reads mapped words
            rows = np.asarray([lexicon.row(n) for n in words], dtype=np.float32)
            blocks.append(rows.reshape(len(raw), len(LEXICON_NAMES)) * self.signal_weight)
        return blocks

    def _signal_block(self, raw: list[str], texts: tuple[list[str], list[str]]) -> np.ndarray:
        """The selected signals (``signal_names``) of a batch, weighted."""
        names = self.signal_names or ()
        keep = self.__dict__.get("_keep")
        if keep is None:
            keep = self.__dict__["_keep"] = frozenset(self.not_brands)
        masked = texts[1] if self.brands else [None] * len(raw)
        rows = [signal_values(names, r, n, m, keep) for r, n, m in zip(raw, texts[0], masked, strict=True)]
        return np.asarray(rows, dtype=np.float32).reshape(len(raw), len(names)) * self.signal_weight

    def rows(self, raw_documents: Any) -> SparseRows | sp.csr_matrix:
        """Feature rows for scoring: SparseRows (same values as ``transform``, no scipy overhead) where supported."""
        raw, docs = split_docs(raw_documents)
        texts = self._normalize(raw)
        blocks = [vec.triplets(texts[1]) for _, vec in self.vectorizers_]
        if any(b is None for b in blocks):
            return self._stack([vec.transform(texts[1]) for _, vec in self.vectorizers_], raw, texts, docs)
        rows, cols, data, offset = [], [], [], 0
        for (_, vec), block in zip(self.vectorizers_, blocks, strict=True):
            assert block is not None
            rows.append(block[0])
            cols.append(block[1] + offset)
            data.append(block[2])
            offset += len(vec.vocabulary_)
        for dense in self._dense_blocks(raw, texts, docs):
            r, c = np.nonzero(dense)  # row-major, as csr_matrix(dense) keeps them
            rows.append(r.astype(np.int64))
            cols.append(c.astype(np.int64) + offset)
            data.append(dense[r, c])
            offset += dense.shape[1]
        return SparseRows(len(raw), np.concatenate(rows), np.concatenate(cols), np.concatenate(data), texts[1])

    def model_texts(self, raw_documents: Any) -> list[str]:
        """The texts the n-grams read (normalised; words mapped and brands masked where the model does so)."""
        return self._normalize(split_docs(raw_documents)[0])[1]

    def char_block(self) -> tuple[FastTfidfVectorizer, int] | None:
        """The ``char`` vectorizer (n-grams across words) and its first column, or None for other models."""
        offset = 0
        for _, vec in self.vectorizers_:
            if vec.analyzer == "char":
                return vec, offset
            offset += len(vec.vocabulary_)
        return None

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Name of every column: the n-gram, or ``signal:...`` for a structural signal."""
        check_is_fitted(self, "vectorizers_")
        names = []
        for _, vec in self.vectorizers_:
            block = np.empty(len(vec.vocabulary_), dtype=object)
            for term, col in vec.vocabulary_.items():
                block[col] = term
            names.append(block)
        if self.signals:
            names.append(np.asarray(SIGNAL_NAMES if self.signal_names is None else self.signal_names, dtype=object))
        if self.author:
            names.append(np.asarray(AUTHOR_SIGNAL_NAMES, dtype=object))
        if self.lexicon:
            names.append(np.asarray(LEXICON_NAMES, dtype=object))
        return np.concatenate(names)
