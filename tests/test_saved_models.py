"""Models saved by earlier releases keep loading and scoring as they did (pickles name classes and settings)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest

from moderation.fingerprint import CURRENT, reading_status
from moderation.scoring import load_scorer

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.mark.parametrize("name", ["model_v3"])
def test_a_model_saved_by_an_earlier_release_scores_as_it_did(name: str) -> None:
    """The seed model saved before the cross-source recipe (char_wb, word n-grams, brand mask, LR) loads and
    gives the scores and reasons recorded when it was saved, as long as the reading of text is unchanged."""
    registry = FIXTURES / name
    expected = json.loads((registry / "expected_scores.json").read_text(encoding="utf-8"))
    scorer = load_scorer(registry)
    scores = [asdict(s) for s in scorer.score(expected["texts"])]
    assert len(scores) == len(expected["scores"])
    if reading_status(scorer.card) == CURRENT:
        assert scores == expected["scores"]  # bit for bit: same weights, same reading, same arithmetic
    else:  # the code reads text differently now: the model still scores, and says it is stale
        assert all(0.0 <= s["spam"] <= 1.0 for s in scores)
