"""Text normalisation shared by training and scoring.

Spam in Indonesian comment sections hides brand names behind Unicode tricks
(𝐀𝐄𝐑𝐎𝟴𝟴, Ⓟⓤⓛⓐⓤ, Cyrillic look-alikes, zero-width joiners, ``B U K I T 8 8 8``).
``normalize`` folds these back to plain lower-case Latin so that the model
sees one spelling per brand.  It runs on every comment, so all tables are
built once at import time and the pure-ASCII case takes a short path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from moderation.reading.letters import fold

__all__ = ["BRAND", "EMOJI_RANGES", "join_spaced_letters", "normalize", "normalize_many", "separating_emoji"]

BRAND = re.compile(r"(?<![\w])[a-z]{3,}\d{2,}(?![\w])")
"""A brand-like token in normalised text: 3+ letters then 2+ digits (aero88, garuda138, alexis17)."""

EMOJI_RANGES = "\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF"
"""Code points read as emoji (pictographs, dingbats, stars and arrows): one set for the joins and the signal."""
# Spaced words set apart by wider gaps: "T I D A K  B E R M U T U" -> "tidak bermutu", not one long word.
_WIDE_SPACED = re.compile(r"(?<!\S)[^\W_](?: [^\W_])+(?: {2,}[^\W_](?: [^\W_])+)+(?!\S)")
_WIDE_GAP = re.compile(" {2,}")
# Three or more one-character tokens in a row: "b u k i t 8 8 8".
# The last piece may carry the brand number ("d o r a77", "b o w o 88").
_SPACED_RUN = re.compile(r"(?<!\w)(?:[^\W_] ){2,}[^\W_](?:\d+|(?: \d{2,}))?(?!\w)")
# The run's last digit glued to the next word: "d o r a 7 7memang" -> "d o r a 7 7 memang" (then "dora77 memang").
_GLUED_AFTER_RUN = re.compile(r"(?<!\w)((?:[^\W_] ){2,}\d)(?=[^\W\d_]{2,})")
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
    if _DIGIT.search(text):  # a generator that drops the space after the brand number: "a e r o 8 8malah"
        text = _GLUED_AFTER_RUN.sub(r"\1 ", text)
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
    folded = _tokenise_contacts(fold(text))
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
