"""Models saved by earlier releases keep loading and scoring as they did (pickles name classes and settings)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest

from moderation.model.scoring import load_scorer
from moderation.reading.fingerprint import CURRENT, STALE, reading_status

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.mark.parametrize("name", ["model_v3", "model_v4"])
def test_a_model_saved_by_an_earlier_release_scores_as_it_did(name: str) -> None:
    """Seed models saved by earlier releases (v3: before the cross-source recipe, with char_wb, word n-grams,
    a brand mask and LR; v4: the cross-source recipe, pickled before the modules moved into sub-packages) load and
    give, bit for bit, the scores and reasons recorded when it was saved (its texts avoid every reading rule
    changed since; a change that reads them differently must update the expectations on purpose)."""
    registry = FIXTURES / name
    expected = json.loads((registry / "expected_scores.json").read_text(encoding="utf-8"))
    scorer = load_scorer(registry)
    assert [asdict(s) for s in scorer.score(expected["texts"])] == expected["scores"]
    assert reading_status(scorer.card.reading) in (CURRENT, STALE)  # its card records the reading it was trained on
