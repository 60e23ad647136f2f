"""Which words of a comment pushed its score: the strongest char n-grams named by the words that hold them.

A model that reads character n-grams across word boundaries learns weights
for fragments such as ``"a138"`` or ``"i gac"``; shown to a moderator, a
fragment explains nothing.  The row's strongest n-grams are found in the text
the model read and widened to the word (or the words, for an n-gram that spans
a space) they lie in; fragments of the same word add up, so the reasons read
``'garuda138' +0.62``, ``'gacor' +0.31``.  A few ``str.find`` calls per
explained comment: cheap enough for every suspect comment a worker scores.
"""

from __future__ import annotations

__all__ = ["words_of"]


def _span(text: str, fragment: str) -> str | None:
    """The word(s) of ``text`` holding the first occurrence of ``fragment`` (None when it is not there)."""
    core = fragment.strip()
    at = text.find(core) if core else -1
    if at < 0:
        return None
    start = text.rfind(" ", 0, at) + 1
    end = text.find(" ", at + len(core))
    return text[start : end if end >= 0 else len(text)]


def words_of(text: str, pairs: list[tuple[str, float]], is_ngram: list[bool], k: int) -> list[tuple[str, float]]:
    """Top ``k`` (word or feature, weight): each n-gram of ``pairs`` widened to the words holding it in ``text``
    (their weights summed per words), other features (signals, lexicon) as they are."""
    total: dict[str, float] = {}
    for (name, weight), ngram in zip(pairs, is_ngram, strict=True):
        key = (_span(text, name) or name) if ngram else name
        total[key] = total.get(key, 0.0) + weight
    return sorted(total.items(), key=lambda item: -item[1])[:k]
