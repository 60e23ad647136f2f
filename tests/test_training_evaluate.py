"""Tests for the evaluation harness: grouping, de-duplication, obfuscation, metrics and the grouped CV run."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import numpy as np
import pytest

from moderation.reading.text import normalize
from training.crossval import _style_cell, to_markdown
from training.evaluate import (
    EvalData,
    SklearnRecipe,
    campaign_of,
    grouped_cv,
    load_grouped_spam,
    summarise,
    yardstick_svm,
)
from training.metrics import curve_metrics
from training.obfuscation import STYLES, WHOLE_COMMENT_STYLES, check_by_style, obfuscate, obfuscate_as

JUDOL_COLUMNS = ["text", "label", "lang", "source", "author", "video_id", "channel"]


def _write(path: Path, columns: list[str], rows: list[dict[str, str]]) -> None:
    """Write a shared-data style CSV."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture()
def data_dir(tmp_path: Path) -> Path:
    """A miniature shared/data: a judol set with channels and campaigns, an SMS set, and the overlapping set."""
    rows = []
    for c in range(6):
        for i in range(8):
            rows.append({"text": f"berita bagus kanal {c} komentar nomor {i} semoga sehat", "label": "ham",
                         "lang": "id", "channel": f"ch{c}", "video_id": f"v{c}"})  # fmt: skip
    brands = ["AERO88", "𝐆𝐀𝐑𝐔𝐃𝐀𝟏𝟑𝟖", "DORA77", "ALEXIS17", "MEGABET99", "PLUTO88"]
    for b, brand in enumerate(brands):
        for i in range(8):
            rows.append({"text": f"main di {brand} pasti maxwin hari ke {i}", "label": "spam", "lang": "id",
                         "channel": f"ch{(b + i) % 6}", "video_id": f"v{(b + i) % 6}"})  # fmt: skip
    rows.append(dict(rows[0]))  # an exact copy: must not appear twice
    _write(tmp_path / "judol_youtube_diashitenas" / "data.csv", JUDOL_COLUMNS, rows)
    sms = [{"text": f"pesan biasa {i}", "label": "ham", "lang": "id"} for i in range(10)]
    sms += [{"text": f"selamat anda menang undian {i}", "label": "spam", "lang": "id"} for i in range(10)]
    sms.append({"text": "main di AERO88 pasti maxwin hari ke 0", "label": "spam", "lang": "id"})
    _write(tmp_path / "sms_spam_id" / "data.csv", ["text", "label", "lang"], sms)
    _write(tmp_path / "judol_comments_akbaralfaidah" / "data.csv", ["text", "label"],
           [{"text": "pesan biasa 3", "label": "ham"}])  # fmt: skip
    return tmp_path


def test_campaign_is_the_letter_stem_of_a_brand_token() -> None:
    """Brand-like letter+digit tokens name a campaign by their letters; ordinary text has none."""
    assert campaign_of(normalize("Gas di 𝐆𝐀𝐑𝐔𝐃𝐀𝟏𝟑𝟖 sekarang")) == "garuda"
    assert campaign_of(normalize("GA RU DA SATU TIGA DELAPAN")) == "garuda"
    assert campaign_of("aero88 dan aero99") == "aero"
    assert campaign_of("tahun 2024 pemilu") is None


def test_grouped_loader_dedupes_groups_and_drops_overlap(data_dir: Path) -> None:
    """Copies are dropped, other sets lose texts of the overlapping set, spam groups by campaign, ham by channel."""
    data = load_grouped_spam(data_dir)
    norms = [normalize(t) for t in data.texts]
    assert len(norms) == len(set(norms))
    assert "pesan biasa 3" not in data.texts
    assert "main di AERO88 pasti maxwin hari ke 0" in data.texts  # kept once, from the judol set
    groups = dict(zip(data.texts, data.groups, strict=True))
    assert groups["main di 𝐆𝐀𝐑𝐔𝐃𝐀𝟏𝟑𝟖 pasti maxwin hari ke 3"] == "campaign:garuda"
    assert groups["berita bagus kanal 2 komentar nomor 5 semoga sehat"] == "channel:ch2"
    assert groups["pesan biasa 4"].startswith("row:sms_spam_id")


def test_grouped_cv_never_splits_a_group(data_dir: Path) -> None:
    """Every campaign and channel lands in exactly one test fold, and every recipe is scored on every row."""
    data = load_grouped_spam(data_dir)
    makers = {"svm": lambda: SklearnRecipe(yardstick_svm)}
    result = grouped_cv(data, makers, folds=3, seed=1)
    folds_of: dict[str, set[int]] = {}
    for group, fold in zip(data.groups, result.fold.tolist(), strict=True):
        folds_of.setdefault(group, set()).add(fold)
    assert all(len(f) == 1 for f in folds_of.values())
    assert set(result.fold.tolist()) == {0, 1, 2}
    summary = summarise(data, result)["svm"]
    assert summary["all"]["n"] == len(data.texts)
    assert set(summary["by_source"]) == {"judol_youtube_diashitenas", "sms_spam_id"}
    assert 0 <= summary["obfuscation"]["obfuscated_recall"] <= 1
    markdown = to_markdown({"grouped": {"svm": summary}, "grouped_rows": len(data.texts),
                            "grouped_groups": len(folds_of), "seconds": 1.0})  # fmt: skip
    assert "| svm | all |" in markdown and "source sms_spam_id" in markdown
    by_style = summary["obfuscation_by_style"]
    assert set(by_style) <= {*STYLES, *WHOLE_COMMENT_STYLES}
    assert sum(c["n_spam"] + c["n_ham"] for c in by_style.values()) == len(data.texts)
    assert "#### By style" in markdown and f"| {next(iter(by_style))} |" in markdown


def test_style_table_shows_the_change_against_the_same_comments_clean() -> None:
    """A style's cell gives obfuscated recall, its change from the clean recall of those comments, and ham FPR."""
    cell = {"clean_recall": 0.75, "obfuscated_recall": 0.7125, "obfuscated_fpr": 0.0118}
    assert _style_cell(cell) == "0.7125 (-5.0 %) / 1.18 %"
    assert _style_cell({**cell, "clean_recall": 0.0, "obfuscated_recall": 0.0}) == "0.0000 (+0.0 %) / 1.18 %"


def test_check_by_style_uses_the_clean_threshold_of_all_ham() -> None:
    """A style that lifts ham scores shows its own FPR, measured against the threshold of every clean ham."""
    y = np.array([0] * 200 + [1] * 20)
    clean = np.concatenate([np.linspace(0, 1, 200), np.full(20, 2.0)])
    obf = clean.copy()
    styles = ["math bold", "small caps"] * 110
    lifted = np.array([s == "small caps" for s in styles]) & (y == 0)
    obf[lifted] += 5.0  # every small-caps ham now outscores the clean threshold
    by_style = check_by_style(y, clean, obf, np.zeros(len(y), dtype=int), styles)
    assert by_style["small caps"]["obfuscated_fpr"] == 1.0 and by_style["small caps"]["clean_fpr"] < 0.05
    assert by_style["math bold"]["obfuscated_fpr"] == by_style["math bold"]["clean_fpr"] < 0.05
    assert by_style["math bold"]["obfuscated_recall"] == 1.0 and by_style["small caps"]["n_ham"] == 100


def test_obfuscation_changes_the_text_but_not_its_normal_form() -> None:
    """Obfuscated comments look different yet (mostly) normalise back to the same words."""
    rng = random.Random(0)
    texts = ["Main di Garuda sekarang, pasti menang!", "Semoga pembangunan jembatan cepat selesai."] * 20
    same = 0
    for text in texts:
        rewritten = obfuscate(text, rng)
        assert rewritten != text
        same += normalize(rewritten) == normalize(text)
    assert same / len(texts) >= 0.8


def test_the_check_also_writes_whole_comments_as_other_platforms_deliver_them() -> None:
    """One style of the check is the whole comment lower-cased without punctuation (teman-teman -> temanteman)."""
    rng = random.Random(3)
    seen = {obfuscate_as("Teman-teman, AYO main di AERO88!!", rng) for _ in range(200)}
    assert ("temanteman ayo main di aero88", "lower-case, no punctuation") in seen


@pytest.mark.parametrize("style", list(STYLES))
def test_every_obfuscation_style_normalises_back(style: str) -> None:
    """Each way the check re-writes a word (math letters ... emoji between letters) reads as the word again."""
    for word in ("gacor88", "Jembatan", "slot", "Fix"):
        rewritten = STYLES[style](word)
        assert rewritten != word and normalize(rewritten) == normalize(word)


def test_curve_metrics_on_known_scores() -> None:
    """Perfect ranking gives AUC 1 and full recall at any FPR; the 0.1 % figure needs a clean top."""
    y = np.array([0] * 1000 + [1] * 10)
    p = np.concatenate([np.linspace(0, 0.5, 1000), np.linspace(0.6, 1, 10)])
    m = curve_metrics(y, p)
    assert m["roc_auc"] == 1.0 and m["best_f1"] == 1.0 and m["recall_at_fpr_0_1pct"] == 1.0
    p[999] = 0.95  # one ham above most spam: 0.1 % FPR allows exactly that one false positive
    m = curve_metrics(y, p)
    assert m["recall_at_fpr_0_1pct"] == 1.0 and m["roc_auc"] < 1.0
    p[998] = 0.97  # two hams above: the budget of one is spent below recall 1
    assert curve_metrics(y, p)["recall_at_fpr_0_1pct"] < 1.0


def test_yardstick_decision_is_a_real_classifier() -> None:
    """The yardstick separates obvious spam from ham (guards against a recipe that scores constants)."""
    data = EvalData(texts=[f"slot gacor maxwin {i}" for i in range(20)] + [f"berita hari ini {i}" for i in range(20)],
                    labels=[1] * 20 + [0] * 20)  # fmt: skip
    recipe = SklearnRecipe(yardstick_svm).fit(data.texts, data.y)
    scores = recipe.decision(["slot gacor hari ini maxwin", "berita hari ini bagus"])
    assert scores[0] > 0 > scores[1]
