"""Re-writing comments the way spammers obfuscate them, for the robustness check of the evaluation."""

from __future__ import annotations

import random
from collections.abc import Callable

__all__ = ["STYLES", "obfuscate"]

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


STYLES: list[Callable[[str], str]] = [
    lambda w: _styled(w, 0x1D400, 0x1D41A, 0x1D7CE),  # math bold
    lambda w: _styled(w, 0x1D5D4, 0x1D5EE, 0x1D7EC),  # math sans bold
    lambda w: _styled(w, 0xFF21, 0xFF41, 0xFF10),  # fullwidth
    lambda w: _styled(w, 0x24B6, 0x24D0, None),  # circled
    lambda w: "".join(_LOOKALIKE.get(c, c) for c in w),  # Cyrillic look-alikes
    lambda w: " ".join(w.upper()),  # S P A C E D
    lambda w: ".".join(w),  # d.o.t.t.e.d
    lambda w: "\u200b".join(w),  # zero-width spaces
    lambda w: "".join(_SMALL_CAPS.get(c, c) for c in w.lower()),  # ꜱᴍᴀʟʟ ᴄᴀᴘꜱ
    lambda w: "🔥".join(w),  # e🔥m🔥o🔥j🔥i between letters
    lambda w: "-".join(w.upper()),  # D-A-S-H-E-D
]
"""The ways the check re-writes a word, one chosen per comment."""


def obfuscate(text: str, rng: random.Random) -> str:
    """Re-write a comment the way spammers do: one style on about half of its words (at least one)."""
    words = text.split(" ")
    style = rng.choice(STYLES)
    candidates = [i for i, w in enumerate(words) if w.isalnum() and len(w) >= 3]
    if not candidates:
        return style(text) if text.isalnum() else text
    chosen = set(rng.sample(candidates, max(1, len(candidates) // 2)))
    return " ".join(style(w) if i in chosen else w for i, w in enumerate(words))
