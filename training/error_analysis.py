"""The hardest mistakes of a cross-validated recipe: ham it flags most surely, spam it misses worst.

Every row is judged at its own fold's threshold (1 % FPR on that fold's ham, ``training.metrics.fold_thresholds``,
the threshold of the obfuscation check in ``training.obfuscation``), so a score is only ever compared with the model
that produced it.  All errors are also tallied by cheap surface categories (brand-like token, URL, phone number,
short text, gambling words) so patterns show.  Comment text is attacker-controlled: ``markdown_section`` escapes
every cell so a comment can neither break the table nor inject HTML, code spans or Markdown links (a bare
``www.`` or ``https://`` address is left as written: GitHub-style renderers still make it clickable).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from moderation.reading.signals import SIGNAL_NAMES, signal_row
from moderation.reading.text import normalize
from training.evaluate import EvalData
from training.metrics import fold_thresholds

__all__ = [
    "FN_CATEGORIES",
    "FP_CATEGORIES",
    "ErrorReport",
    "HardError",
    "escape_cell",
    "fn_categories",
    "fp_categories",
    "hardest_errors",
    "markdown_section",
    "mentions_gambling",
]

TARGET_FPR = 0.01
"""Each fold's threshold lets this share of that fold's ham through as false positives."""
CELL_CHARS = 160
"""Comment texts are cut to this many characters in the Markdown tables (the JSON keeps them whole)."""
SHORT_WORDS = 5
"""A missed spam of at most this many (normalised) words counts as short."""
FN_CATEGORIES = ("brand", "url", "phone", "short", "none")
FP_CATEGORIES = ("gambling", "brand", "other")

_SQUEEZE = re.compile(r"(.)\1+")
_LETTERS = re.compile(r"[a-z]+")
# Gambling words in their squeezed spelling (repeated letters made one: scatter -> scater);
# matched against the letter runs of the normalised text, so slot88 and s.l.o.t both count.
_GAMBLING = frozenset(
    _SQUEEZE.sub(r"\1", w)
    for w in (
        "slot", "judi", "judol", "gacor", "togel", "toto", "maxwin", "jackpot", "jp", "jepe", "scatter",
        "casino", "kasino", "poker", "taruhan", "bandar", "deposit", "depo", "rtp", "zeus", "olympus",
        "mahjong", "betting", "sbobet", "rungkad",
    )
)  # fmt: skip
_SIGNAL = {name: i for i, name in enumerate(SIGNAL_NAMES)}
# Bidi embeddings, overrides and isolates reorder what follows them on screen (U+202E flips a table row).
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_MARKDOWN = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", "|": "\\|", "`": "\\`", "\\": "\\\\", "[": "\\[", "]": "\\]"}
)


@dataclass
class HardError:
    """One misjudged row: its score, the threshold of its fold and how far it landed on the wrong side."""

    row: int
    fold: int
    score: float
    threshold: float
    margin: float  # score - threshold: > 0 for a false positive, < 0 for a false negative
    source: str
    group: str
    categories: list[str]
    text: str


@dataclass
class ErrorReport:
    """The N hardest false positives and negatives, and every error tallied by category."""

    target_fpr: float
    thresholds: dict[str, float]  # by fold (str keys: the report is JSON)
    n_ham: int
    n_spam: int
    n_fp: int
    n_fn: int
    fp_tally: dict[str, int]
    fn_tally: dict[str, int]
    false_positives: list[HardError]
    false_negatives: list[HardError]

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON-able values."""
        return asdict(self)


def _surface(text: str) -> tuple[str, dict[str, bool]]:
    """The normalised text and which of the structural signals (brand, URL, phone) it carries."""
    norm = normalize(text)
    row = signal_row(text, norm)
    found = {
        "brand": row[_SIGNAL["signal:brand_token"]] > 0,
        "url": row[_SIGNAL["signal:link"]] > 0,
        "phone": row[_SIGNAL["signal:phone"]] > 0,
    }
    return norm, found


def mentions_gambling(normalized: str) -> bool:
    """Tell whether normalised text holds a gambling word (slot, judi, gacor, togel, maxwin ...)."""
    return any(_SQUEEZE.sub(r"\1", w) in _GAMBLING for w in _LETTERS.findall(normalized))


def fn_categories(text: str) -> list[str]:
    """Categories of a missed spam: brand, url, phone, short (<= 5 words), or ["none"]."""
    norm, found = _surface(text)
    found["short"] = len(norm.split()) <= SHORT_WORDS
    return [c for c in FN_CATEGORIES if found.get(c)] or ["none"]


def fp_categories(text: str) -> list[str]:
    """Categories of a flagged ham: gambling (words), brand (token), or ["other"]."""
    norm, found = _surface(text)
    found["gambling"] = mentions_gambling(norm)
    return [c for c in FP_CATEGORIES if found.get(c)] or ["other"]


def _tally(texts: Sequence[str], categorise: Callable[[str], list[str]], names: Sequence[str]) -> dict[str, int]:
    """How many texts fall under each category (a text can count under several)."""
    counts = Counter(c for t in texts for c in categorise(t))
    return {name: counts[name] for name in names}


def _pick(
    data: EvalData, rows: Sequence[int], scores: np.ndarray, cut: np.ndarray, fold: np.ndarray,
    categorise: Callable[[str], list[str]],
) -> list[HardError]:  # fmt: skip
    """The chosen rows as HardErrors, in the given order."""
    return [
        HardError(
            row=int(i),
            fold=int(fold[i]),
            score=float(scores[i]),
            threshold=float(cut[i]),
            margin=float(scores[i] - cut[i]),
            source=data.sources[i],
            group=data.groups[i],
            categories=categorise(data.texts[i]),
            text=data.texts[i],
        )
        for i in rows
    ]


def hardest_errors(
    data: EvalData, scores: np.ndarray, fold: np.ndarray, n: int = 15, target_fpr: float = TARGET_FPR
) -> ErrorReport:
    """The n ham scored highest at or above its fold's threshold and the n spam scored lowest below it."""
    y, scores, fold = data.y, np.asarray(scores, dtype=np.float64), np.asarray(fold)
    thresholds = fold_thresholds(y, scores, fold, target_fpr)
    cut = np.array([thresholds[int(k)] for k in fold], dtype=np.float64)
    flagged = scores >= cut
    fp = sorted(np.flatnonzero(flagged & (y == 0)).tolist(), key=lambda i: (-scores[i], i))
    fn = sorted(np.flatnonzero(~flagged & (y == 1)).tolist(), key=lambda i: (scores[i], i))
    return ErrorReport(
        target_fpr=target_fpr,
        thresholds={str(k): t for k, t in thresholds.items()},
        n_ham=int(np.sum(y == 0)),
        n_spam=int(np.sum(y == 1)),
        n_fp=len(fp),
        n_fn=len(fn),
        fp_tally=_tally([data.texts[i] for i in fp], fp_categories, FP_CATEGORIES),
        fn_tally=_tally([data.texts[i] for i in fn], fn_categories, FN_CATEGORIES),
        false_positives=_pick(data, fp[:n], scores, cut, fold, fp_categories),
        false_negatives=_pick(data, fn[:n], scores, cut, fold, fn_categories),
    )


# ---------------------------------------------------------------------------
# Markdown


def escape_cell(text: str, limit: int | None = None) -> str:
    """Text safe inside a Markdown table cell: one line, no control or bidi characters, cut to limit, escaped.

    ``|`` and backticks and brackets are backslash-escaped (no cell break, code span or link), ``&<>`` become
    entities (no HTML); control characters (newlines, ESC of terminal sequences) become spaces.
    """
    visible = "".join(" " if c in _BIDI or unicodedata.category(c) == "Cc" else c for c in text)
    flat = " ".join(visible.split())
    if limit is not None and len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    return flat.translate(_MARKDOWN)


def _error_rows(errors: Sequence[dict[str, Any]]) -> list[str]:
    """One table of errors (as in the JSON report)."""
    lines = [
        "| # | score | margin | fold | source | group | categories | text |",
        "|---:|---:|---:|---:|---|---|---|---|",
    ]
    for k, e in enumerate(errors, 1):
        cells = [escape_cell(e["source"]), escape_cell(e["group"]), escape_cell(", ".join(e["categories"])),
                 escape_cell(e["text"], CELL_CHARS)]  # fmt: skip
        lines.append(f"| {k} | {e['score']:.4f} | {e['margin']:+.4f} | {e['fold']} | " + " | ".join(cells) + " |")
    return lines


def _tally_line(label: str, tally: dict[str, int]) -> str:
    """One list item of category counts."""
    return f"- {label} by category: " + ", ".join(f"{name} {count}" for name, count in tally.items())


def markdown_section(entry: dict[str, Any]) -> list[str]:
    """The "Hardest errors" section (lines) of a report dict: its recipe, the tallies and the two tables."""
    thresholds = ", ".join(f"{k}: {t:.4f}" for k, t in entry["thresholds"].items())
    return [
        f"## Hardest errors of {escape_cell(entry['recipe'])} "
        f"(threshold: {entry['target_fpr'] * 100:g} % FPR on each fold's clean ham)",
        "",
        f"{entry['n_fp']} false positives among {entry['n_ham']} ham, {entry['n_fn']} false negatives among "
        f"{entry['n_spam']} spam. Thresholds by fold: {thresholds}. Margin = score - its fold's threshold.",
        "",
        _tally_line("False positives", entry["fp_tally"]),
        _tally_line("False negatives", entry["fn_tally"]),
        "",
        "A comment counts under every category it fits; the tables list the hardest, the counts cover every error.",
        "",
        "### False positives (ham scored highest)",
        "",
        *_error_rows(entry["false_positives"]),
        "",
        "### False negatives (spam scored lowest)",
        "",
        *_error_rows(entry["false_negatives"]),
    ]
