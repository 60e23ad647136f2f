"""Tests for thresholds from sources held out whole: what train records, list shows and the gate compares."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from moderation.model.registry import save_model
from training.cli import model
from training.metrics import cross_source_thresholds, decision_rates
from training.promotion import compare
from training.train import eligible_sources, train_model

FORUM_SPAM = ["Main di 𝐀𝐄𝐑𝐎𝟖𝟖 pasti maxwin {i}, wd lancar", "Slot gacor hari ini {i}, daftar di 𝐃𝐎𝐑𝐀𝟕𝟕"]
FORUM_HAM = ["Semoga jalan di kampung {i} cepat diperbaiki", "Beritanya bagus, terima kasih redaksi {i}"]
SMS_SPAM = ["Selamat! Anda menang undian {i} juta, hubungi 0812-3456-78{i:02d}",
            "Pinjaman cair {i} menit WA 0813{i:04d}"]
SMS_HAM = ["Bu, saya pulang jam {i} malam ya", "Rapat RT ditunda ke hari {i}, mohon maaf"]


def _source(path: Path, spam: list[str], ham: list[str]) -> Path:
    """A user CSV with 24 spam and 24 ham rows built from the templates."""
    rows = [(t.format(i=i), "spam") for t in spam for i in range(12)] + [(t.format(i=i), "ham") for t in ham
                                                                           for i in range(12)]  # fmt: skip
    path.write_text("text,label\n" + "".join(f'"{text}",{label}\n' for text, label in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def two_sources(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], Any]:
    """Two spam sources (a forum and SMS) and the model trained on them with the seed set."""
    root = tmp_path_factory.mktemp("cross")
    paths = [_source(root / "forum.csv", FORUM_SPAM, FORUM_HAM), _source(root / "sms.csv", SMS_SPAM, SMS_HAM)]
    return paths, train_model(paths)


def test_training_holds_each_source_out_for_the_spam_thresholds(two_sources: tuple[list[Path], Any]) -> None:
    """With two spam sources, the card's spam thresholds and calibration come from each held out whole."""
    _, (_, card) = two_sources
    cross = card["cross_source"]
    assert cross["held_out"] == ["forum:spam", "sms:spam"] and cross["basis"] == "leave one source out"
    assert card["thresholds_from"].startswith("cross-source") and "forum:spam" in card["thresholds_from"]
    for name in ("forum:spam", "sms:spam", "macro"):
        rates = cross["rates"][name]
        for key in ("spam_published", "spam_held", "ham_held", "ham_marked_spam", "roc_auc", "recall_at_fpr_1pct"):
            assert 0.0 <= rates[key] <= 1.0, (name, key)
    t = card["thresholds"]
    assert 0.02 <= t["approve_below"] <= t["spam_above"] <= 0.98
    assert cross["thresholds"]["approve_below"] <= cross["thresholds"]["spam_above"]  # on decision values


def test_one_source_keeps_the_in_source_split() -> None:
    """The seed set alone cannot be held out: thresholds come from the 80/20 split, and the card says so."""
    _, card = train_model([])
    assert "cross_source" not in card and card["thresholds_from"].startswith("in-source")


def test_cross_source_thresholds_weigh_each_source_alike() -> None:
    """spam_above keeps the average ham marked spam within 0.5 %; approve_below minimises the average mistakes."""
    rng = np.random.default_rng(0)

    easy = (np.r_[np.zeros(2000), np.ones(200)], np.r_[rng.normal(-2, 0.5, 2000), rng.normal(2, 0.5, 200)])
    hard = (np.r_[np.zeros(200), np.ones(200)], np.r_[rng.normal(-0.5, 0.5, 200), rng.normal(0.5, 0.5, 200)])
    slices = {"easy": easy, "hard": hard}
    t = cross_source_thresholds(slices)
    marked = np.mean([np.mean(d[y == 0] > t["spam_above"]) for y, d in slices.values()])
    assert marked <= 0.005 and t["approve_below"] <= t["spam_above"]

    def mistakes(at: float) -> float:
        """Average of spam published and ham not published at a threshold."""
        return float(np.mean([np.mean(d[y == 1] < at) + np.mean(d[y == 0] >= at) for y, d in slices.values()]))
    assert all(mistakes(t["approve_below"]) <= mistakes(at) + 1e-12 for at in np.linspace(-3, t["spam_above"], 61))
    rates = decision_rates(hard[0], hard[1], t["approve_below"], t["spam_above"])
    assert sum(rates[k] for k in ("spam_published", "spam_held")) <= 1.0


def test_eligible_sources_need_both_classes_and_leave_out_the_seed(two_sources: tuple[list[Path], Any]) -> None:
    """Only real sources with 20 spam and 20 ham rows are held out; the seed set always trains."""
    from training.datasets import load_sources
    from training.train import _collect

    paths, _ = two_sources
    heads = _collect(load_sources(paths) + load_sources([]))
    assert eligible_sources(heads["spam"]) == ["forum:spam", "sms:spam"]


def test_list_report_and_gate_use_the_held_out_sources(two_sources: tuple[list[Path], Any], tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """list shows the held-out figures, report.md tabulates them, the gate compares them when both cards have them."""
    paths, (fitted, card) = two_sources
    model_dir = tmp_path / "models"
    monkeypatch.setenv("MODERATION_MODEL_DIR", str(model_dir))
    monkeypatch.setenv("MODERATION_DATA_DIR", str(tmp_path / "var"))
    first = save_model(fitted, card, model_dir, activate=True)
    result = CliRunner().invoke(model, ["train", "--data", str(paths[0]), "--data", str(paths[1]), "--no-activate"])
    assert result.exit_code == 0, result.output
    assert "from cross-source: leave one source out" in result.output and "average:" in result.output
    listed = json.loads(CliRunner().invoke(model, ["list", "--json"]).stdout)
    assert all(row["cross_source"]["spam_published"] >= 0 for row in listed)
    assert "held-out sources:" in CliRunner().invoke(model, ["list"]).output
    second = next(row["version"] for row in listed if row["version"] != first)
    assert "Sources held out whole" in (model_dir / second / "report.md").read_text(encoding="utf-8")
    gate = compare(model_dir, second, [], 0.01)
    assert gate.basis.startswith("model cards (sources held out whole") and gate.candidate == gate.active
