"""What 'no English left' means, for the browser tests: every piece of visible text that is not data is made of
the Indonesian catalogue's translations (or of the locale's own CLDR words for dates and durations).

The console marks data (comment text, names, slugs, codes, URLs, the other language's name) with
``translate="no"``; everything else on screen must come from the catalogue. Each text node and each
human-facing attribute is covered with whole translated fragments (the msgstrs cut at their
placeholders); any letter left over is a string nobody translated, whether it was wrapped in ``_()`` or not.
A value quoted in a message ('tidak-ada') counts as data.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, format_timedelta, get_day_names, get_month_names
from babel.messages.pofile import read_po

PO = Path(__file__).resolve().parents[2] / "moderation" / "console" / "translations" / "id" / "LC_MESSAGES" / \
    "messages.po"
ZONES = ("Asia/Jakarta", "Asia/Pontianak", "Asia/Makassar", "Asia/Jayapura")

QUOTED = re.compile(r"'[^'\n]{1,200}'")
"""A value a message quotes (an unknown site's slug, a refused zone): data inside a translated sentence."""

COLLECT = """() => {
  const out = [];
  const shown = (el) => el && (el.checkVisibility ? el.checkVisibility() : el.getClientRects().length > 0);
  const data = (el) => el && el.closest && el.closest('[translate="no"]');
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || ['SCRIPT', 'STYLE', 'TEMPLATE'].includes(el.tagName) || data(el)) continue;
    if (el.tagName !== 'OPTION' && !shown(el)) continue;
    if (node.textContent.trim()) out.push(node.textContent.trim());
  }
  for (const el of document.querySelectorAll('[title], [placeholder], [aria-label], [alt], [data-confirm]')) {
    if (data(el)) continue;
    for (const name of ['title', 'placeholder', 'aria-label', 'alt', 'data-confirm']) {
      if (el.getAttribute(name)) out.push(el.getAttribute(name));
    }
  }
  out.push(document.title);
  return out;
}"""
"""Visible text nodes outside data, every human-facing attribute, and the page title."""


@cache
def fragments() -> tuple[str, ...]:
    """Every literal piece of the Indonesian translations and of the locale's date words, longest first."""
    with open(PO, "rb") as f:
        catalogue = read_po(f)
    pieces: set[str] = set()
    for message in catalogue:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            pieces.update(p.strip().strip("'").strip() for p in re.split(r"%\(\w+\)s", text))
    now = datetime.now(UTC)
    for width in ("wide", "abbreviated"):
        pieces.update(get_month_names(width, locale="id").values())
        pieces.update(get_day_names(width, locale="id").values())
    for seconds in (1, 60, 3600, 86400, 7 * 86400, 31 * 86400, 366 * 86400):
        for sign in (-1, 1):
            text = format_timedelta(timedelta(seconds=sign * seconds), add_direction=True, threshold=1, locale="id")
            pieces.update(p.strip() for p in re.split(r"\d+", text))
            pieces.add(format_timedelta(timedelta(seconds=seconds), threshold=2, locale="id"))
    pieces.update(format_datetime(now, "z", tzinfo=ZoneInfo(z), locale="id") for z in ZONES)
    return tuple(sorted((p for p in pieces if re.search(r"[^\W\d_]", p)), key=len, reverse=True))


def untranslated(texts: list[str]) -> list[str]:
    """The texts (of COLLECT) that keep letters once every catalogue fragment is taken out of them."""
    left = []
    for text in texts:
        rest = QUOTED.sub(" ", text)
        for piece in fragments():
            if piece in rest:
                before = r"(?<!\w)" if re.match(r"\w", piece) else ""
                after = r"(?!\w)" if re.search(r"\w$", piece) else ""
                rest = re.sub(before + re.escape(piece) + after, " ", rest)
        if re.search(r"[^\W\d_]", rest):
            left.append(f"{text!r} (left: {rest.strip()!r})")
    return left


def english_left(page: Any) -> list[str]:
    """What on the current page is not Indonesian (empty when all of it is)."""
    return untranslated(page.evaluate(COLLECT))
