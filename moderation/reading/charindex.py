"""Character n-grams of a whole batch looked up in numpy: a ``char`` vocabulary as sorted integer keys.

Reading char n-grams across words means looking up about four n-grams per
character; one Python dict probe each, into a vocabulary of some 300,000
strings that does not fit a CPU cache, cost ~150 us per comment.  Here every
character of the batch becomes its rank in the vocabulary's alphabet (0 for a
character no vocabulary entry holds, and for the separator between comments),
each n-gram of up to five characters one 63-bit integer (12 bits a character,
3 bits its length: distinct n-grams get distinct keys, so nothing is
approximated), and all of them are found at once in an open-addressing hash
table of the vocabulary's keys (linear probing, at most half full): about 20 us per
comment, against ~75 us for a binary search of the sorted keys.  Vocabularies with
more than 4,095 distinct characters or n-grams longer than five characters use
the dictionary path instead (``CharIndex.build`` returns None).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["CharIndex"]

_BITS = 12
"""Bits per character rank."""
_MAX_CHARS = (1 << _BITS) - 1
"""Most distinct characters an alphabet may have (rank 0 is reserved)."""
_MAX_N = 5
"""Longest n-gram a key holds (5 x 12 bits + 3 bits of length < 63 bits)."""


_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)
"""Fibonacci hashing: multiply, keep the top bits."""
_CHUNK = 50_000
"""Vocabulary entries keyed at a time while building (bounds the temporaries)."""


class CharIndex:
    """A char vocabulary's alphabet and its n-grams as 63-bit keys in a hash table, with their column ids."""

    def __init__(self, alphabet: np.ndarray, ngram_range: tuple[int, int]) -> None:
        """Keep the sorted code points of the alphabet; the table is filled by ``build``."""
        self.alphabet, self.ngram_range = alphabet, ngram_range
        self.bits = 1
        self.table = np.full(2, -1, dtype=np.int64)  # key per slot, -1 where empty
        self.ids = np.zeros(2, dtype=np.int32)  # column per slot

    @classmethod
    def build(cls, vocabulary: Mapping[str, int], ngram_range: tuple[int, int]) -> CharIndex | None:
        """The index of a fitted char vocabulary, or None where keys could not hold its n-grams."""
        min_n, max_n = ngram_range
        terms = list(vocabulary)
        lengths = np.fromiter(map(len, terms), dtype=np.int64, count=len(terms))
        if not terms or min_n < 1 or max_n > _MAX_N or lengths.min() < min_n or lengths.max() > max_n:
            return None
        alphabet = np.asarray(sorted(map(ord, set().union(*terms))), dtype=np.uint32)
        if len(alphabet) > _MAX_CHARS:
            return None
        index = cls(alphabet, ngram_range)
        order = np.argsort(lengths, kind="stable")  # one length after another: each a (terms x n) table
        ends = np.cumsum(np.bincount(lengths, minlength=max_n + 1))
        keys = np.empty(len(terms), dtype=np.int64)
        for n in range(min_n, max_n + 1):  # a chunk at a time: a worker's memory high-water mark counts
            for start in range(int(ends[n - 1]), int(ends[n]), _CHUNK):
                rows = order[start : min(start + _CHUNK, int(ends[n]))].tolist()
                codes = np.frombuffer("".join([terms[i] for i in rows]).encode("utf-32-le"), dtype=np.uint32)
                table = np.searchsorted(alphabet, codes).reshape(len(rows), n)
                table += 1
                table <<= _BITS * np.arange(n)
                keys[start : start + len(rows)] = np.bitwise_or.reduce(table, axis=1) | (n << (_BITS * _MAX_N))
        ids = np.fromiter(vocabulary.values(), dtype=np.int64, count=len(terms))[order]
        index._fill(keys, ids)
        return index

    def _slot(self, keys: np.ndarray) -> np.ndarray:
        """Each key's home slot in the table."""
        slots = keys.astype(np.uint64)
        slots *= _MULTIPLIER
        slots >>= np.uint64(64 - self.bits)
        return slots.view(np.int64)

    def _fill(self, keys: np.ndarray, ids: np.ndarray) -> None:
        """Place every key by linear probing in a table at most half full, all keys at once.

        Inserted in order of home slot, a key lands at max(its home, the previous key's slot + 1): one running
        maximum over the sorted homes.  The table runs past its last home instead of wrapping round, and ends
        in an empty slot, so a probe always stops.
        """
        self.bits = max(int(2 * len(keys)).bit_length(), 4)
        home = self._slot(keys)
        order = np.argsort(home, kind="stable")
        steps = np.arange(len(keys), dtype=np.int64)
        slot = np.maximum.accumulate(home[order] - steps) + steps
        size = int(slot[-1]) + 2 if len(slot) else (1 << self.bits) + 1
        self.table = np.full(max(size, (1 << self.bits) + 1), -1, dtype=np.int64)
        self.ids = np.zeros(len(self.table), dtype=np.int32)
        self.table[slot], self.ids[slot] = keys[order], ids[order]

    def _find(self, keys: np.ndarray) -> np.ndarray:
        """The column of each key, -1 for keys not in the vocabulary."""
        slot, found = self._slot(keys), np.full(len(keys), -1, dtype=np.int64)
        todo = np.arange(len(keys))
        while len(todo):
            here = self.table[slot[todo]]
            hit = here == keys[todo]
            found[todo[hit]] = self.ids[slot[todo[hit]]]
            todo = todo[~hit & (here != -1)]  # an empty slot ends the probe: not in the vocabulary
            slot[todo] += 1
        return found

    def _ranks(self, docs: Sequence[str]) -> np.ndarray:
        """Each character's rank in the alphabet (1...), 0 for unknown characters and between documents."""
        points = np.frombuffer("\x00".join(docs).encode("utf-32-le"), dtype=np.uint32)
        pos = np.searchsorted(self.alphabet, points)
        pos[pos >= len(self.alphabet)] = 0
        rank = np.where(self.alphabet[pos] == points, pos + 1, 0).astype(np.int64)
        ends = np.cumsum(np.fromiter(map(len, docs), dtype=np.int64, count=len(docs)) + 1)[:-1] - 1
        rank[ends] = 0  # the separator, even if the alphabet holds it
        return rank

    def occurrences(self, docs: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(document, column) of every known n-gram occurrence in the documents (as read)."""
        rank = self._ranks(docs)
        lengths = np.fromiter(map(len, docs), dtype=np.int64, count=len(docs))
        doc_of = np.repeat(np.arange(len(docs), dtype=np.int64), lengths + 1)
        rows, cols = [], []
        min_n, max_n = self.ngram_range
        for n in range(min_n, max_n + 1):
            key, valid = _keys(rank, n)
            at = np.flatnonzero(valid)
            found = self._find(key[at])
            hit = found >= 0
            rows.append(doc_of[at[hit]])
            cols.append(found[hit])
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(rows), np.concatenate(cols)


def _keys(rank: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The key of the n-gram starting at every position, and whether all its characters are known."""
    size = len(rank) - n + 1
    if size <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    key = np.full(size, n << (_BITS * _MAX_N), dtype=np.int64)
    valid = np.ones(size, dtype=bool)
    for m in range(n):
        part = rank[m : m + size]
        key |= part << (_BITS * m)
        valid &= part > 0
    return key, valid
