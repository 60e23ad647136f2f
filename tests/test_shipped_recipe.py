"""The shipped recipe is the one the committed report measured, and that report says it beats the yardstick.

A recipe change (``FeatureParams`` defaults, or how text is read) ships only with a new
``docs/model/crossval.json`` from ``python -m training.crossval ../shared/data docs/model/crossval.md``: on
every source held out whole, and in-source, ours must beat the plain char n-gram model trained on the same rows.
"""

from __future__ import annotations

import json
from pathlib import Path

from moderation.reading.fingerprint import reading_fingerprint
from training.crosssource import shipped_recipe

REPORT = Path(__file__).resolve().parent.parent / "docs" / "model" / "crossval.json"


def test_the_report_measured_the_recipe_and_reading_that_ship() -> None:
    """The committed report's "ours" has today's FeatureParams defaults and today's reading of text."""
    cross = json.loads(REPORT.read_text(encoding="utf-8"))["cross_source"]
    assert cross["recipe"] == json.loads(json.dumps(shipped_recipe())), "recipe changed: rerun training.crossval"
    assert cross["reading"] == reading_fingerprint(), "reading of text changed: rerun training.crossval"


def test_the_shipped_recipe_beats_the_yardstick_on_every_held_out_source_and_in_source() -> None:
    """The report's verdicts: ours wins on every cross-source slice and on the in-source grouped CV."""
    report = json.loads(REPORT.read_text(encoding="utf-8"))
    ours = report["cross_source"]["verdicts"]["ours"]
    assert ours["beats_every_slice"], ours["slices"]
    assert {s["name"] for s in report["cross_source"]["slices"]} >= {"judol_gamblingdetection_eval"}
    assert report["in_source_verdict"]["beats_every_slice"], report["in_source_verdict"]
