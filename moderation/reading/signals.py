"""Structural signals of a comment: links, contacts, brand tokens, capitals, emoji, and its author's fields.

Each is a number in 0..1 beside the n-grams in ``moderation.reading.features.CommentFeatures``,
computed by this same code when training and when scoring.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import NamedTuple

from moderation.reading.lexicon import BRAND_TOKEN, is_brand
from moderation.reading.text import BRAND, EMOJI_RANGES, normalize, separating_emoji

_CONTACT_TOKENS = ("xurlx", "xemailx", "xphonex")
SIGNAL_NAMES = (
    "signal:link", "signal:links_many", "signal:email", "signal:phone", "signal:brand_token",
    "signal:html_link", "signal:capitals", "signal:emoji", "signal:short", "signal:long", "signal:repeated_words",
)  # fmt: skip
"""The signals of ``signal_row``, in its order (what models trained before selectable signals read)."""

DISGUISED_BRAND = "signal:disguised_brand"
"""A brand-like name (aero88) that the raw text writes in disguise: fancy letters, spaced, look-alikes."""

ALL_SIGNAL_NAMES = (*SIGNAL_NAMES, DISGUISED_BRAND)
"""Every signal a model may select (``CommentFeatures.signal_names``)."""

# Signals that need neither the word list nor the emoji scan: computed alone when a model selects them.
_SIMPLE = {
    "signal:link": lambda raw, norm: float("xurlx" in norm),
    "signal:links_many": lambda raw, norm: float(norm.count("xurlx") > 1),
    "signal:email": lambda raw, norm: float("xemailx" in norm),
    "signal:phone": lambda raw, norm: float("xphonex" in norm),
    "signal:html_link": lambda raw, norm: float("<a " in raw.lower()),
}


# Pictographs: emoji and the symbol blocks spammers decorate with (the ranges normalize joins letters across).
_EMOJI = re.compile(f"[{EMOJI_RANGES}]")
_LETTER = re.compile(r"[^\W\d_]")
_UPPER = re.compile(r"[A-Z]")


def signal_row(raw: str, normalized: str, masked: str | None = None, capitals: bool = True) -> list[float]:
    """The structural signals of one comment, each scaled to 0..1 (order: SIGNAL_NAMES).

    ``masked`` is the model's text with brands masked (``moderation.reading.lexicon.mask_brands``); given, the brand
    signal fires only for a masked brand, so jkt48 or pemilu2024 are not brands.  ``capitals=False`` (models
    trained since this stop) leaves the capitals ratio at 0: it reads how a comment is typed, not what it says.
    """
    words = normalized.split()
    n_links = normalized.count("xurlx")
    caps = _capitals_ratio(raw) if capitals else 0.0
    # Emoji that spell a word apart ("g🔥a🔥c🔥o🔥r") are how it is typed, not decoration: not counted.
    emoji = len(_EMOJI.findall(raw)) if not raw.isascii() else 0
    if emoji:  # the separator scan only when there is an emoji to discount (most comments have none)
        emoji -= separating_emoji(raw)
    repeated = 1.0 - len(set(words)) / len(words) if len(words) >= 6 else 0.0
    return [
        float(n_links > 0),
        float(n_links > 1),
        float("xemailx" in normalized),
        float("xphonex" in normalized),
        float(BRAND.search(normalized) is not None if masked is None else BRAND_TOKEN in masked),
        float("<a " in raw.lower()),
        caps,
        min(emoji / 4.0, 1.0),
        float(len(words) <= 3),
        float(len(words) >= 60),
        repeated,
    ]


def disguised_brand(raw: str, normalized: str, keep: frozenset[str] = frozenset()) -> float:
    """1.0 when a brand-like name of the normalised text is not written plainly in the raw text, else 0.0.

    Gambling campaigns write their site names so that keyword filters miss them
    (𝐀𝐄𝐑𝐎𝟖𝟖, A E R O 8 8, аеrо88 in Cyrillic, ALEXIS⭐17); readers write their
    own handles and the names they mention plainly (riajuu5046, jkt48).  A
    letters+digits token alone says little on a site whose readers have handles;
    one spelled in disguise is the campaign's mark.  ``keep`` as for brand masking.
    """
    lowered = None
    for match in BRAND.finditer(normalized):
        token = match.group(0)
        if is_brand(token, keep):
            lowered = lowered if lowered is not None else raw.lower()
            if token not in lowered:
                return 1.0
    return 0.0


def signal_values(
    names: tuple[str, ...], raw: str, normalized: str, masked: str | None, keep: frozenset[str] = frozenset()
) -> list[float]:
    """The selected signals of one comment, in the order of ``names`` (each from ALL_SIGNAL_NAMES).

    ``raw`` is the comment as written (the disguise is read against it); the
    other signals read it NFKC-folded, as ``signal_row`` does.
    """
    folded: str | None = None
    full: list[float] | None = None
    out = []
    for name in names:
        if name == DISGUISED_BRAND:
            out.append(disguised_brand(raw, normalized, keep))
            continue
        folded = folded if folded is not None else _nfkc(raw)
        simple = _SIMPLE.get(name)
        if simple is not None:
            out.append(simple(folded, normalized))
            continue
        full = full if full is not None else signal_row(folded, normalized, masked, capitals=False)
        out.append(full[SIGNAL_NAMES.index(name)])
    return out


def _nfkc(text: str) -> str:
    """NFKC-folded text (ASCII is already folded)."""
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


def _capitals_ratio(raw: str) -> float:
    """Capitals among the letters (0 for fewer than 8 letters)."""
    # Counted on the folded-but-not-lowercased text so 𝐀𝐄𝐑𝐎 counts like AERO:
    # a spammer's fancy letters must not look calmer than plain capitals, nor louder.
    letters = len(_LETTER.findall(raw)) if not raw.isascii() else sum(map(str.isalpha, raw))
    return len(_UPPER.findall(raw)) / letters if letters >= 8 else 0.0


class CommentDoc(NamedTuple):
    """A comment as the features see it: the text and its author fields ('' when unknown)."""

    text: str
    author_name: str = ""
    author_url: str = ""
    author_email: str = ""


def split_docs(docs: Iterable[str | CommentDoc]) -> tuple[list[str], list[CommentDoc]]:
    """Texts of a batch of plain strings or CommentDocs, and every item as a CommentDoc."""
    items = [d if isinstance(d, CommentDoc) else CommentDoc(d) for d in docs]
    return [d.text for d in items], items


AUTHOR_SIGNAL_NAMES = (
    "author:name_link", "author:name_brand", "author:name_fancy", "author:name_in_text",
    "author:url", "author:url_brand", "author:email_brand",
)  # fmt: skip
# A brand handle: letters then a short number (slot88, garuda138); YouTube's own
# handles end in 4+ random digits (hans36503), so those do not count.
_NAME_BRAND = re.compile(r"(?<![a-z\d])[a-z]{3,}\d{2,3}(?!\d)")
_NO_AUTHOR = [0.0] * len(AUTHOR_SIGNAL_NAMES)


def _brandish(normalized: str) -> bool:
    """Tell whether normalised author text holds a brand-like letters+number token (host dots are '_')."""
    return _NAME_BRAND.search(normalized.replace("_", " ")) is not None


def author_row(doc: CommentDoc, normalized_text: str) -> list[float]:
    """The author signals of one comment, 0/1 each (order: AUTHOR_SIGNAL_NAMES); all 0 without author fields."""
    name, url, email = doc.author_name.strip(), doc.author_url.strip(), doc.author_email.strip()
    if not (name or url or email):
        return _NO_AUTHOR
    # The same folding as the text: 𝐀𝐄𝐑𝐎88 in a name reads aero88.
    norm_name = normalize(name) if name else ""
    words = [w for w in norm_name.split() if len(w) >= 4 and not w.startswith("x")]
    text_words = set(normalized_text.split()) if words else set()
    domain = email.rpartition("@")[2].lower()
    return [
        float("xurlx" in norm_name or "xemailx" in norm_name),
        float(_brandish(norm_name)),
        float(not name.isascii() and unicodedata.normalize("NFKC", name) != name),
        float(any(w in text_words for w in words)),
        float(bool(url)),
        float(bool(url) and _brandish(normalize(url))),
        float(bool(domain) and _brandish(domain)),
    ]
