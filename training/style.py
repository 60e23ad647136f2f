"""Style copies: each training comment also as other platforms and plugins deliver it.

Comments reach us lower-cased and stripped of punctuation as often as they
reach us as typed (a plugin's pre-processing, a platform's export: the
evaluation-only ``judol_gamblingdetection_eval`` set is written so).  A model
trained only on text as typed leans on capitals and punctuation it will not
always see.  Training on both spellings of every comment, with the same label,
moves the weight to what the comment says.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from moderation.reading.features import CommentDoc
from moderation.reading.text import normalize_many

__all__ = ["style_copies", "style_copy"]


class _Punctuation(dict[int, int | None]):
    """A str.translate table that deletes Unicode punctuation (categories P*), filled as characters are met."""

    def __missing__(self, code: int) -> int | None:
        """Decide one character once: None deletes it, its own code keeps it."""
        verdict = None if unicodedata.category(chr(code)).startswith("P") else code
        self[code] = verdict
        return verdict


_PUNCTUATION = _Punctuation()


def style_copy(text: str) -> str:
    """The comment lower-cased with its punctuation removed, nothing put in its place (teman-teman -> temanteman)."""
    return text.translate(_PUNCTUATION).lower()


def style_copies(docs: Sequence[CommentDoc], normalized: Sequence[str]) -> list[tuple[int, CommentDoc]]:
    """(row, its style copy) for every row whose copy reads differently once normalised (the rest add nothing)."""
    copies = [d._replace(text=style_copy(d.text)) for d in docs]
    read = normalize_many([c.text for c in copies])
    pairs = enumerate(zip(read, normalized, strict=True))
    return [(i, copies[i]) for i, (copy, orig) in pairs if copy and copy != orig]
