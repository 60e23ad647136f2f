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
from functools import lru_cache

__all__ = ["BRAND", "join_spaced_letters", "normalize", "normalize_many", "separating_emoji"]

BRAND = re.compile(r"(?<![\w])[a-z]{3,}\d{2,}(?![\w])")
"""A brand-like token in normalised text: 3+ letters then 2+ digits (aero88, garuda138, alexis17)."""

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
_LATIN_BLOCKS = ((0x0100, 0x0180), (0x0180, 0x0250), (0x0250, 0x02B0), (0x1D00, 0x1DC0), (0x2C60, 0x2C80),
                 (0xA720, 0xA800), (0xAB30, 0xAB70), (0x1DF00, 0x1E000))  # fmt: skip


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
EMOJI_RANGES = "\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF"
"""Code points read as emoji (pictographs, dingbats, stars and arrows): one set for the joins and the signal."""
# Spaced words set apart by wider gaps: "T I D A K  B E R M U T U" -> "tidak bermutu", not one long word.
_WIDE_SPACED = re.compile(r"(?<!\S)[^\W_](?: [^\W_])+(?: {2,}[^\W_](?: [^\W_])+)+(?!\S)")
_WIDE_GAP = re.compile(" {2,}")
# Three or more one-character tokens in a row: "b u k i t 8 8 8".
# The last piece may carry the brand number ("d o r a77", "b o w o 88").
_SPACED_RUN = re.compile(r"(?<!\w)(?:[^\W_] ){2,}[^\W_](?:\d+|(?: \d{2,}))?(?!\w)")
# Inside a joined run, letters after a brand number start the next word: "A E R O 8 8 A K U" -> "aero88 aku".
# Two digits at least, and two letters after them: single digits are leetspeak ("G 4 C 0 R", "dibet4d").
_BRAND_THEN_WORD = re.compile(r"([^\W\d_]\d{2,})(?=[^\W\d_]{2})")
# Three or more single letters/digits glued by one kind of dot, dash or emoji: "s.l.o.t", "a~e~r~o", "g🔥a🔥c🔥o🔥r".
_DOTTED_SEPARATORS = ".-_*·•,~|⋅∙‧・"  # the last four are dot operators and middle dots (b⋅o⋅w⋅o⋅7⋅7)
_DOTTED_RUN = re.compile(
    rf"(?<![\w.~|])[^\W_]([{re.escape(_DOTTED_SEPARATORS)}]|[{EMOJI_RANGES}]\ufe0f?)"
    r"(?:[^\W_]\1)+[^\W_](?:[a-z]?\d+)?(?![\w])"
)
# A brand broken into letter chunks by dots, dashes or tildes: "ae-ro88", "ae~r~o~8~8" -> "aero88".
_CHUNK_SEPARATOR = re.compile(r"[.\-~|]")
_CHUNKED_BRAND = re.compile(
    rf"(?<![\w.\-~|])[a-z]+(?:{_CHUNK_SEPARATOR.pattern}[a-z]+)+(?:{_CHUNK_SEPARATOR.pattern}?\d){{2,}}(?!\w)"
)
# Parenthesised letters, which NFKC spells out: "⒜⒠⒭⒪" -> "(a)(e)(r)(o)" -> "aero".
_PAREN_RUN = re.compile(r"(?:\([a-z0-9]\)){3,}")
# Decoration between a brand and its number: "alexis⭐17⭐", "weton`88", "aero_88" -> "alexis17", "weton88", "aero88".
_DECORATION = "*`´~^_"
_DECORATED_NUMBER = re.compile(rf"(?<=[a-z])[{EMOJI_RANGES}\uFE0F*`´~^_]+(?=\d{{2,}})")
# A brand number split by one space before a repeated digit: "sgi8 8", "dora7 7" -> "sgi88", "dora77".
# Only a repeat: "bertele2 3." (a reduplication, then a list number) and "jkt48 4 hari" stay apart.
_SPLIT_NUMBER = re.compile(r"(?<!\w)([a-z]{2,}\d?(\d)) (\2{1,2})(?![\w.,])")
_DIGIT_SPACE_DIGIT = re.compile(r"\d \d")
# Syllables spelled apart in front of a brand number: "ga ru da 138" -> "garuda138".
_SYLLABLE_RUN = re.compile(r"(?<!\S)((?:[a-z]{1,2} ){2,}[a-z]{1,2}) ?(?=\d{2,}(?!\S))")
# The same letter or symbol three or more times ("gacooorrr", "!!!!"); digits are brand numbers and stay.
_REPEAT = re.compile(r"([^\d\s])\1{2,}")

_TLDS = (
    "com|net|org|id|co|io|ly|me|xyz|site|online|vip|link|info|biz|top|club|asia|pro|app|gg|cc|tv|us|to|"
    "live|store|shop|fun|win|bet|games?|ws|in|tk|ml|ga|cf|gq|my|sg|ph|ru|uk|"
    # Link spam from the YouTube and blog sets also points at European and cheap generic domains
    # (not .it: "message.It" is a missing space far more often than an Italian link).
    "de|nl|pl|fr|es|eu|br|au|ca|ro|cz|ua|vn|th|cn|jp|kr|tw|hk|za|ng|pk|"
    "click|space|website|today|icu|cyou|buzz|lol|pw|cfd|sbs|bond|work|tech"
)
_URL = re.compile(
    r"(?:https?://|www\.)(?P<host>[^\s/?#<>\"']+)[^\s<>\"']*"
    rf"|(?<![\w@.-])(?P<bare>(?:[a-z0-9-]+\.)+(?:{_TLDS}))(?![\w.-])(?:/[^\s<>\"']*)?"
)
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@(?P<domain>[a-z0-9-]+(?:\.[a-z0-9-]+)+)")
# Indonesian mobile numbers (08.., +62 8.., 62 8..) and any long international number.
_PHONE = re.compile(r"(?<![\w+])(?:(?:\+?62|0)[\s.-]?8(?:[\s.-]?\d){7,12}|\+\d(?:[\s.-]?\d){8,14})(?!\d)")

_DIGIT = re.compile(r"\d")

_NUMBER_WORDS = {
    "nol": "0", "kosong": "0", "satu": "1", "dua": "2", "tiga": "3", "empat": "4", "lima": "5",
    "enam": "6", "tujuh": "7", "delapan": "8", "sembilan": "9", "zero": "0", "one": "1", "two": "2",
    "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
_NUMBER_ALT = "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
# Two or more number words in a row spell a brand number ("satu tiga delapan" -> 138); one alone is a word.
# A run may start inside a word; _number_run decides whether it is glued to a brand ("aerodelapandelapan").
_NUMBER_RUN = re.compile(rf"(?:{_NUMBER_ALT})(?:[ .-]?(?:{_NUMBER_ALT}))+(?![a-z])")
_NUMBER_WORD = re.compile(_NUMBER_ALT)
# Leetspeak: a digit or symbol standing for a letter inside a word ("g4c0r", "kusumat0t0").
_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
_LEET_TOKEN = re.compile(r"(?<![\w@$])(?=[\w@$]*[a-z])(?=[\w@$]*[0-9@$])[a-z0-9@$]+(?![\w@$])")
_LEET_INNER = re.compile(r"(?<=[a-z])[013457@$]+(?=[a-z])|^[0134](?=[a-z]{2})")


def join_spaced_letters(text: str) -> str:
    """Join runs of 3+ single letters/digits separated by spaces ("b u k i t 8 8" -> "bukit88")."""
    if " " not in text:
        return text
    return _SPACED_RUN.sub(_join_spaced_run, text)


def _join_spaced_run(match: re.Match[str]) -> str:
    """One run of spaced letters joined, split again after a brand number that a word follows."""
    joined = match.group(0).replace(" ", "")
    return _BRAND_THEN_WORD.sub(r"\1 ", joined) if not joined.isalpha() else joined


def _join_wide_spaced(match: re.Match[str]) -> str:
    """One run of spaced words: the letters of each word joined, the words kept apart."""
    return " ".join(word.replace(" ", "") for word in _WIDE_GAP.split(match.group(0)))


def separating_emoji(text: str) -> int:
    """How many emoji in the text only spell letters apart ("g🔥a🔥c🔥o🔥r" has 4), as normalize joins them."""
    return sum(
        m.group(0).count(m.group(1)) for m in _DOTTED_RUN.finditer(text) if m.group(1)[0] not in _DOTTED_SEPARATORS
    )


def _tokenise_contacts(text: str) -> str:
    """Turn URLs, e-mails and phone numbers into marker tokens plus their (dot-free) domain."""
    if "@" in text:
        text = _EMAIL.sub(lambda m: f" xemailx {m.group('domain').replace('.', '_')} ", text)
    if "." in text:
        text = _URL.sub(_url_token, text)
    if len(_DIGIT.findall(text)) >= 9:
        text = _PHONE.sub(" xphonex ", text)
    return text


def _url_token(match: re.Match[str]) -> str:
    """Replace one URL by a marker and its host (the path is noise; the host is the signal)."""
    host = (match.group("host") or match.group("bare") or "").lower().removeprefix("www.").split(":")[0]
    return f" xurlx {host.replace('.', '_')} "


def _number_words(text: str) -> str:
    """Spell runs of number words as digits, glued to a preceding word ("garuda satu tiga" -> "garuda13")."""
    out = _NUMBER_RUN.sub(_number_run, text)
    if "\x00" not in out:  # no run (the common case): skip the second scan
        return out
    # Only digits that came from number words join the word before them: "tahun 2024" stays apart.
    return re.sub(r"(?<=[a-z]) ?\x00", "", out).replace("\x00", "")


def _number_run(match: re.Match[str]) -> str:
    """One run of number words as digits: marked to join the word before it, glued to a brand, or left as words."""
    run, start = match.group(0), match.start()
    before = match.string[max(0, start - 3) : start]
    if not before or not "a" <= before[-1] <= "z":
        return "\x00" + _spell_digits(run)  # a run of its own: "satu tiga delapan"
    if len(before) == 3 and before.isalpha() and before.isascii() and run.isalpha():
        return _spell_digits(run)  # glued after 3+ letters: "aerodelapandelapan" -> "aero88"
    # Inside a word ("ketiga", "someone"): the first word stays; a run may still start after it.
    first = _NUMBER_WORD.match(run)
    cut = first.end() if first else len(run)
    return run[:cut] + _NUMBER_RUN.sub(_number_run, run[cut:])


def _spell_digits(run: str) -> str:
    """The digits a run of number words spells ("tiga delapan" -> "38")."""
    return "".join(_NUMBER_WORDS[w] for w in _NUMBER_WORD.findall(run))


def _unleet(token: re.Match[str]) -> str:
    """Read digits/symbols used as letters inside one token; a trailing brand number stays."""
    word = token.group(0)
    head = word.rstrip("0123456789")
    tail = word[len(head) :]
    if sum(c.isalpha() for c in head) < 2:
        return word
    fixed = head
    for _ in range(4):  # one reading can expose the next ("0a$net" -> "0asnet" -> "oasnet")
        again = _LEET_INNER.sub(lambda m: "".join(_LEET[c] for c in m.group(0)), fixed)
        if again == fixed:
            break
        fixed = again
    if fixed != head and tail in ("0", "00", "1", "3", "4"):
        # "kusumat0t0": the word already used leet, so its last digit is a letter too.
        tail = "".join(_LEET[c] for c in tail)
    return fixed + tail


def _fold(text: str) -> str:
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


CACHED_CHARS = 4000
"""Texts up to this long are remembered (1,024 of them): rules, features and the flood detector each
normalise the same comment of a batch, and the cache bounds memory to a few MB."""


def normalize(text: str) -> str:
    """Fold a comment to the canonical form used for features (what it says, not how it is typed)."""
    return _normalize_cached(text) if len(text) <= CACHED_CHARS else _normalize(text)


@lru_cache(maxsize=1024)
def _normalize_cached(text: str) -> str:
    """normalize() for short texts, remembered."""
    return _normalize(text)


def _normalize(text: str) -> str:
    """The folding itself (see normalize)."""
    folded = _tokenise_contacts(_fold(text))
    if "  " in folded:
        folded = _WIDE_SPACED.sub(_join_wide_spaced, folded)
    folded = _number_words(" ".join(folded.split()))
    # Most repairs below need a digit (leet also @ or $): one cheap search skips their scans for most ham.
    has_digit = _DIGIT.search(folded) is not None
    joined = _join_pieces(folded, has_digit)
    if joined != folded:  # letters joined just now may spell number words ("d.e.l.a.p.a.n" -> "delapan")
        spelled = _number_words(joined)
        if spelled != joined:
            joined, has_digit = _join_pieces(spelled, True), True
    folded = joined
    if has_digit or "@" in folded or "$" in folded:
        folded = _LEET_TOKEN.sub(_unleet, folded)
    return _REPEAT.sub(r"\1\1", folded)


def _join_pieces(text: str, has_digit: bool) -> str:
    """Join what spammers split apart: dotted and spaced letters, chunked brands, decorated or split numbers."""
    if not text.isascii() or any(c in text for c in _DOTTED_SEPARATORS):
        text = _DOTTED_RUN.sub(lambda m: m.group(0).replace(m.group(1), ""), text)
        if has_digit:
            text = _CHUNKED_BRAND.sub(lambda m: _CHUNK_SEPARATOR.sub("", m.group(0)), text)
    if has_digit and (not text.isascii() or any(c in text for c in _DECORATION)):
        text = _DECORATED_NUMBER.sub("", text)
    if "(" in text:
        text = _PAREN_RUN.sub(lambda m: m.group(0)[1::3], text)
    text = join_spaced_letters(text)
    if has_digit:
        text = _SYLLABLE_RUN.sub(lambda m: m.group(1).replace(" ", ""), text)
        if _DIGIT_SPACE_DIGIT.search(text):
            text = _SPLIT_NUMBER.sub(r"\1\3", text)
    return text


def normalize_many(texts: Iterable[str]) -> list[str]:
    """Normalise a batch of texts (the first step of every model pipeline)."""
    return [normalize(t) for t in texts]


def has_invisible(text: str) -> bool:
    """Tell whether the text contains zero-width or other invisible characters."""
    return not _INVISIBLE_CHARS.isdisjoint(text)
