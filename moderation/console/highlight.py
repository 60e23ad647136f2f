"""Comment text for display: split into plain/highlighted segments, escaped before any markup is added.

Comment text is attacker-controlled. Nothing here builds HTML by string
concatenation of raw text: :func:`segments` only cuts the text into pieces,
and :func:`highlight_html` escapes each piece first and then wraps the hits
in ``<mark>``. Links are listed as text; the page makes them clickable only
when the moderator asks, and only for http(s).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from markupsafe import Markup, escape

MIN_NGRAM = 3
"""Shorter n-grams (char 2-grams, say) would light up half the text."""

URL_RE = re.compile(r"\b(?:https?://|www\.)[^\s<>\"'`]{2,2000}", re.I)
"""Links a moderator may want to open: http(s) or bare www. (never javascript:, data: ...)."""


def ngrams_from(reasons: Iterable[dict[str, Any]] | None) -> list[str]:
    """The n-grams behind model reasons (``feature``), longest first so overlapping hits prefer the longer."""
    grams = {str(r.get("feature", "")).strip() for r in reasons or [] if str(r.get("code", "")).startswith("model.")}
    return sorted((g for g in grams if len(g) >= MIN_NGRAM), key=len, reverse=True)


def _pattern(ngrams: list[str]) -> re.Pattern[str] | None:
    """One case-insensitive regex for every n-gram, any run of spaces matching any whitespace."""
    parts = [r"\s+".join(re.escape(word) for word in gram.split()) for gram in ngrams if gram.split()]
    return re.compile("|".join(parts), re.I) if parts else None


def segments(text: str, ngrams: list[str]) -> list[tuple[str, bool]]:
    """The text cut into (piece, is_hit) in order; joining the pieces gives back the text exactly."""
    pattern = _pattern(ngrams)
    if pattern is None or not text:
        return [(text, False)] if text else []
    out: list[tuple[str, bool]] = []
    pos = 0
    for match in pattern.finditer(text):
        if match.start() == match.end():
            continue
        if match.start() > pos:
            out.append((text[pos:match.start()], False))
        out.append((match.group(0), True))
        pos = match.end()
    if pos < len(text):
        out.append((text[pos:], False))
    return out


def highlight_html(text: str, ngrams: list[str]) -> Markup:
    """Escaped text with the n-gram hits wrapped in <mark> (escape first, then highlight)."""
    return Markup("").join(Markup("<mark>{}</mark>").format(piece) if hit else escape(piece)
                           for piece, hit in segments(text, ngrams))


def links(text: str) -> list[str]:
    """The http(s)/www links in the text, in order, without repeats; trailing punctuation trimmed."""
    found: list[str] = []
    for match in URL_RE.finditer(text or ""):
        url = match.group(0).rstrip(".,;:!?)]}")
        if url not in found:
            found.append(url)
    return found
