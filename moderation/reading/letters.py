"""What each character reads as: the character-level part of normalisation.

NFKC folds math, full-width and circled letters; these tables read what it
leaves alone: look-alikes from other scripts (the Unicode confusables list plus
our own readings), the letters of "fancy text" generators, decorated Latin
letters by their Unicode names, letters whose code point lost its plane in
scraping, and invisible characters and combining marks (dropped).  Everything
is built once when the module loads (about 40 ms).
"""

from __future__ import annotations

import itertools
import re
import unicodedata

__all__ = ["fold", "has_invisible"]

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
    "у": "y", "х": "x", "ь": "b", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "ԁ": "d", "я": "r",
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
    "ᴠ": "v", "ᴡ": "w", "ʏ": "y", "ᴢ": "z", "ꜰ": "f",
    # Armenian look-alikes and upside-down letters (ɐǝɹo88)
    "օ": "o", "ս": "u", "հ": "h", "ո": "n", "ց": "g", "զ": "q", "է": "t", "∂": "d",
    "ɐ": "a", "ǝ": "e", "ɹ": "r", "ɔ": "c", "ɥ": "h", "ɯ": "m", "ʇ": "t", "ʌ": "v", "ʍ": "w", "ʎ": "y",
    "ʞ": "k", "ɟ": "f", "ƃ": "g",
    # More Cyrillic, and the letters of "fancy text" generators: currency signs (₲₳₵ØⱤ) and the
    # Canadian-syllabics alphabet (ᗩᗷᑕᗪEᖴᘜ...) the confusables list leaves out
    "є": "e", "ѳ": "o", "ө": "o", "ӿ": "x", "ҳ": "x", "ӄ": "k", "ԃ": "d",
    "₳": "a", "฿": "b", "₵": "c", "¢": "c", "₣": "f", "₲": "g", "₭": "k", "₥": "m", "₦": "n",
    "₱": "p", "₴": "s", "₮": "t", "₩": "w",
    "ᗩ": "a", "ᑕ": "c", "ᘜ": "g", "ᑎ": "n", "ᑫ": "q", "ᔕ": "s", "ᗯ": "w", "ᘔ": "z",
}  # fmt: skip

# Capitals that generators use for another Latin letter than their lower case reads as (ΛΣЯӨ = AERO,
# ДИ = AN, while σ, и read o, u): mapped before casefold() merges the two cases.  Lunate sigma ϲ is a
# c, but NFKC would turn it into a sigma first.
_BEFORE_FOLD = str.maketrans({
    "Λ": "A", "Δ": "A", "Σ": "E", "Ξ": "E", "Ө": "O", "Д": "A", "Б": "B", "И": "N", "Ц": "U", "Ш": "W",
    "Ч": "Y", "Ж": "X", "Ʌ": "A", "ϲ": "c", "Ϲ": "C",
})  # fmt: skip
_BEFORE_FOLD_CHARS = frozenset(chr(cp) for cp in _BEFORE_FOLD)

# Latin letters with a hook, stroke, tail or bar (ɓ, ǥ, ɽ, ħ), open, script or turned ones: no NFKC
# decomposition and mostly absent from the confusables list, but every name says which letter it is.
_LATIN_BY_NAME = re.compile(
    r"LATIN (?:SMALL |CAPITAL )?LETTER (?:SMALL CAPITAL |OPEN |SCRIPT |DOTLESS |BARRED |CLOSED |LONG |TURNED "
    r"|SIDEWAYS |REVERSED |INVERTED |STRETCHED |BROKEN |MIDDLE-TILDE )?([A-Z])(?: WITH .+)?"
)
_LATIN_BLOCKS = ((0x0100, 0x02B0), (0x1D00, 0x1DC0), (0x2C60, 0x2C80), (0xA720, 0xA800), (0xAB30, 0xAB70),
                 (0x1DF00, 0x1E000))  # Latin Extended-A/B and IPA, phonetic, Extended-C/D/E/G  # fmt: skip


# Scripts whose letters are real text on an Indonesian site (Arabic in religious phrases, Javanese,
# Indic digits): the Unicode confusables list maps some of them to Latin, which would garble that text.
_REAL_SCRIPTS = re.compile(
    r"(?:EXTENDED )?(?:ARABIC|HEBREW|DEVANAGARI|BENGALI|GURMUKHI|GUJARATI|ORIYA|TAMIL|TELUGU|KANNADA|MALAYALAM|"
    r"SINHALA|THAI|LAO|MYANMAR|KHMER|JAVANESE|BALINESE|SUNDANESE|BUGINESE|BATAK|ETHIOPIC|TIBETAN|HANGUL|CJK)\b"
)


def _unicode_confusables() -> dict[int, str]:
    """Letters the Unicode confusables list (UTS #39, via confusable_homoglyphs) reads as one ASCII letter/digit.

    Keys are the casefolded NFKC form (the table runs after both); look-alikes from
    scripts people really write here are left out, and so is whatever NFKC already folds.
    """
    from confusable_homoglyphs.confusables import confusables_data  # its JSON is read on import: once, here

    out: dict[int, str] = {}
    for prototype in "abcdefghijklmnopqrstuvwxyz0123456789":
        for glyph in confusables_data.get(prototype, []) + confusables_data.get(prototype.upper(), []):
            key = unicodedata.normalize("NFKC", glyph["c"]).casefold()
            if len(key) != 1 or key.isascii() or _REAL_SCRIPTS.match(glyph["n"]):
                continue
            if unicodedata.category(key)[0] not in "LNS":  # marks and spacing modifiers are not letters
                continue
            # TR39's prototype of I-, l- and 1-shapes is "l"; spammers' I-shapes are capitals in brand names.
            out[ord(key)] = "i" if prototype == "l" and re.search(r"\bI\b|IOTA", glyph["n"]) else prototype
    return out


def _latin_by_name() -> dict[int, str]:
    """Decorated Latin letters (casefolded NFKC form) -> the plain letter their Unicode name gives."""
    out: dict[int, str] = {}
    for start, end in _LATIN_BLOCKS:
        for cp in range(start, end):
            match = _LATIN_BY_NAME.fullmatch(unicodedata.name(chr(cp), ""))
            key = unicodedata.normalize("NFKC", chr(cp)).casefold()
            if match and len(key) == 1 and not key.isascii():
                out[ord(key)] = match.group(1).lower()
    return out


def _letter_block(start: int) -> dict[int, str]:
    """Map a block of 26 symbol letters (A..Z) starting at ``start`` to a..z."""
    return {start + i: chr(ord("a") + i) for i in range(26)}


def _build_table() -> dict[int, str | None]:
    """Build the single str.translate table applied after casefold."""
    table: dict[int, str | None] = {cp: None for cp in _INVISIBLE}
    table.update(_latin_by_name())  # the weakest reading: the confusables list and our own readings win
    table.update(_unicode_confusables())
    table.update({ord(k): v for k, v in _CONFUSABLES.items()})  # our own readings win (я -> r, з -> 3)
    # Negative circled / negative squared / regional-indicator letters have no
    # NFKC decomposition, yet read as plain letters (🅰🅴🆁🅾 88).
    for start in (0x1F150, 0x1F170, 0x1F1E6):
        table.update(_letter_block(start))
    # Dingbat circled digits have no NFKC form either (mandalika❼❼, ➊➌➑): three runs of 1..10.
    for start in (0x2776, 0x2780, 0x278A):
        table.update({start + i: str(i + 1) for i in range(10)})
    # Combining marks (accents, Zalgo text) carry no meaning for moderation.
    # Only the BMP, plane 1 and the plane-14 selectors hold any (checked
    # against unicodedata); scanning all 1.1M code points would slow imports.
    for cp in itertools.chain(range(0x20000), range(0xE0100, 0xE01F0)):
        if unicodedata.category(chr(cp)) in ("Mn", "Me"):
            table[cp] = None
    return table


_TABLE = _build_table()


def _build_truncated() -> dict[int, str]:
    """Letters whose code point lost its plane (U+1D5D4 -> U+D5D4, U+1F150 -> U+F150), as scraped data shows."""
    out: dict[int, str] = {}
    for cp in itertools.chain(range(0xD400, 0xD800), range(0xF100, 0xF200)):
        folded = unicodedata.normalize("NFKC", chr(cp + 0x10000)).casefold().translate(_TABLE)
        if len(folded) == 1 and folded.isascii() and folded.isalnum():
            out[cp] = folded
    return out


# Hangul syllables and private-use characters that are really math/enclosed letters with the
# plane bits cut off ("홋홐홇혼홐홒홄홉" is 𝙋𝙐𝙇𝘼𝙐𝙒𝙄𝙉).  Real Korean text in those blocks is folded too;
# the cost of that on an Indonesian/English news site is small next to the spam it unmasks.
_TRUNCATED = _build_truncated()
_TRUNCATED_RE = re.compile("[\uD400-\uD7FF\uF100-\uF1FF]")
_INVISIBLE_CHARS = frozenset(chr(cp) for cp in _INVISIBLE)


def fold(text: str) -> str:
    """NFKC, casefold and the look-alike table (the character-level part of normalize)."""
    if text.isascii():
        return text.lower()
    if _TRUNCATED_RE.search(text):
        text = text.translate(_TRUNCATED)
    if not _BEFORE_FOLD_CHARS.isdisjoint(text):
        text = text.translate(_BEFORE_FOLD)
    # NFKC maps math/fullwidth/circled letters to ASCII; NFD then exposes
    # accents as combining marks so the table can drop them.
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = unicodedata.normalize("NFD", folded).translate(_TABLE)
    if not folded.isascii():
        folded = unicodedata.normalize("NFC", folded)
    return folded


def has_invisible(text: str) -> bool:
    """Tell whether the text contains zero-width or other invisible characters."""
    return not _INVISIBLE_CHARS.isdisjoint(text)
