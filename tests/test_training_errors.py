"""Tests for the hardest-errors report: per-fold thresholds, the chosen rows, categories and safe Markdown."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

import training.crossval as crossval
from training.cli import model
from training.error_analysis import escape_cell, fn_categories, fp_categories, hardest_errors, markdown_section
from training.evaluate import CVResult, EvalData
from training.obfuscation import obfuscation_check

HOSTILE = (
    "a|b `code` <script>alert(1)</script> &amp; [click](javascript:alert(1))\n| --- | --- |\r\n"
    "<img src=x onerror=alert(1)>\x1b[31m red \u202eevil\\"
)
# Special rows: (label, fold, score, text).  Fold 0 has 200 ham (2 may be false positives), fold 1 has 100 (1 may).
SPECIAL = [
    (0, 0, 2.0, "judi online makin marak di kampung kami"),  # A: FP, gambling
    (0, 0, 1.5, "toko AERO88 buka cabang baru, bukan judi"),  # B: FP, gambling + brand
    (0, 0, 0.8, "berita biasa tentang jembatan baru"),  # C: 3rd-highest ham of fold 0 = its threshold
    (0, 1, 0.5, HOSTILE),  # D: FP in fold 1 though below C: thresholds are per fold
    (0, 1, 0.3, "komentar biasa soal cuaca hari ini"),  # E: 2nd-highest ham of fold 1 = its threshold
    (1, 0, -2.0, "main di AERO88 pasti maxwin hari ini juga"),  # S1: FN, brand
    (1, 0, 0.5, "kunjungi www.example.com sekarang juga ya kawan"),  # S2: FN, url
    (1, 0, 5.0, "slot gacor maxwin hari ini"),  # S3: caught
    (1, 0, 0.79, "promo gacor hari ini bos"),  # S4: FN just below the threshold, short
    (1, 1, 0.1, "hubungi 081234567890 sekarang juga untuk info lengkap"),  # S5: FN, phone
    (1, 1, -1.0, "mantap bosku"),  # S6: FN, short
    (1, 1, 0.2, "ini adalah komentar yang panjang sekali tanpa apa apa"),  # S7: FN, none
    (1, 1, 0.3, "spam tepat di ambang batas hari ini ya"),  # S8: FN, ties the threshold ham E
]


def _synthetic() -> tuple[EvalData, np.ndarray, np.ndarray]:
    """EvalData with hand-made scores and folds: the special rows first, then low-scoring filler ham."""
    rows = list(SPECIAL)
    rows += [(0, 0, float(s), f"komentar pengisi nomor {i}") for i, s in enumerate(np.linspace(-3, -1, 197))]
    rows += [(0, 1, float(s), f"komentar pengisi kedua {i}") for i, s in enumerate(np.linspace(-3, -2, 98))]
    data = EvalData(texts=[r[3] for r in rows], labels=[r[0] for r in rows],
                    sources=["src_a" if i % 2 else "src_b" for i in range(len(rows))],
                    langs=["id"] * len(rows), groups=[f"group:{i}" for i in range(len(rows))])  # fmt: skip
    return data, np.array([r[2] for r in rows]), np.array([r[1] for r in rows], dtype=np.int8)


def _report(n: int = 15) -> dict[str, Any]:
    """The synthetic data's report as the cross-validation result carries it."""
    data, scores, fold = _synthetic()
    return {"recipe": "ours (lr)", **hardest_errors(data, scores, fold, n).to_dict()}


def test_thresholds_are_per_fold_at_one_percent_of_that_folds_ham() -> None:
    """Fold 0 (200 ham) lets 2 ham through, fold 1 (100 ham) lets 1: thresholds sit just above C and E."""
    report = _report()
    assert report["thresholds"] == {"0": float(np.nextafter(0.8, np.inf)), "1": float(np.nextafter(0.3, np.inf))}
    assert (report["n_ham"], report["n_spam"], report["n_fp"], report["n_fn"]) == (300, 8, 3, 7)


def test_false_positives_are_the_flagged_ham_by_score() -> None:
    """A, B then D: D (0.5) is flagged in fold 1 while C (0.8) is not in fold 0; rows carry fold, margin, text."""
    fps = _report()["false_positives"]
    assert [e["row"] for e in fps] == [0, 1, 3]
    assert [e["fold"] for e in fps] == [0, 0, 1]
    assert fps[2]["margin"] == pytest.approx(0.2) and all(e["margin"] > 0 for e in fps)
    assert fps[0]["text"] == SPECIAL[0][3] and fps[0]["group"] == "group:0" and fps[0]["source"] == "src_b"


def test_false_negatives_are_the_missed_spam_lowest_first() -> None:
    """Missed spam in rising score; the caught S3 is absent and S8, tying its threshold ham, counts as missed."""
    fns = _report()["false_negatives"]
    assert [e["row"] for e in fns] == [5, 10, 9, 11, 12, 6, 8]
    assert all(e["margin"] < 0 for e in fns) and fns[-1]["margin"] == pytest.approx(-0.01)
    assert [e["row"] for e in _report(n=3)["false_negatives"]] == [5, 10, 9]


def test_categories_and_tallies() -> None:
    """Each error gets its cheap categories; the tallies count every error (a row may count twice)."""
    report = _report()
    assert [e["categories"] for e in report["false_positives"]] == [["gambling"], ["gambling", "brand"], ["other"]]
    assert [e["categories"] for e in report["false_negatives"]] == [
        ["brand"], ["short"], ["phone"], ["none"], ["none"], ["url"], ["short"]
    ]  # fmt: skip
    assert report["fp_tally"] == {"gambling": 2, "brand": 1, "other": 1}
    assert report["fn_tally"] == {"brand": 1, "url": 1, "phone": 1, "short": 2, "none": 2}


def test_category_functions_read_normalised_text() -> None:
    """Fancy letters and spelled-out gambling words are seen through normalisation."""
    assert fn_categories("𝐀𝐄𝐑𝐎𝟴𝟴 mantap") == ["brand", "short"]
    assert fp_categories("s.l.o.t gacooor itu haram kata ustadz") == ["gambling"]
    assert fp_categories("I bet the bridge opens next year, good news") == ["other"]


def test_report_counts_agree_with_the_obfuscation_check() -> None:
    """On random scores the false-positive and caught counts match obfuscation_check's clean FPR and recall."""
    rng = np.random.default_rng(0)
    y = (rng.random(2000) < 0.3).astype(int)
    scores, fold = rng.normal(size=2000) + y, rng.integers(0, 5, size=2000)
    data = EvalData(texts=["x"] * 2000, labels=y.tolist(), sources=["s"] * 2000, groups=["g"] * 2000)
    report = hardest_errors(data, scores, fold, n=1)
    check = obfuscation_check(y, scores, scores, fold)
    assert report.n_fp / report.n_ham == pytest.approx(check["clean_fpr"], abs=1e-4)
    assert 1 - report.n_fn / report.n_spam == pytest.approx(check["clean_recall"], abs=1e-4)


def test_escape_cell_neutralises_hostile_text() -> None:
    """Pipes, backticks, brackets and backslashes are escaped, HTML becomes entities, controls become spaces."""
    cell = escape_cell(HOSTILE)
    assert "\n" not in cell and "\r" not in cell and "\x1b" not in cell and "\u202e" not in cell
    assert "<" not in cell and ">" not in cell and "&amp;amp;" in cell
    assert "|" not in cell.replace("\\|", "") and "`" not in cell.replace("\\`", "")
    assert cell.endswith("evil\\\\")
    assert len(escape_cell("word " * 100, 160)) == 160


def test_markdown_tables_survive_a_hostile_comment() -> None:
    """Rendered as GFM, each table keeps its rows and 8 cells, and the comment injects no HTML or link."""
    markdown_it = pytest.importorskip("markdown_it")
    section = "\n".join(markdown_section(_report()))
    assert "| 3 | 0.5000 | +0.2000 | 1 | src_a | group:3 | other | a\\|b \\`code\\` &lt;script&gt;" in section
    html = markdown_it.MarkdownIt("commonmark").enable("table").render(section)
    assert "<script" not in html and "<img" not in html and "<a " not in html and "<code>" not in html
    tables = html.split("<table>")[1:]
    assert [t.count("<tr>") for t in tables] == [4, 8]
    assert all(row.count("<td") == 8 for t in tables for row in t.split("<tr>")[2:])


def test_run_crossval_reports_the_shipped_recipe(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """run_crossval adds JSON-able hardest errors of "ours" and to_markdown renders them (no training)."""
    data, scores, fold = _synthetic()
    clean = {"yardstick char-svm": -scores, "ours": scores, "previous (in-source recipe)": -scores}
    fake = CVResult(clean, dict(clean), fold, dict.fromkeys(clean, 0.0))
    monkeypatch.setattr(crossval, "load_grouped_spam", lambda root: data)
    monkeypatch.setattr(crossval, "grouped_cv", lambda *args, **kwargs: fake)
    out = json.loads(json.dumps(crossval.run_crossval(tmp_path, errors=2, cross_source=False)))
    assert out["hardest_errors"]["recipe"] == "ours"
    assert [e["row"] for e in out["hardest_errors"]["false_positives"]] == [0, 1]
    assert "## Hardest errors of ours" in crossval.to_markdown(out)
    assert out["in_source_verdict"]["beats_every_slice"]  # ours ranks every row better than the fake yardstick
    assert "hardest_errors" not in crossval.run_crossval(tmp_path, errors=0, cross_source=False)


def test_errors_option_reaches_run_crossval(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """--errors N is passed on by `moderation model crossval` and by `python -m training.crossval`."""
    seen: list[tuple[Any, int]] = []

    def fake(data_dir: Any, names: Any = None, errors: int = 15, **kwargs: Any) -> dict[str, Any]:
        seen.append((names, errors))
        return {"grouped": {}, "grouped_rows": 0, "grouped_groups": 0, "seconds": 0.0}

    monkeypatch.setattr(crossval, "run_crossval", fake)
    result = CliRunner().invoke(model, ["crossval", "--data", str(tmp_path), "--errors", "3"])
    assert result.exit_code == 0, result.output
    crossval.main([str(tmp_path), "--errors", "4", "--recipe", "ours"])
    crossval.main([str(tmp_path)])
    assert seen == [(None, 3), (["ours"], 4), (None, 15)]
    assert CliRunner().invoke(model, ["crossval", "--data", str(tmp_path), "--errors", "-1"]).exit_code != 0
