"""Which reading of text a model was trained on: a fingerprint of normalisation, signals and word matching.

A saved model holds its vocabularies and weights, but the code that turns a
comment into the words and signals it was trained on (``moderation.reading.text``,
``moderation.reading.signals``, the brand mask, word map and lexicon matching of
``moderation.reading.lexicon``) runs from the installed package.  When that code reads
some text differently after an upgrade, an older model sees inputs it never saw
in training.  ``model train`` records :func:`reading_fingerprint` in the card;
loading, listing and promoting compare it with the running code's and say
"stale" so ops know to retrain.  The fingerprint is the digest of how the code
reads a fixed set of probe comments, one or more per rule, so it changes exactly
when the reading of those comments changes (not when a comment in the code does).
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache

from moderation.reading.lexicon import Lexicon, apply_word_map, mask_brands
from moderation.reading.signals import ALL_SIGNAL_NAMES, signal_row, signal_values
from moderation.reading.text import normalize

__all__ = ["CURRENT", "STALE", "UNKNOWN", "PROBES", "reading_fingerprint", "reading_status"]

CURRENT = "current"
"""The model was trained with the same reading of text as the running code."""
STALE = "stale"
"""The model was trained with another reading of text: retrain it."""
UNKNOWN = "unknown"
"""The card predates the fingerprint (models saved before December 2026)."""

PROBES: tuple[str, ...] = (
    # Plain text in both languages, whitespace and case.
    "Semoga pembangunan jembatan di Kabupaten Sigi cepat selesai.",
    "  Mantap\tBeritanya\n\nSemoga   AMAN  ",
    "Great video, thanks for sharing! STRASSE Straße",
    # Letter styles, look-alikes, invisible and combining characters.
    "𝐆𝐀𝐑𝐔𝐃𝐀𝟏𝟑𝟖 gacor 𝗣𝗟𝗨𝗧𝗢𝟴𝟴 ⓐⓔⓡⓞ ＡＥＲＯ８８",
    "AЕR𝐎𝟴𝟴 аеrо88 aeяo88 boᏔo77 pr0be𐊗855 ꓮꓰꓣꓳ88 ɐǝɹo88 aеrօ88",
    "s\u200bl\u200bo\u200bt g\u0301a\u0308cor ꜱʟᴏᴛ ⒜⒠⒭⒪⑻⑻ ➊➌➑ mandalika❼❼",
    "₲₳₵ØⱤ ΛΣЯӨ88 ᗩEᖇO ɓɗƒɠ ǥⱥȼøɍ ϲ MΛNDΛLIKΛ77 aєrѳ88",
    # Split letters and brands.
    "B U K I T 8 8 8 lagi gacor, T I D A K  B E R M U T U, main D O R A 7 7memang",
    "s.l.o.t g-a-c-o-r s~l~o~t g|a|c|o|r g🔥a🔥c🔥o🔥r g⭐a⭐c⭐o⭐r",
    "ae-ro88 dor-a77 weton`88 weton_88 ALEXIS⭐17⭐ sgi8 8 ga ru da 138",
    # Number words and leetspeak.
    "garuda satu tiga delapan, aerodelapandelapan, a🔥e🔥r🔥o d.e.l.a.p.a.n d.e.l.a.p.a.n",
    "g4c0r sl0t88 kusumat0t0 0a$net, tahun 2024 ada satu hal, yang kedua dan ketiga",
    # Repeats, emoji and punctuation.
    "gacooooor!!!!! 🔥🔥🔥🔥 wkwkwkwk ❤️ aku ❤ kamu",
    # Contacts.
    "cek https://www.Garuda138.com/daftar?ref=1 dan bit.ly/xyz, trojmiasto.pl/Vena",
    "email andi@example.co.id, wa 0812-3456-7890 / +62 812 3456 7890",
    # What must stay as it is.
    "Rp 80.000, jam 08:55, skor 2 1, zee jkt48 4 hari, covid-19, e-ktp, pilihan (a) dan (b)",
    "bismillah بسم الله الرحمن الرحيم, ꦲꦏ꧀ꦱꦫꦗꦮ, १२३",
    # The word map, brand mask and lexicon (with PROBE_LEXICON): slang, kept names, insults spelled apart.
    "yg bilang jkt48 sama densus88 itu goblok, tol*l, gblk, kedunguannya, 𝐁𝐀𝐍𝐆𝐒𝐀𝐓, pemilu2024",
    # Signals: links in HTML, capitals, length, repeated words.
    '<a href="http://example.com">SUBSCRIBE</a> CHECK MY CHANNEL NOW now now now now',
    "ok",
)
"""Probe comments: at least one for every reading rule of moderation.reading.text, .signals and .lexicon."""

PROBE_LEXICON = ("goblok", "tolol", "dungu", "bangsat")
"""Lexicon words the probes are matched against (a model stores its own list; the matching code is what counts)."""
PROBE_WORD_MAP = {"yg": "yang", "gk": "tidak"}
"""Word-map entries the probes are mapped through."""
PROBE_NOT_BRANDS = frozenset({"jkt"})
"""Names the probes' brand mask keeps."""


@lru_cache(maxsize=1)
def reading_fingerprint() -> str:
    """The running code's fingerprint (16 hex digits), computed once per process (~2 ms)."""
    lexicon = Lexicon(PROBE_LEXICON)
    readings = []
    for probe in PROBES:
        normal = normalize(probe)
        masked = mask_brands(apply_word_map(normal, PROBE_WORD_MAP), PROBE_NOT_BRANDS)
        signals = signal_values(ALL_SIGNAL_NAMES, probe, normal, masked, PROBE_NOT_BRANDS)
        readings.append([normal, masked, signal_row(probe, normal, masked), signals, lexicon.row(masked)])
    return hashlib.sha256(json.dumps(readings, ensure_ascii=False).encode()).hexdigest()[:16]


def reading_status(recorded: str | None) -> str:
    """CURRENT, STALE or UNKNOWN: how the reading a card recorded compares with the running code's."""
    if not recorded:
        return UNKNOWN
    return CURRENT if recorded == reading_fingerprint() else STALE
