"""Which languages a site's comments are in, from their commonest words: enough to judge a site's own model on
the evaluation sets that speak to it (an English tech blog is not judged on Indonesian gambling spam).

Counting function words is crude and cheap, and it is all the gate needs: a language counts for a site once a
share of its comments is clearly in it. Code-mixed Indonesian ("mantap bro, the best") still reads as
Indonesian: the majority of a comment's function words decides.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

__all__ = ["FUNCTION_WORDS", "MIN_SHARE", "language_of", "site_languages"]

FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "id": frozenset(
        "yang dan di ini itu tidak ada dengan untuk dari ke aku saya kamu ga gak nggak enggak udah sudah juga bisa "
        "lagi aja saja banget kalau kalo kok sih dong deh kita mereka akan atau jadi sama buat mau belum sangat "
        "semua karena tapi tetapi masih hanya harus lebih yg dgn utk tdk sdh".split()
    ),
    "en": frozenset(
        "the and is are was were to of in it you that this for with not have has be on my your me they what "
        "just but so can will do does don't i'm it's if would there their from about out like please check".split()
    ),
}
"""Each language's commonest short words (none shared between the two)."""

MIN_SHARE = 0.1
"""A language is one of a site's once at least this share of its comments (of those with a language) is in it."""

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def language_of(text: str) -> str | None:
    """The language most of a comment's function words belong to (None: none found, or a tie)."""
    counts = Counter(lang for word in _WORD.findall(text.casefold())
                     for lang, words in FUNCTION_WORDS.items() if word in words)  # fmt: skip
    top = counts.most_common(2)
    if not top or (len(top) == 2 and top[0][1] == top[1][1]):
        return None
    return top[0][0]


def site_languages(texts: Iterable[str]) -> set[str]:
    """The languages at least MIN_SHARE of the site's comments are in (empty: none could be told)."""
    found = Counter(lang for lang in map(language_of, texts) if lang is not None)
    total = sum(found.values())
    return {lang for lang, n in found.items() if n >= MIN_SHARE * total} if total else set()
