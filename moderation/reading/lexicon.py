"""Word lists a model carries (abusive words, slang -> formal words, tokens that are not brands) and their use.

Both are read from files when a model is trained and stored inside it (a saved
model never changes under a worker).  Matching happens on normalised text
(``moderation.reading.text.normalize``: lower-case, look-alikes folded, runs squeezed
to two letters), so every lookup here is a set or dict probe; what cannot be
decided by one probe (masked, vowel-less or affixed spellings) is cached per
word, because comment words repeat a lot.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from moderation.reading.text import BRAND, normalize

__all__ = [
    "BRAND_TOKEN",
    "LEXICON_NAMES",
    "Lexicon",
    "apply_word_map",
    "is_brand",
    "load_lexicon",
    "load_word_map",
    "load_words",
    "mask_brands",
]

LEXICON_NAMES = ("lexicon:abusive", "lexicon:abusive_many")
"""Columns from the abusive-word lexicon (config/lexicons/abusive_id.txt, stored in the model when trained)."""

CACHE_SIZE = 100_000
"""Words whose fuzzy lexicon verdict is remembered per Lexicon (the cache is cleared when full)."""

BRAND_TOKEN = "xbrandx"
"""What a brand-like token becomes in the text the n-grams read (like xurlx for a link)."""

# A year after letters is a date, not a gambling brand (pemilu2024, piala1998).
_YEAR_SUFFIX = re.compile(r"\D(19[4-9]\d|20[0-4]\d)$")
_TWO_DIGITS = re.compile(r"\d\d")
_NON_WORD = re.compile(r"[^\w*]+")
_REPEATS = re.compile(r"(.)\1+")
_VOWELS = str.maketrans("", "", "aiueo")
_WORD = re.compile(r"\w+")
# Indonesian affixes around an insult ("kedunguannya", "dibego2in" after normalising, "goblokmu").
_PREFIXES = ("memper", "meng", "peng", "mem", "pem", "men", "pen", "ber", "ter", "di", "ke", "se", "me", "pe", "ng")
_SUFFIXES = ("nya", "kan", "lah", "kah", "an", "in", "mu", "ku", "i")


def _squeeze(word: str) -> str:
    """Repeated letters squeezed to one (goblooook, goblook -> goblok)."""
    return _REPEATS.sub(r"\1", word)


def _skeleton(word: str) -> str:
    """The first letter and the consonants after it: how vowel-less spellings write a word (goblok -> gblk)."""
    return word[0] + word[1:].translate(_VOWELS)


def load_words(path: str | Path) -> tuple[str, ...]:
    """The words of a list file (one per line, '#' comments), normalised, single words only, sorted."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    words = {normalize(line.strip()) for line in lines if line.strip() and not line.lstrip().startswith("#")}
    return tuple(sorted(w for w in words if w and " " not in w))


def load_lexicon(path: str | Path) -> tuple[str, ...]:
    """The words of a lexicon file in their squeezed form (goblook -> goblok)."""
    return tuple(sorted({_squeeze(w) for w in load_words(path)}))


def _spellings(words: Iterable[str]) -> frozenset[str]:
    """Every way a squeezed word can appear in normalised text, where a letter repeats at most twice."""
    out: set[str] = set()
    for word in words:
        options = [(c, c + c) for c in word] if len(word) <= 12 else [(c,) for c in word]
        spellings = [""]
        for choice in options:
            spellings = [s + c for s in spellings for c in choice]
        out.update(spellings)
    return frozenset(out)


class Lexicon:
    """Match normalised comment words against a word list, also when masked, vowel-less or affixed."""

    def __init__(self, words: Iterable[str], not_skeletons: Iterable[str] = ()) -> None:
        """Index the squeezed words; ``not_skeletons`` are words that must not count as vowel-less spellings."""
        self.words = frozenset(words)
        self.spellings = _spellings(self.words)
        # Four letters at least: three-letter skeletons collide with everyday
        # abbreviations (dungu -> dng, which is also "dengan").
        taken = set(not_skeletons) | self.words
        self.skeletons = frozenset(s for s in map(_skeleton, self.words) if len(s) >= 4 and s not in taken)
        self.by_length: dict[int, list[str]] = {}
        for word in self.words:
            self.by_length.setdefault(len(word), []).append(word)
        self._tokens: dict[str, int] = {}
        self._words_seen: dict[str, bool] = {}

    def row(self, normalized: str) -> list[float]:
        """Whether the normalised text holds a lexicon word, and how many (capped at 3), each 0..1."""
        cache, hits = self._tokens, 0
        for token in normalized.split():
            found = cache.get(token)  # the common case: one dict probe per word
            if found is None:
                found = self._remember(cache, token, self._token_hits(token))
            hits += found
        return [float(hits > 0), min(hits, 3) / 3]

    def _token_hits(self, token: str) -> int:
        """How many lexicon words one whitespace-separated token holds ("bangsat!" 1, "tolol,bego" 2)."""
        if token in self.spellings:
            return 1
        if token.isalnum():
            return int(self.is_word(token))
        return sum(self.is_word(part) for part in _NON_WORD.split(token) if part)

    def is_word(self, part: str) -> bool:
        """Whether one word (no spaces) is a lexicon word in some spelling (cached)."""
        found = self._words_seen.get(part)
        if found is None:
            found = self._remember(self._words_seen, part, self._match(part))
        return found

    @staticmethod
    def _remember(cache: dict[str, Any], key: str, value: Any) -> Any:
        """Store a verdict, emptying the cache first when it is full (bounded memory, no LRU bookkeeping)."""
        if len(cache) >= CACHE_SIZE:
            cache.clear()
        cache[key] = value
        return value

    def _match(self, part: str) -> bool:
        """The uncached test: exact spelling, masked letters, vowel-less spelling, or an affixed form."""
        if part in self.spellings:
            return True
        if len(part) < 4:
            return False
        squeezed = _squeeze(part)
        if squeezed in self.words:
            return True
        if "*" in squeezed:
            return any(_masked_equal(squeezed, w) for w in self.by_length.get(len(squeezed), ()))
        if squeezed in self.skeletons:
            return True
        return len(squeezed) >= 6 and any(_squeeze(stem) in self.words for stem in _stems(part))


def _masked_equal(masked: str, word: str) -> bool:
    """Whether a word written with '*' for some letters (tol*l, b*ngs*t) is this word."""
    return masked.strip("*") != "" and all(a == b or a == "*" for a, b in zip(masked, word, strict=True))


def _stems(word: str) -> set[str]:
    """The word with one prefix and up to two suffixes taken off (stems of four letters or more)."""
    bases = {word, *(word[len(p) :] for p in _PREFIXES if word.startswith(p))}
    out: set[str] = set()
    for base in bases:
        out.add(base)
        for first in _SUFFIXES:
            if base.endswith(first):
                one = base[: -len(first)]
                out.add(one)
                out.update(one[: -len(second)] for second in _SUFFIXES if one.endswith(second))
    return {s for s in out if len(s) >= 4}


def load_word_map(path: str | Path) -> tuple[tuple[str, str], ...]:
    """A ``word,normalized`` CSV (slang, typos, acronyms) as normalised single-word pairs, sorted."""
    pairs: dict[str, str] = {}
    with Path(path).open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            word, formal = normalize(row.get("word") or ""), normalize(row.get("normalized") or "")
            # Only whole single words map (a key with spaces or symbols is a fragment, not a word).
            if word and formal and _WORD.fullmatch(word) and word != formal:
                pairs[word] = formal
    return tuple(sorted(pairs.items()))


def apply_word_map(normalized: str, mapping: dict[str, str]) -> str:
    """Normalised text with each mapped word replaced by its formal form (yg -> yang, gk -> tidak)."""
    # One C-level scan decides the common case (no mapped word) without a Python call per word.
    if mapping.keys().isdisjoint(_WORD.findall(normalized)):
        return normalized
    return _WORD.sub(lambda m: mapping.get(m.group(0), m.group(0)), normalized)


def mask_brands(text: str, keep: frozenset[str] = frozenset()) -> str:
    """Brand-like tokens replaced by ``xbrandx``, except years and tokens whose letters are in ``keep`` (jkt48).

    New gambling campaigns arrive under new names every week; with the name
    masked the model learns what surrounds one ("main di xbrandx", "xbrandx
    gacor") instead of memorising the names it was trained on.
    """
    if _TWO_DIGITS.search(text) is None:  # a plain scan, much cheaper than the brand pattern's
        return text
    return BRAND.sub(lambda m: _brand_or_keep(m.group(0), keep), text)


def is_brand(token: str, keep: frozenset[str] = frozenset()) -> bool:
    """Whether a brand-like token (aero88) is a brand: not a year (pemilu2024), nor a kept word (jkt48)."""
    return token.rstrip("0123456789") not in keep and _YEAR_SUFFIX.search(token) is None


def _brand_or_keep(token: str, keep: frozenset[str]) -> str:
    """The placeholder for a brand; the token itself for a year or a listed word."""
    return BRAND_TOKEN if is_brand(token, keep) else token
