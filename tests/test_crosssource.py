"""Tests for the cross-source evaluation: slices held out whole, the verdict against the yardstick, the report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.support import write_shared_csv
from training.crosssource import MIN_HAM_FOR_FINE_FPR, load_cross_source, run_cross_source, verdict
from training.crossval import to_markdown


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two default spam sources, an abuse source, and an evaluation-only set written in another style."""
    root = tmp_path_factory.mktemp("shared")
    brands = ["AERO88", "𝐆𝐀𝐑𝐔𝐃𝐀𝟏𝟑𝟖", "DORA77", "ALEXIS17", "MEGABET99", "PLUTO88"]
    judol = [(f"main di {b} pasti maxwin hari ke {i}, wd lancar", "spam") for b in brands for i in range(5)]
    judol += [(f"berita bagus kanal {c} komentar nomor {i}, semoga sehat", "ham") for c in range(6) for i in range(5)]
    write_shared_csv(root / "judol_youtube_diashitenas" / "data.csv", judol)
    sms = [(f"Selamat! Anda menang undian {i}, hubungi 0812345678{i}", "spam") for i in range(25)]
    sms += [(f"pesan biasa dari ibu nomor {i}, pulang jam berapa?", "ham") for i in range(25)]
    write_shared_csv(root / "sms_spam_id" / "data.csv", sms)
    abuse = [(f"dasar goblok kau {i}", "abusive") for i in range(10)]
    abuse += [(f"setuju pak {i}", "clean") for i in range(10)]
    write_shared_csv(root / "id_abusive_news_comments" / "data.csv", abuse)
    held = [(f"gas main di 𝐃𝐎𝐑𝐀𝟕𝟕 {i} maxwin", "spam") for i in range(12)]
    held += [(f"videonya bagus bang {i} semoga sukses", "ham") for i in range(30)]
    write_shared_csv(root / "judol_gamblingdetection_eval" / "data.csv", held)
    return root


def test_slices_hold_each_source_out_whole(data_dir: Path) -> None:
    """The evaluation-only set is scored by models trained on every source; each source is held out from its own."""
    data = load_cross_source(data_dir)
    by_name = {s.name: s for s in data.slices}
    assert set(by_name) == {"judol_gamblingdetection_eval", "judol_youtube_diashitenas", "sms_spam_id"}
    sources = np.asarray(data.heads["spam"].sources)
    assert by_name["judol_gamblingdetection_eval"].train.all()  # never trained on, so nothing to hold out
    assert "judol_gamblingdetection_eval" not in set(sources)
    for name in ("judol_youtube_diashitenas", "sms_spam_id"):
        piece = by_name[name]
        assert not (sources[piece.train] == name).any() and (sources[~piece.train] == name).all()
        assert {data.pooled.sources[i] for i in piece.test} == {name}
        assert any(s.startswith("seed") for s in sources[piece.train])  # the seed set always trains
    eval_rows = by_name["judol_gamblingdetection_eval"].test
    assert {data.pooled.sources[i] for i in eval_rows} == {"judol_gamblingdetection_eval"} and len(eval_rows) == 42


def _metrics(n: int, spam: int, auc: float, r1: float, r01: float) -> dict[str, float]:
    """A slice's metrics as the report keeps them."""
    return {"n": n, "n_positive": spam, "roc_auc": auc, "recall_at_fpr_1pct": r1, "recall_at_fpr_0_1pct": r01}


def test_verdict_needs_every_slice_and_ignores_fine_fpr_on_small_slices() -> None:
    """A recipe beats the yardstick only when no compared metric is lower anywhere; 0.1 % FPR needs enough ham."""
    big, small = MIN_HAM_FOR_FINE_FPR + 500, 600
    yard = {"big": _metrics(big, 500, 0.99, 0.90, 0.30), "small": _metrics(small, 100, 0.95, 0.50, 0.40)}
    ours = {"big": _metrics(big, 500, 0.995, 0.92, 0.60), "small": _metrics(small, 100, 0.96, 0.60, 0.10)}
    found = verdict(ours, yard)
    assert found["beats_every_slice"]  # the small slice's 0.1 % figure (no ham allowed at all) does not count
    assert "recall_at_fpr_0_1pct" not in found["slices"]["small"]["margins"]
    assert found["worst"]["recall_at_fpr_1pct"] == pytest.approx(0.02)
    ours["big"]["roc_auc"] = 0.9899
    lost = verdict(ours, yard)
    assert not lost["beats_every_slice"] and not lost["slices"]["big"]["beats"] and lost["slices"]["small"]["beats"]
    assert not verdict(yard, yard)["beats_every_slice"]  # a tie everywhere is not a win


def test_report_compares_every_recipe_on_every_slice(data_dir: Path) -> None:
    """One run: the yardstick, ours (with its default decisions) and the ablation on every slice, as Markdown."""
    results = run_cross_source(data_dir, ablation=True)
    slices = {s["name"] for s in results["slices"]}
    for recipe in ("yardstick", "ours", "ours, thresholds from the in-source split", "previous recipe"):
        assert set(results["table"][recipe]) == slices
    ours = results["table"]["ours"]["judol_gamblingdetection_eval"]
    rates = [ours[k] for k in ("spam_published", "spam_held", "ham_held", "ham_marked_spam")]
    assert all(0.0 <= r <= 1.0 for r in rates) and ours["roc_auc"] > 0.5
    assert "spam_published" not in results["table"]["yardstick"]["sms_spam_id"]  # decisions are ours alone
    assert set(results["verdicts"]) == {"ours", "ours, thresholds from the in-source split", "previous recipe"}
    assert "no style copies" in results["ablation"] and set(results["ablation"]["ours"]) == slices
    markdown = to_markdown({"cross_source": results, "seconds": 1.0})
    assert "## Cross-source slices" in markdown and "### judol_gamblingdetection_eval" in markdown
    assert "## Ablation on the cross-source slices" in markdown and "| no lexicon |" in markdown
