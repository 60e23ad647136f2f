"""Formula-safe CSV cells: comment text is attacker-controlled, and spreadsheets run cells that look like formulas.

Used by every CSV the project writes (``moderation export``, ``moderation model score``): OWASP's CSV-injection
advice, a leading apostrophe before anything a spreadsheet would evaluate.
"""

from __future__ import annotations

# A spreadsheet treats a cell starting with one of these as a formula (or a DDE call).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%")


def safe_cell(value: str) -> str:
    """Neutralise a CSV cell a spreadsheet would evaluate (``=HYPERLINK(...)`` -> ``'=HYPERLINK(...)``)."""
    if value and (value[0] in _FORMULA_START or value.lstrip()[:1] in ("=", "+", "@")):
        return "'" + value
    return value
