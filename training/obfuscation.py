"""Re-writing comments the way spammers obfuscate them (and other platforms deliver them), and the check that
scores them.

The check (``obfuscation_check``, and ``check_by_style`` for each way of typing) compares a model's
scores of held-out comments with its scores of the same comments re-written, at the threshold that
gives 1 % FPR on that fold's clean ham: what the text says should decide, not how it is typed.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import numpy as np

from training.metrics import fold_thresholds
from training.style import style_copy

__all__ = ["STYLES", "WHOLE_COMMENT_STYLES", "check_by_style", "obfuscate", "obfuscate_as", "obfuscation_check"]

_LOOKALIKE = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "y": "у", "i": "і", "s": "ѕ"}
_SMALL_CAPS = dict(zip("abcdefghijklmnoprstuvwyz", "ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘʀꜱᴛᴜᴠᴡʏᴢ", strict=True))


def _styled(word: str, base_upper: int, base_lower: int, base_digit: int | None) -> str:
    """Write a word in one Unicode letter style (math bold, fullwidth, ...)."""
    out = []
    for ch in word:
        if "A" <= ch <= "Z":
            out.append(chr(base_upper + ord(ch) - 65))
        elif "a" <= ch <= "z":
            out.append(chr(base_lower + ord(ch) - 97))
        elif "0" <= ch <= "9" and base_digit is not None:
            out.append(chr(base_digit + ord(ch) - 48))
        else:
            out.append(ch)
    return "".join(out)


STYLES: dict[str, Callable[[str], str]] = {
    "math bold": lambda w: _styled(w, 0x1D400, 0x1D41A, 0x1D7CE),
    "math sans bold": lambda w: _styled(w, 0x1D5D4, 0x1D5EE, 0x1D7EC),
    "full-width": lambda w: _styled(w, 0xFF21, 0xFF41, 0xFF10),
    "circled": lambda w: _styled(w, 0x24B6, 0x24D0, None),
    "Cyrillic look-alikes": lambda w: "".join(_LOOKALIKE.get(c, c) for c in w),
    "S P A C E D": lambda w: " ".join(w.upper()),
    "d.o.t.t.e.d": lambda w: ".".join(w),
    "zero-width spaces": lambda w: "\u200b".join(w),
    "small caps": lambda w: "".join(_SMALL_CAPS.get(c, c) for c in w.lower()),
    "emoji between letters": lambda w: "🔥".join(w),
    "D-A-S-H-E-D": lambda w: "-".join(w.upper()),
}
"""The ways the check re-writes a word, by name; one is chosen per comment."""

WHOLE_COMMENT_STYLES: dict[str, Callable[[str], str]] = {"lower-case, no punctuation": style_copy}
"""Ways of writing a whole comment (as other platforms and plugins deliver it), chosen like a word style."""


def obfuscate(text: str, rng: random.Random) -> str:
    """Re-write a comment the way spammers do: one style on about half of its words (at least one)."""
    return obfuscate_as(text, rng)[0]


def obfuscate_as(text: str, rng: random.Random) -> tuple[str, str]:
    """The re-written comment and the name of the style it was written in."""
    name = rng.choice([*STYLES, *WHOLE_COMMENT_STYLES])
    if name in WHOLE_COMMENT_STYLES:
        return WHOLE_COMMENT_STYLES[name](text), name
    words = text.split(" ")
    style = STYLES[name]
    candidates = [i for i, w in enumerate(words) if w.isalnum() and len(w) >= 3]
    if not candidates:
        return (style(text) if text.isalnum() else text), name
    chosen = set(rng.sample(candidates, max(1, len(candidates) // 2)))
    return " ".join(style(w) if i in chosen else w for i, w in enumerate(words)), name


def obfuscation_check(y: np.ndarray, clean: np.ndarray, obf: np.ndarray, fold: np.ndarray) -> dict[str, float]:
    """Spam recall and ham FPR, clean vs obfuscated, at each fold's clean 1 %-FPR threshold."""
    return _rates(y, clean, obf, _clean_thresholds(y, clean, fold), np.ones(len(y), dtype=bool))


def check_by_style(
    y: np.ndarray, clean: np.ndarray, obf: np.ndarray, fold: np.ndarray, styles: Sequence[str]
) -> dict[str, dict[str, float]]:
    """obfuscation_check for the comments re-written in each style, at the same (all-ham) thresholds."""
    at, names = _clean_thresholds(y, clean, fold), np.asarray(styles)
    every = [*STYLES, *WHOLE_COMMENT_STYLES]
    return {name: _rates(y, clean, obf, at, names == name) for name in every if np.any(names == name)}


def _clean_thresholds(y: np.ndarray, clean: np.ndarray, fold: np.ndarray) -> np.ndarray:
    """Each comment's threshold: 1 % FPR on its fold's clean ham."""
    thresholds = fold_thresholds(y, clean, fold, 0.01)
    return np.asarray([thresholds[int(k)] for k in fold])


def _rates(y: np.ndarray, clean: np.ndarray, obf: np.ndarray, at: np.ndarray, rows: np.ndarray) -> dict[str, float]:
    """Recall and FPR of the selected rows, clean and obfuscated, with their counts."""
    spam, ham = rows & (y == 1), rows & (y == 0)
    n_spam, n_ham = max(int(spam.sum()), 1), max(int(ham.sum()), 1)
    return {
        "clean_recall": round(int(np.sum(clean[spam] >= at[spam])) / n_spam, 4),
        "obfuscated_recall": round(int(np.sum(obf[spam] >= at[spam])) / n_spam, 4),
        "clean_fpr": round(int(np.sum(clean[ham] >= at[ham])) / n_ham, 4),
        "obfuscated_fpr": round(int(np.sum(obf[ham] >= at[ham])) / n_ham, 4),
        "n_spam": int(spam.sum()),
        "n_ham": int(ham.sum()),
    }
