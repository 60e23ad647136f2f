"""Text normalisation shared by training and scoring.

Spam in Indonesian comment sections hides brand names behind Unicode tricks
(𝐀𝐄𝐑𝐎𝟴𝟴, Ⓟⓤⓛⓐⓤ, Cyrillic look-alikes, zero-width joiners, ``B U K I T 8 8 8``).
``normalize`` folds these back to plain lower-case Latin so that the model
sees one spelling per brand.  It runs on every comment, so all tables are
built once at import time and the pure-ASCII case takes a short path.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable

__all__ = ["join_spaced_letters", "normalize", "normalize_many"]

# Invisible characters used to split words without a visible gap.  Some of
# them (soft hyphen, U+2063) survive NFKC, so they are removed explicitly.
_INVISIBLE = (
    [0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, 0x3164, 0xFEFF, 0xFFA0]
    + list(range(0x200B, 0x2010))  # ZWSP, ZWNJ, ZWJ, LRM, RLM
    + list(range(0x202A, 0x202F))  # bidi embeddings / overrides
    + list(range(0x2060, 0x2070))  # word joiner, invisible operators, bidi isolates
    + list(range(0xFE00, 0xFE10))  # variation selectors
    + list(range(0xE0000, 0xE0080))  # tag characters
)

# Look-alikes that NFKC leaves alone.  Keys are lower-case because the table
# is applied after casefold(); for letters whose capital is the look-alike
# (Cyrillic Н, Greek Η/Ρ/Ν) the capital's Latin reading wins, because
# spammers write brand names in capitals.
_CONFUSABLES = {
    # Cyrillic
    "а": "a", "в": "b", "г": "r", "е": "e", "ё": "e", "з": "3", "и": "u", "к": "k",
    "л": "n", "м": "m", "н": "h", "о": "o", "п": "n", "р": "p", "с": "c", "т": "t",
    "у": "y", "х": "x", "ь": "b", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "ԁ": "d",
    "ԛ": "q", "ԝ": "w", "ӏ": "l", "һ": "h", "ү": "y", "ғ": "f", "ɡ": "g",
    # Greek
    "α": "a", "β": "b", "γ": "y", "δ": "d", "ε": "e", "ζ": "z", "η": "h", "θ": "o",
    "ι": "i", "κ": "k", "λ": "l", "μ": "m", "ν": "n", "ο": "o", "π": "n", "ρ": "p",
    "σ": "o", "ς": "c", "τ": "t", "υ": "u", "φ": "o", "χ": "x", "ω": "w",
    # Cherokee capitals (casefold keeps them; lower-case ones fold to these)
    "\u13aa": "a", "\u13f4": "b", "\u13df": "c", "\u13a0": "d", "\u13ac": "e",
    "\u13c0": "g", "\u13bb": "h", "\u13a5": "i", "\u13ab": "j", "\u13e6": "k",
    "\u13de": "l", "\u13b7": "m", "\u13be": "o", "\u13e2": "p", "\u13a1": "r",
    "\u13da": "s", "\u13a2": "t", "\u13d9": "v", "\u13b3": "w", "\u13c3": "z",
    # Latin extensions and symbols used as letters
    "ı": "i", "ł": "l", "ø": "o", "đ": "d", "ß": "ss", "ʀ": "r", "ɪ": "i", "ɴ": "n",
    "ᴀ": "a", "ʙ": "b", "ᴄ": "c", "ᴅ": "d", "ᴇ": "e", "ɢ": "g", "ʜ": "h", "ᴊ": "j",
    "ᴋ": "k", "ʟ": "l", "ᴍ": "m", "ᴏ": "o", "ᴘ": "p", "ꜱ": "s", "ᴛ": "t", "ᴜ": "u",
    "ᴠ": "v", "ᴡ": "w", "ʏ": "y", "ᴢ": "z",
}  # fmt: skip


def _letter_block(start: int) -> dict[int, str]:
    """Map a block of 26 symbol letters (A..Z) starting at ``start`` to a..z."""
    return {start + i: chr(ord("a") + i) for i in range(26)}


def _build_table() -> dict[int, str | None]:
    """Build the single str.translate table applied after casefold."""
    table: dict[int, str | None] = {cp: None for cp in _INVISIBLE}
    table.update({ord(k): v for k, v in _CONFUSABLES.items()})
    # Negative circled / negative squared / regional-indicator letters have no
    # NFKC decomposition, yet read as plain letters (🅰🅴🆁🅾 88).
    for start in (0x1F150, 0x1F170, 0x1F1E6):
        table.update(_letter_block(start))
    # Combining marks (accents, Zalgo text) carry no meaning for moderation.
    # Only the BMP, plane 1 and the plane-14 selectors hold any (checked
    # against unicodedata); scanning all 1.1M code points would slow imports.
    for cp in itertools.chain(range(0x20000), range(0xE0100, 0xE01F0)):
        if unicodedata.category(chr(cp)) in ("Mn", "Me"):
            table[cp] = None
    return table


_TABLE = _build_table()
_INVISIBLE_CHARS = frozenset(chr(cp) for cp in _INVISIBLE)
# Three or more one-character tokens in a row: "b u k i t 8 8 8".
_SPACED_RUN = re.compile(r"(?<!\S)(?:[^\W_] ){2,}[^\W_](?!\S)")


def join_spaced_letters(text: str) -> str:
    """Join runs of 3+ single letters/digits separated by spaces ("b u k i t 8 8" -> "bukit88")."""
    if " " not in text:
        return text
    return _SPACED_RUN.sub(lambda m: m.group(0).replace(" ", ""), text)


def normalize(text: str) -> str:
    """Fold a comment to the canonical form used for features (NFKC, casefold, look-alikes)."""
    if text.isascii():
        folded = text.lower()
    else:
        # NFKC maps math/fullwidth/circled letters to ASCII; NFD then exposes
        # accents as combining marks so the table can drop them.
        folded = unicodedata.normalize("NFKC", text).casefold()
        folded = unicodedata.normalize("NFD", folded).translate(_TABLE)
        if not folded.isascii():
            folded = unicodedata.normalize("NFC", folded)
    return join_spaced_letters(" ".join(folded.split()))


def normalize_many(texts: Iterable[str]) -> list[str]:
    """Normalise a batch of texts (the first step of every model pipeline)."""
    return [normalize(t) for t in texts]


def has_invisible(text: str) -> bool:
    """Tell whether the text contains zero-width or other invisible characters."""
    return not _INVISIBLE_CHARS.isdisjoint(text)
