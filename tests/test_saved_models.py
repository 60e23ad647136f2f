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


def test_a_model_in_joblibs_format_loads_through_joblib(tmp_path: Path) -> None:
    """A card saying format "joblib" is read with joblib.load and scores as the plain pickle does."""
    import hashlib
    import io
    import shutil

    import joblib

    source = FIXTURES / "model_v4"
    version = (source / "ACTIVE").read_text(encoding="utf-8").strip()
    expected = json.loads((source / "expected_scores.json").read_text(encoding="utf-8"))
    model = load_scorer(source).model
    target = tmp_path / version
    shutil.copytree(source / version, target)
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    (target / "model.joblib").write_bytes(buffer.getvalue())
    card = json.loads((target / "card.json").read_text(encoding="utf-8"))
    card.update(format="joblib", sha256=hashlib.sha256(buffer.getvalue()).hexdigest())
    (target / "card.json").write_text(json.dumps(card), encoding="utf-8")
    (tmp_path / "ACTIVE").write_text(version, encoding="utf-8")
    assert [asdict(s) for s in load_scorer(tmp_path).score(expected["texts"])] == expected["scores"]
