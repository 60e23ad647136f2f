"""Tests for training on the seed set, the model registry and the runtime scorer."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.feature_extraction.text import TfidfVectorizer

from moderation.model.estimator import PLACEHOLDERS, FeatureParams, ModerationModel
from moderation.model.registry import (
    ModelIntegrityError,
    ModelNotFound,
    active_version,
    list_models,
    promote,
    save_model,
)
from moderation.model.scoring import ModelScorer, Scorer, ScorerCache, load_scorer
from moderation.reading import fingerprint
from moderation.reading.features import FastTfidfVectorizer
from moderation.reading.fingerprint import CURRENT, STALE, UNKNOWN, reading_fingerprint
from moderation.reading.text import normalize_many
from training.cli import ensure_model, model
from training.datasets import LabeledSource, load_sources
from training.metrics import choose_thresholds, threshold_at_fpr
from training.train import TRAIN_STEPS, dedupe, train_model

JUDOL = "𝐆𝐀𝐑𝐔𝐃𝐀𝟏𝟑𝟖 gacor parah malam ini, depo 50rb langsung maxwin WD 3 juta 🔥"
NEWS = "Semoga pembangunan jembatan di Kabupaten Sigi cepat selesai, warga sudah lama menunggu."


@pytest.fixture(scope="module")
def trained() -> tuple[ModerationModel, dict[str, Any]]:
    """One model trained on the shipped seed set, shared by the tests of this module."""
    return train_model([])


@pytest.fixture()
def registry(tmp_path: Path, trained: tuple[ModerationModel, dict[str, Any]]) -> tuple[Path, str]:
    """A model directory holding the seed model as the active version."""
    fitted, card = trained
    version = save_model(fitted, card, tmp_path / "models", activate=True)
    return tmp_path / "models", version


def test_card_records_provenance_metrics_and_thresholds(registry: tuple[Path, str]) -> None:
    """The saved card names versions, data, sources, held-out metrics and thresholds."""
    model_dir, version = registry
    card = json.loads((model_dir / version / "card.json").read_text())
    for key in ("version", "created_at", "python", "sklearn", "sha256", "data_fingerprint", "sources"):
        assert card[key], key
    assert card["version"] == version
    assert {s["name"] for s in card["sources"]} == {"seed:spam", "seed:abuse"}
    assert all(s["commercial"] for s in card["sources"])
    spam = card["metrics"]["spam"]
    for key in ("roc_auc", "pr_auc", "precision", "recall", "f1", "recall_at_fpr_1pct"):
        assert 0.0 <= spam[key] <= 1.0, key
    assert spam["roc_auc"] > 0.9
    t = card["thresholds"]
    assert 0 < t["approve_below"] <= t["spam_above"] < 1 and 0 < t["abusive_above"] < 1


def test_sha256_in_card_matches_file(registry: tuple[Path, str]) -> None:
    """The card's sha256 is the digest of model.joblib, and that file loads."""
    model_dir, version = registry
    card = json.loads((model_dir / version / "card.json").read_text())
    digest = hashlib.sha256((model_dir / version / "model.joblib").read_bytes()).hexdigest()
    assert card["sha256"] == digest
    assert load_scorer(model_dir).version == version


def _set_reading(model_dir: Path, version: str, reading: str | None) -> None:
    """Rewrite the reading fingerprint a card records (None: a card from before the fingerprint)."""
    path = model_dir / version / "card.json"
    card = json.loads(path.read_text())
    card.pop("reading", None)
    if reading is not None:
        card["reading"] = reading
    path.write_text(json.dumps(card))


def test_a_model_trained_on_another_reading_of_text_is_stale(
    registry: tuple[Path, str], caplog: pytest.LogCaptureFixture
) -> None:
    """The card records the reading of text; a different one loads with a warning, a missing one is unknown."""
    model_dir, version = registry
    assert json.loads((model_dir / version / "card.json").read_text())["reading"] == reading_fingerprint()
    assert load_scorer(model_dir).reading == CURRENT
    _set_reading(model_dir, version, "0" * 16)
    with caplog.at_level(logging.WARNING, logger="moderation.model.scoring"):
        assert load_scorer(model_dir).reading == STALE
    assert "older reading of text" in caplog.text
    _set_reading(model_dir, version, None)
    assert load_scorer(model_dir).reading == UNKNOWN


def test_list_and_promote_say_when_a_model_is_stale(tmp_path: Path, registry: tuple[Path, str]) -> None:
    """model list marks a stale model and promote warns on stderr (and still promotes: it scores)."""
    model_dir, version = registry
    _set_reading(model_dir, version, "0" * 16)
    runner = CliRunner(env={"MODERATION_DATA_DIR": str(tmp_path / "var"), "MODERATION_MODEL_DIR": str(model_dir)})
    assert json.loads(runner.invoke(model, ["list", "--json"]).stdout)[0]["reading"] == STALE
    assert "reading of text: stale" in runner.invoke(model, ["list"]).stdout
    promoted = runner.invoke(model, ["promote", version])
    assert promoted.exit_code == 0, promoted.output
    assert "retrain" in promoted.stderr and json.loads(promoted.stdout)["version"] == version


def test_reading_fingerprint_follows_how_text_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading any probe differently changes the fingerprint; reading them the same keeps it."""
    before = reading_fingerprint()
    fingerprint.reading_fingerprint.cache_clear()
    assert reading_fingerprint() == before
    real = fingerprint.normalize
    monkeypatch.setattr(fingerprint, "normalize", lambda t: real(t).replace("aero88", "aero 88"))
    fingerprint.reading_fingerprint.cache_clear()
    try:
        assert reading_fingerprint() != before
    finally:
        fingerprint.reading_fingerprint.cache_clear()


def test_tampered_model_is_refused(registry: tuple[Path, str]) -> None:
    """A model.joblib changed after saving raises ModelIntegrityError and cannot be promoted."""
    model_dir, version = registry
    path = model_dir / version / "model.joblib"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError):
        load_scorer(model_dir, version)
    with pytest.raises(ModelIntegrityError):
        promote(model_dir, version)


def test_missing_or_unknown_model_raises_not_found(tmp_path: Path, registry: tuple[Path, str]) -> None:
    """No ACTIVE file, an unknown version or a path-like version raise ModelNotFound."""
    assert active_version(tmp_path / "empty") is None
    with pytest.raises(ModelNotFound):
        load_scorer(tmp_path / "empty")
    model_dir, _ = registry
    with pytest.raises(ModelNotFound):
        load_scorer(model_dir, "2000-01-01T00-00-00Z-0000")
    with pytest.raises(ModelNotFound):
        load_scorer(model_dir, "../models")


def test_scorer_cache_follows_active_pointer(
    registry: tuple[Path, str], trained: tuple[ModerationModel, dict[str, Any]]
) -> None:
    """ScorerCache keeps one scorer and switches when ACTIVE is promoted to another version."""
    model_dir, first = registry
    cache = ScorerCache(model_dir, check_interval=0.0)
    scorer = cache.get()
    assert scorer.version == first and cache.get() is scorer
    second = save_model(*trained, model_dir, activate=False)
    assert cache.get() is scorer  # saving without activation changes nothing
    promote(model_dir, second)
    assert cache.get() is scorer  # the promotion loads in the background: the old model answers meanwhile
    cache.wait_for_swap()
    assert cache.get().version == second
    assert [c["version"] for c in list_models(model_dir) if c["active"]] == [second]


def test_scorer_cache_checks_at_most_once_per_interval(
    registry: tuple[Path, str], trained: tuple[ModerationModel, dict[str, Any]]
) -> None:
    """Within the check interval the cached scorer is returned without looking at ACTIVE."""
    model_dir, first = registry
    cache = ScorerCache(model_dir, check_interval=3600.0)
    assert cache.get().version == first
    promote(model_dir, save_model(*trained, model_dir, activate=False))
    assert cache.get().version == first
    cache.invalidate()
    assert cache.get().version != first


def test_scorer_cache_keeps_last_good_model_on_broken_promotion(
    registry: tuple[Path, str], trained: tuple[ModerationModel, dict[str, Any]]
) -> None:
    """A promoted but corrupt version is refused and the previous model keeps scoring."""
    model_dir, first = registry
    cache = ScorerCache(model_dir, check_interval=0.0)
    assert cache.get().version == first
    second = save_model(*trained, model_dir, activate=True)
    (model_dir / second / "model.joblib").write_bytes(b"not a pickle")
    assert cache.get().version == first
    cache.wait_for_swap()
    assert cache.get().version == first


def test_batch_predict_shape_and_range(trained: tuple[ModerationModel, dict[str, Any]]) -> None:
    """predict returns one spam and one abusive probability per input text."""
    fitted, _ = trained
    spam, abusive = fitted.predict([JUDOL, NEWS, "Dasar goblok", ""])
    assert spam.shape == abusive.shape == (4,)
    assert np.all((spam >= 0) & (spam <= 1)) and np.all((abusive >= 0) & (abusive <= 1))


def test_seed_model_separates_obvious_cases(registry: tuple[Path, str]) -> None:
    """Obvious judol spam scores above spam_above; a plain news comment below approve_below."""
    scorer = load_scorer(registry[0])
    spam_score, news_score = scorer.score([JUDOL, NEWS])
    assert spam_score.spam > scorer.thresholds["spam_above"]
    assert news_score.spam < scorer.thresholds["approve_below"]
    assert news_score.reasons == []


def test_explain_returns_spam_reasons(trained: tuple[ModerationModel, dict[str, Any]]) -> None:
    """explain names positive spam features with code, detail, feature and weight."""
    fitted, _ = trained
    reasons = fitted.explain(JUDOL, k=3)
    spam_reasons = [r for r in reasons if r["code"] == "model.spam"]
    assert 1 <= len(spam_reasons) <= 3
    for reason in spam_reasons:
        assert reason["weight"] > 0 and reason["feature"] in reason["detail"]
    assert any(r["feature"] in ("garuda138", "gacor", "signal:brand_token") for r in spam_reasons)


def test_model_scorer_is_a_scorer_with_reasons(registry: tuple[Path, str]) -> None:
    """ModelScorer satisfies the Scorer protocol and attaches reasons to suspect texts."""
    scorer = load_scorer(registry[0])
    assert isinstance(scorer, Scorer) and isinstance(scorer, ModelScorer)
    assert scorer.score([]) == []
    (judol,) = scorer.score([JUDOL])
    assert judol.reasons and judol.reasons[0]["code"] == "model.spam"


def test_fast_vectorizer_matches_sklearn(trained: tuple[ModerationModel, dict[str, Any]]) -> None:
    """FastTfidfVectorizer.transform gives exactly sklearn's TfidfVectorizer.transform."""
    fitted, _ = trained
    docs = normalize_many([JUDOL, NEWS, "a", "", "B U K I T 8 8 8 lagi gacor", "ok ok ok ok"])
    union = fitted.pipelines["spam"].named_steps["features"]
    for _, vec in union.vectorizers_:
        assert isinstance(vec, FastTfidfVectorizer)
        fast = vec.transform(docs)
        slow = TfidfVectorizer.transform(vec, docs)
        assert (fast != slow).nnz == 0
        assert vec.transform(docs).nnz == fast.nnz  # warm word cache gives the same result


def test_pipelines_score_raw_text(trained: tuple[ModerationModel, dict[str, Any]]) -> None:
    """Each head is a full sklearn Pipeline on raw text; the model's probability is its Platt-scaled margin."""
    fitted, card = trained
    margin = fitted.pipelines["spam"].decision_function([JUDOL, NEWS])
    a, b = card["calibration"]["spam"]["a"], card["calibration"]["spam"]["b"]
    assert a > 0  # calibration keeps the ranking
    assert np.allclose(1 / (1 + np.exp(-(a * margin + b))), fitted.predict([JUDOL, NEWS])[0], atol=1e-5)
    assert fitted.predict([JUDOL])[0][0] > 0.5 > fitted.predict([NEWS])[0][0]


def test_dedupe_merges_normalised_copies_and_drops_ties() -> None:
    """Copies equal after normalisation collapse to one row; evenly split labels are dropped."""
    src = LabeledSource("t", "t.csv", "own", True, "spam",
                        texts=["AERO88 gacor", "𝐀𝐄𝐑𝐎𝟖𝟖  gacor", "aero88 gacor", "halo", "Halo"],
                        labels=[1, 1, 0, 1, 0])  # fmt: skip
    data = dedupe([src])
    assert data.normalized == ["aero88 gacor"]
    assert data.labels.tolist() == [1]


def test_thresholds_follow_validation_scores() -> None:
    """spam_above keeps ham false positives within budget; approve_below keeps recall high."""
    y = np.array([0] * 200 + [1] * 100)
    p = np.concatenate([np.linspace(0.0, 0.6, 200), np.linspace(0.5, 1.0, 100)])
    t_fpr = threshold_at_fpr(y, p, 0.005)
    assert np.mean(p[y == 0] >= t_fpr) <= 0.005
    t = choose_thresholds(y, p, y, p)
    assert t["approve_below"] <= t["spam_above"]
    assert np.mean(p[y == 1] >= t["approve_below"]) >= 0.98


def test_training_is_deterministic(trained: tuple[ModerationModel, dict[str, Any]]) -> None:
    """Training twice on the same data gives the same fingerprint and thresholds."""
    _, card = trained
    _, again = train_model([])
    assert again["data_fingerprint"] == card["data_fingerprint"]
    assert again["thresholds"] == card["thresholds"]


def test_training_on_a_user_csv(tmp_path: Path) -> None:
    """A plain text,label CSV is trained on together with the seed set and listed as a source."""
    path = tmp_path / "feedback.csv"
    rows = [("Dapatkan bonus slot tiap hari di NAGA999", "spam"), ("Berita yang informatif", "ham")] * 3
    path.write_text("text,label\n" + "".join(f"{t} {i},{lab}\n" for i, (t, lab) in enumerate(rows)))
    _, card = train_model([path])
    names = {s["name"] for s in card["sources"]}
    assert names == {"feedback:spam", "seed:spam", "seed:abuse"}
    assert load_sources([path])[0].licence.startswith("user-supplied")


def test_training_reports_each_long_step_in_order() -> None:
    """train_model names every step of TRAIN_STEPS to its progress callback, in order, once each."""
    seen: list[str] = []
    train_model([], progress=seen.append)
    assert seen == list(TRAIN_STEPS)


def test_ensure_model_trains_only_once(tmp_path: Path) -> None:
    """ensure_model trains and activates a first model, then returns it unchanged."""
    model_dir = tmp_path / "models"
    first = ensure_model(model_dir, [])
    assert active_version(model_dir) == first
    assert ensure_model(model_dir, []) == first
    assert len(list_models(model_dir)) == 1


def test_cli_train_list_promote(tmp_path: Path) -> None:
    """model train --json activates the first model only; list and promote work on the registry."""
    env = {"MODERATION_DATA_DIR": str(tmp_path / "var"), "MODERATION_MODEL_DIR": str(tmp_path / "models")}
    runner = CliRunner(env=env)
    first = runner.invoke(model, ["train", "--json"])
    assert first.exit_code == 0, first.output
    assert "training" in first.stderr  # the step bar goes to stderr, leaving stdout one JSON object
    out = json.loads(first.stdout)
    assert out["active"] and out["metrics"]["spam"]["roc_auc"] > 0.9
    second = json.loads(runner.invoke(model, ["train", "--json"]).stdout)
    assert not second["active"]
    listed = json.loads(runner.invoke(model, ["list", "--json"]).stdout)
    assert [m["version"] for m in listed] == sorted([out["version"], second["version"]])
    assert runner.invoke(model, ["promote", second["version"]]).exit_code == 0
    assert active_version(tmp_path / "models") == second["version"]
    bad = runner.invoke(model, ["promote", "no-such-version"])
    assert bad.exit_code != 0
    ensured = json.loads(runner.invoke(model, ["ensure", "--json"]).stdout)
    assert ensured == {"version": second["version"], "trained": False, "model_dir": str(tmp_path / "models")}


def test_cli_ensure_trains_first_model(tmp_path: Path) -> None:
    """model ensure on an empty registry trains and activates the seed model."""
    env = {"MODERATION_DATA_DIR": str(tmp_path / "var"), "MODERATION_MODEL_DIR": str(tmp_path / "models")}
    result = CliRunner(env=env).invoke(model, ["ensure"])
    assert result.exit_code == 0, result.output
    assert active_version(tmp_path / "models") is not None


def test_copied_registry_still_verifies(tmp_path: Path, registry: tuple[Path, str]) -> None:
    """A registry copied elsewhere (backup/restore) loads: nothing in it depends on its path."""
    model_dir, version = registry
    copy = tmp_path / "restored"
    shutil.copytree(model_dir, copy)
    assert load_scorer(copy).version == version


def test_reasons_name_whole_words_not_fragments(trained: tuple[ModerationModel, dict[str, Any]]) -> None:
    """A model reading char n-grams across words names the words (or word pairs) holding its strongest n-grams."""
    fitted, _ = trained
    (text,) = fitted.model_texts("spam", [JUDOL])
    words = text.split()
    reasons = [r for r in fitted.explain(JUDOL, k=5) if not r["feature"].startswith("signal:")]
    assert reasons
    for reason in reasons:
        span = reason["feature"].split()
        assert any(words[i : i + len(span)] == span for i in range(len(words))), reason
    assert any(r["feature"] == "garuda138" for r in reasons)


def test_reasons_say_what_a_placeholder_stands_for(trained: tuple[ModerationModel, dict[str, Any]]) -> None:
    """A reason built on a placeholder (xphonex; xbrandx where a recipe masks brands) says what it stands for."""
    fitted, _ = trained
    reasons = fitted.explain("Pinjaman cepat cair tanpa jaminan, hubungi WA 0812-3456-7890", k=10)
    phone = [r for r in reasons if "xphonex" in r["feature"]]
    assert phone and all("xphonex = a phone number" in r["detail"] for r in phone)
    plain = [r for r in reasons if not any(token in r["feature"] for token in PLACEHOLDERS)]
    assert plain and all(" = " not in r["detail"] for r in plain)
    masking, _ = train_model([], params=replace(FeatureParams(), brands=True))
    reasons = masking.explain("Main di 𝐌𝐄𝐆𝐀𝐁𝐄𝐓𝟗𝟗 pasti maxwin", k=10)
    brand = [r for r in reasons if "xbrandx" in r["feature"]]
    assert brand and all("xbrandx = a brand-like name" in r["detail"] for r in brand)
