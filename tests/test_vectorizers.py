"""Tests for FastTfidfVectorizer's char n-grams across words: the numpy index and the one-by-one path equal sklearn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from moderation.reading.charindex import CharIndex
from moderation.reading.vectorizers import NUMPY_FROM_DOCS, FastTfidfVectorizer

TRAIN = ["main di aero88 gacor parah", "semoga jalan cepat diperbaiki", "wd lancar 💰 di 𝐃𝐎𝐑𝐀𝟕𝟕", "a", "ok ok ok",
         "berita bagus\nsekali", "dua  spasi\tdan tab", "maxwin maxwin maxwin"]  # fmt: skip
TEXTS = [*TRAIN, "", " ", "x", "main di dora77 gacor", "  awal dan akhir  ", "tak dikenal: ЖЖЖ ꦲꦏ꧀ 漢字",
         "\x00 nol di tengah \x00", "gacor" * 40, "a b c d e f g h", "emoji 💰💰💰 di aero88"]  # fmt: skip


def _fitted(**settings: object) -> FastTfidfVectorizer:
    """A char 2-5-gram vectorizer fitted on the training texts (every n-gram kept)."""
    options = {"analyzer": "char", "ngram_range": (2, 5), "lowercase": False, "sublinear_tf": True,
               "dtype": np.float32, **settings}  # fmt: skip
    return FastTfidfVectorizer(**options).fit(TRAIN)  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [1, NUMPY_FROM_DOCS - 1, NUMPY_FROM_DOCS, len(TEXTS)])
def test_char_transform_equals_sklearn_in_batches_of_every_size(size: int) -> None:
    """Small batches (one dict probe per n-gram) and large ones (the numpy index) give sklearn's exact matrix."""
    vec = _fitted()
    for start in range(0, len(TEXTS), size):
        batch = TEXTS[start : start + size]
        fast, slow = vec.transform(batch), TfidfVectorizer.transform(vec, batch)
        assert (fast != slow).nnz == 0 and fast.shape == slow.shape
        rows, cols, data = vec.triplets(batch) or (None, None, None)
        assert np.array_equal(rows, fast.tocoo().row) and np.array_equal(cols, fast.indices)
        assert np.array_equal(data, fast.data)


def test_index_keys_every_vocabulary_ngram_and_nothing_else() -> None:
    """Every vocabulary entry is found under its own column; n-grams outside the vocabulary are not found."""
    vec = _fitted()
    index = vec.char_index()
    assert index is not None
    terms = list(vec.vocabulary_)
    rows, cols = index.occurrences(terms)  # each term read alone holds itself
    for row, term in enumerate(terms):
        assert vec.vocabulary_[term] in cols[rows == row].tolist()
    rows, cols = index.occurrences(["ЖЖ", "zq", ""])
    assert len(cols) == 0


def test_vocabularies_keys_cannot_hold_use_the_dict_path() -> None:
    """More than 4,095 distinct characters (or n-grams longer than five) get no index; transform stays exact."""
    letters = [chr(0x4E00 + i) for i in range(4200)]  # CJK ideographs: an alphabet too large for 12-bit ranks
    texts = ["".join(letters[i : i + 30]) for i in range(0, 4200, 15)]
    vec = FastTfidfVectorizer(analyzer="char", ngram_range=(2, 3), lowercase=False).fit(texts)
    assert vec.char_index() is None
    assert (vec.transform(texts[:5]) != TfidfVectorizer.transform(vec, texts[:5])).nnz == 0
    long = FastTfidfVectorizer(analyzer="char", ngram_range=(2, 6), lowercase=False).fit(TRAIN)
    assert long.char_index() is None and CharIndex.build({}, (2, 5)) is None
    assert (long.transform(TEXTS) != TfidfVectorizer.transform(long, TEXTS)).nnz == 0


def test_the_index_is_not_pickled() -> None:
    """The index is rebuilt per process (a saved model carries only the vocabulary)."""
    vec = _fitted()
    vec.transform(TEXTS)
    assert "_char_index" in vec.__dict__ and "_char_index" not in vec.__getstate__()
