"""``FastTfidfVectorizer``: sklearn's TfidfVectorizer with a faster ``transform`` for the analyzers models use.

sklearn counts n-grams one at a time in a Python loop with a try/except per
n-gram; here ids are looked up with ``map(dict.get)`` and summed by one sparse
constructor.  ``char_wb`` n-grams never cross a word, so each word's ids are
cached (comment words repeat a lot): the char_wb transform of 500 comments drops
from ~85 ms to ~15 ms.  ``char`` n-grams cross words and are looked up for the
whole batch at once in numpy (``moderation.reading.charindex``).  Fitting is the
parent's code, and tests check that every output equals the parent's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import chain, repeat
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.sparsefuncs_fast import _inplace_csr_row_normalize_l2, inplace_csr_row_normalize_l2
from sklearn.utils.validation import check_is_fitted

from moderation.reading.charindex import CharIndex

__all__ = ["NUMPY_FROM_DOCS", "WORD_CACHE_SIZE", "FastTfidfVectorizer", "char_wb_ngrams", "word_ngrams"]

WORD_CACHE_SIZE = 50_000
"""Words whose n-gram ids are remembered per vectorizer (a few MB)."""

NUMPY_FROM_DOCS = 3
"""Batches of fewer comments look their ``char`` n-grams up one by one (numpy's fixed costs outweigh its speed)."""

def _word_char_ngrams(word: str, min_n: int, max_n: int) -> list[str]:
    """The char_wb n-grams of one whitespace-free word, padded with spaces as sklearn does."""
    padded = f" {word} "
    size = len(padded)
    grams: list[str] = []
    for n in range(min_n, max_n + 1):
        if n >= size:
            grams.append(padded)  # sklearn counts a short word once, whole
            break
        grams.extend([padded[i : i + n] for i in range(size - n + 1)])
    return grams


def char_wb_ngrams(doc: str, min_n: int, max_n: int) -> list[str]:
    """The n-grams sklearn's ``char_wb`` analyzer yields, in any order (same multiset)."""
    return [g for word in doc.split() for g in _word_char_ngrams(word, min_n, max_n)]


def word_ngrams(doc: str, pattern: re.Pattern[str], min_n: int, max_n: int) -> list[str]:
    """The n-grams sklearn's ``word`` analyzer yields for a token pattern (no stop words)."""
    tokens = pattern.findall(doc)
    grams: list[str] = list(tokens) if min_n == 1 else []
    for n in range(max(min_n, 2), max_n + 1):
        if n == 2:  # the model's case: zip is ~2x faster than slicing and joining
            grams.extend([f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)])
        else:
            grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return grams


def _chunked(per_doc: list[list[np.ndarray]]) -> tuple[int, np.ndarray, np.ndarray]:
    """(number of docs, row, column) from each document's arrays of ids."""
    flat = list(chain.from_iterable(per_doc))
    if not flat:
        return len(per_doc), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    # Row of every chunk, then of every id in it: two repeats instead of a Python sum per doc.
    chunk_rows = np.repeat(np.arange(len(per_doc), dtype=np.int64), [len(c) for c in per_doc])
    chunk_sizes = np.fromiter(map(len, flat), dtype=np.int64, count=len(flat))
    return len(per_doc), np.repeat(chunk_rows, chunk_sizes), np.concatenate(flat)


class FastTfidfVectorizer(TfidfVectorizer):
    """TfidfVectorizer whose transform skips sklearn's per-n-gram Python loop."""

    def _fast_supported(self) -> bool:
        """Tell whether the settings are ones the fast path reproduces exactly."""
        return (
            self.analyzer in ("word", "char_wb", "char")
            and not self.lowercase
            and self.preprocessor is None
            and self.tokenizer is None
            and self.strip_accents is None
            and self.stop_words is None
            and self.input == "content"
            and not self.binary
        )

    def _word_ids_or_missing(self, doc: str) -> list[int]:
        """Feature ids of a document's word n-grams, -1 for n-grams not in the vocabulary."""
        pattern = self.__dict__.get("_pattern")
        if pattern is None:
            pattern = self.__dict__["_pattern"] = re.compile(self.token_pattern)
        get = self.vocabulary_.get
        if self.ngram_range == (1, 2):  # the model's case, without building the gram list first
            tokens = pattern.findall(doc)
            ids = list(map(get, tokens, repeat(-1)))
            ids += map(get, map(" ".join, zip(tokens, tokens[1:], strict=False)), repeat(-1))
            return ids
        grams = word_ngrams(doc, pattern, *self.ngram_range)
        return list(map(get, grams, repeat(-1, len(grams))))

    def _cache(self) -> dict[str, np.ndarray]:
        """This vectorizer's per-process cache of ids per word (bounded: emptied when full)."""
        cache: dict[str, np.ndarray] | None = self.__dict__.get("_word_cache")
        if cache is None:
            cache = self.__dict__["_word_cache"] = {}
        elif len(cache) >= WORD_CACHE_SIZE:
            cache.clear()  # crude but bounded; refills with the current vocabulary of comments
        return cache

    def _known(self, grams: list[str]) -> np.ndarray:
        """The vocabulary ids of the n-grams that have one, in order."""
        ids = np.fromiter(map(self.vocabulary_.get, grams, repeat(-1)), dtype=np.int64, count=len(grams))
        return ids[ids >= 0]

    def char_index(self) -> CharIndex | None:
        """The numpy index of a ``char`` vocabulary (built once per process), or None where it cannot serve."""
        if "_char_index" not in self.__dict__:
            usable = self.analyzer == "char" and hasattr(self, "vocabulary_")
            self.__dict__["_char_index"] = CharIndex.build(self.vocabulary_, self.ngram_range) if usable else None
        index: CharIndex | None = self.__dict__["_char_index"]
        return index

    def _char_occurrences(self, docs: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(document, column) of every known ``char`` n-gram, the documents read as sklearn reads them
        (whitespace runs folded): from the numpy index, or one dict probe per n-gram where none serves."""
        read = [self._white_spaces.sub(" ", d) for d in docs]
        index = self.char_index() if len(read) >= NUMPY_FROM_DOCS else None
        if index is not None:
            return index.occurrences(read)
        get, (min_n, max_n) = self.vocabulary_.get, self.ngram_range
        found = [(row, col) for row, doc in enumerate(read) for n in range(min_n, max_n + 1)
                 for start in range(len(doc) - n + 1) if (col := get(doc[start : start + n])) is not None]  # fmt: skip
        table = np.asarray(found, dtype=np.int64).reshape(len(found), 2)
        return table[:, 0], table[:, 1]

    def _char_chunks(self, doc: str) -> list[np.ndarray]:
        """Feature ids of a document's char_wb n-grams, one cached array per word."""
        # char_wb n-grams never cross a word boundary, so a word's ids can be
        # cached; comment words repeat heavily, so most words are cache hits
        # and hashing ~20 fresh n-gram strings per word is skipped.  Arrays,
        # not lists: one np.concatenate per batch instead of a Python loop per id.
        cache = self._cache()
        chunks = []
        for word in doc.split():
            hit = cache.get(word)
            if hit is None:
                hit = cache[word] = self._known(_word_char_ngrams(word, *self.ngram_range))
            chunks.append(hit)
        return chunks

    def _occurrences(self, docs: Iterable[str]) -> tuple[int, np.ndarray, np.ndarray]:
        """(number of docs, row, column) of every known n-gram occurrence, unsorted and with repeats."""
        docs = list(docs)
        if self.analyzer == "char":
            return len(docs), *self._char_occurrences(docs)
        if self.analyzer == "char_wb":
            return _chunked([self._char_chunks(doc) for doc in docs])
        # Word n-grams come with -1 for unknown ones, dropped in one numpy step rather than per n-gram.
        ids = [self._word_ids_or_missing(doc) for doc in docs]
        rows = np.repeat(np.arange(len(ids), dtype=np.int64), [len(i) for i in ids])
        cols = np.fromiter(chain.from_iterable(ids), dtype=np.int64, count=len(rows))
        known = cols >= 0
        return len(ids), rows[known], cols[known]

    def _counts(self, docs: Iterable[str]) -> sp.csr_matrix:
        """Term counts of known n-grams for a batch, as a CSR matrix."""
        n_docs, rows, cols = self._occurrences(docs)
        counts = sp.csr_matrix(
            (np.ones(len(rows), dtype=self.dtype), (rows, cols)),
            shape=(n_docs, len(self.vocabulary_)),
        )
        counts.sum_duplicates()  # also sorts indices, as sklearn does
        return counts

    def transform(self, raw_documents: Any) -> sp.csr_matrix:
        """Transform documents to TF-IDF rows (same result as TfidfVectorizer.transform)."""
        if isinstance(raw_documents, str):
            raise ValueError("Iterable over raw text documents expected, string object received.")
        if not self._fast_supported():
            return super().transform(raw_documents)
        if not hasattr(self, "vocabulary_"):  # check_is_fitted costs ~2 ms per call on a large vocabulary
            check_is_fitted(self, "vocabulary_")
        return self._weight(self._counts(raw_documents))

    def triplets(self, docs: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(rows, cols, float32 values) of ``transform(docs)`` in CSR order, or None where unsupported.

        The same arithmetic as ``transform`` step for step (float32 counts, log,
        idf, sklearn's own l2 routine), without building scipy matrices.
        """
        tfidf = self._tfidf
        if not (self._fast_supported() and tfidf.norm == "l2" and tfidf.sublinear_tf and hasattr(self, "vocabulary_")):
            return None
        n_docs, rows, cols = self._occurrences(docs)
        n_cols = len(self.vocabulary_)
        # One sort of row*n_cols+col both sums duplicates and orders columns, as sum_duplicates does.
        keys, counts = np.unique(rows * n_cols + cols, return_counts=True)
        rows, cols = np.divmod(keys, n_cols)
        data = counts.astype(self.dtype)
        np.log(data, data)
        data += 1.0
        if hasattr(tfidf, "idf_"):
            data *= tfidf.idf_[cols]
        indptr = np.zeros(n_docs + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=n_docs), out=indptr[1:])
        _inplace_csr_row_normalize_l2(data, (n_docs, n_cols), cols, indptr)
        return rows, cols, data

    def _weight(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        """TfidfTransformer.transform's arithmetic without its per-call validation (~1 ms per call)."""
        tfidf = self._tfidf
        if tfidf.sublinear_tf:
            np.log(counts.data, counts.data)
            counts.data += 1.0
        if hasattr(tfidf, "idf_"):
            counts.data *= tfidf.idf_[counts.indices]
        if tfidf.norm == "l2":
            inplace_csr_row_normalize_l2(counts)
        elif tfidf.norm is not None:
            return tfidf.transform(counts, copy=False)
        return counts

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the per-process caches (rebuilt on first use)."""
        state = dict(super().__getstate__())
        state.pop("_pattern", None)
        for cache in ("_word_cache", "_char_index"):
            state.pop(cache, None)
        return state


