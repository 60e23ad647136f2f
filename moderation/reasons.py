"""Which words of a comment pushed its score: char n-gram weights given back to the words they were read from.

A model that reads character n-grams across word boundaries learns weights
for fragments such as ``"r88 "`` or ``"i gac"``; shown to a moderator, a
fragment explains nothing.  Each n-gram's contribution (value x weight) is
shared equally among its occurrences in the text the model read, and each
occurrence's share among the words its characters belong to, so the reasons
name whole words (``garuda138 +0.41``) and the shares add up to what the
n-grams contributed.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Mapping

__all__ = ["word_contributions"]

_WORD = re.compile(r"\S+")


def _owners(doc: str) -> tuple[list[int], list[str]]:
    """For each character, the index of the word it belongs to (-1 for a space); and the words."""
    owner = [-1] * len(doc)
    words = []
    for index, match in enumerate(_WORD.finditer(doc)):
        owner[match.start() : match.end()] = [index] * (match.end() - match.start())
        words.append(match.group(0))
    return owner, words


def word_contributions(
    doc: str, vocabulary: Mapping[str, int], ngram_range: tuple[int, int], contribution: Mapping[int, float]
) -> dict[str, float]:
    """Each word of ``doc`` (the text as the char vectorizer read it) with the sum of its n-grams' contributions.

    ``contribution`` maps a column of the vectorizer's vocabulary to value x weight in this row.
    """
    owner, words = _owners(doc)
    min_n, max_n = ngram_range
    found = [(col, start, n) for n in range(min_n, min(max_n, len(doc)) + 1) for start in range(len(doc) - n + 1)
             if (col := vocabulary.get(doc[start : start + n])) is not None and col in contribution]  # fmt: skip
    occurrences = Counter(col for col, _, _ in found)
    total: dict[str, float] = defaultdict(float)
    for col, start, n in found:
        members = [w for w in owner[start : start + n] if w >= 0]  # a word's characters, not the spaces
        share = contribution[col] / occurrences[col] / len(members)
        for w in members:
            total[words[w]] += share
    return dict(total)
