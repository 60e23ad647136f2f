"""Tests for the dataset manifest, the loaders and the shipped seed set."""

from __future__ import annotations

import csv
import os
from collections import Counter
from pathlib import Path

import pytest

from tests.support import write_shared_csv
from training.datasets import load_csv, load_eval_sources, load_manifest, load_sources, plan_folder, seed_path

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("MODERATION_SHARED_DATA", REPO.parent / "shared" / "data"))

COMMERCIAL = {
    "judol_youtube_diashitenas",
    "youtube_spam_collection",
    "sms_spam_id",
    "sms_spam_collection_en",
    "id_abusive_news_comments",
}
NONCOMMERCIAL = {
    "judol_comments_akbaralfaidah",
    "blog_comment_spam_datacamp",
    "id_hate_abusive_ibrohim",
    "id_instagram_cyberbullying",
}
EVAL_ONLY = {"judol_gamblingdetection_eval"}


@pytest.fixture()
def tiny_folder(tmp_path: Path) -> Path:
    """A folder laid out like shared/data: two commercial, one non-commercial, one unknown source."""
    root = tmp_path / "data"
    write_shared_csv(
        root / "judol_youtube_diashitenas" / "data.csv",
        [("AERO88 gacor", "spam"), ("mantap videonya", "ham"), ("multi\nline ham", "ham")],
    )
    write_shared_csv(root / "id_abusive_news_comments" / "data.csv", [("goblok", "abusive"), ("setuju", "clean")])
    write_shared_csv(root / "id_hate_abusive_ibrohim" / "data.csv",
                     [("dasar kafir", "hate"), ("selamat pagi", "clean")])
    write_shared_csv(root / "mystery_corpus" / "data.csv", [("whatever", "spam"), ("fine", "ham")])
    write_shared_csv(root / "judol_gamblingdetection_eval" / "data.csv",
                     [("main di aero88", "spam"), ("aamiin", "ham")])
    (root / "README.md").write_text("not a source")
    return root  # fmt: skip


def test_manifest_lists_every_shared_source_with_licence() -> None:
    """Every shared folder and the seed set are in the manifest with a licence and a kind."""
    manifest = load_manifest()
    assert COMMERCIAL | NONCOMMERCIAL | EVAL_ONLY | {"seed"} == set(manifest)
    assert {n for n, s in manifest.items() if s.eval_only} == EVAL_ONLY
    assert {n for n, s in manifest.items() if s.commercial} == COMMERCIAL | {"seed"}
    assert all(s.licence for s in manifest.values())
    assert manifest["id_hate_abusive_ibrohim"].labels["hate"] == "abusive"
    assert manifest["seed"].kind == "mixed" and "own" in manifest["seed"].licence


def test_folder_default_excludes_noncommercial_and_unknown(tiny_folder: Path) -> None:
    """Without opt-in only commercially usable, listed sources are used."""
    used, skipped = plan_folder(tiny_folder, load_manifest())
    assert {info.name for info, _ in used} == {"judol_youtube_diashitenas", "id_abusive_news_comments"}
    assert dict(skipped).keys() == {"id_hate_abusive_ibrohim", "mystery_corpus", "judol_gamblingdetection_eval"}


def test_folder_opt_in_includes_noncommercial(tiny_folder: Path) -> None:
    """--allow-noncommercial adds non-commercial sources but never unlisted ones."""
    used, skipped = plan_folder(tiny_folder, load_manifest(), allow_noncommercial=True)
    assert "id_hate_abusive_ibrohim" in {info.name for info, _ in used}
    assert sorted(name for name, _ in skipped) == ["judol_gamblingdetection_eval", "mystery_corpus"]


def test_evaluation_only_sources_are_never_trained_on(tiny_folder: Path) -> None:
    """An eval_only source is skipped by every training path, even with --allow-noncommercial, yet loads for eval."""
    for allow in (False, True):
        used, skipped = plan_folder(tiny_folder, load_manifest(), allow_noncommercial=allow)
        assert "judol_gamblingdetection_eval" not in {info.name for info, _ in used}
        assert "evaluation only" in dict(skipped)["judol_gamblingdetection_eval"]
        trained = {s.name for s in load_sources([tiny_folder], allow_noncommercial=allow)}
        assert "judol_gamblingdetection_eval" not in trained
        with pytest.raises(PermissionError, match="evaluation only"):
            load_sources([tiny_folder / "judol_gamblingdetection_eval" / "data.csv"], allow_noncommercial=allow)
        assert load_sources([tiny_folder / "judol_gamblingdetection_eval"], allow_noncommercial=allow) == []
    scored = load_sources([tiny_folder / "judol_gamblingdetection_eval" / "data.csv"], evaluation=True)
    assert [s.name for s in scored] == ["judol_gamblingdetection_eval"]  # a promotion gate may score it
    assert "judol_gamblingdetection_eval" in {s.name for s in load_sources([tiny_folder], evaluation=True)}
    (held_out,) = load_eval_sources(tiny_folder)
    assert held_out.name == "judol_gamblingdetection_eval" and held_out.labels == [1, 0]


def test_folder_loader_maps_labels(tiny_folder: Path) -> None:
    """Rows load with spam/abusive as 1 and ham/clean as 0; hate maps to abusive."""
    sources = {s.name: s for s in load_sources([tiny_folder], allow_noncommercial=True)}
    judol = sources["judol_youtube_diashitenas"]
    assert judol.kind == "spam" and judol.labels == [1, 0, 0]
    assert judol.texts[2] == "multi\nline ham"
    assert sources["id_hate_abusive_ibrohim"].labels == [1, 0]
    assert sources["id_abusive_news_comments"].kind == "abuse"
    assert not sources["id_hate_abusive_ibrohim"].commercial


def test_single_dataset_folder_and_file_respect_licence(tiny_folder: Path) -> None:
    """Pointing at one source's folder or data.csv still applies the manifest's licence rule."""
    hate = tiny_folder / "id_hate_abusive_ibrohim"
    assert load_sources([hate]) == []
    with pytest.raises(PermissionError):
        load_sources([hate / "data.csv"])
    assert load_sources([hate / "data.csv"], allow_noncommercial=True)[0].name == "id_hate_abusive_ibrohim"


def test_plain_csv_infers_heads_and_rejects_unknown_labels(tmp_path: Path) -> None:
    """A user CSV with text,label splits into heads by label; an unknown label is an error."""
    good = tmp_path / "mine.csv"
    good.write_text("text,label,author\nbeli slot,spam,x\nhalo,ham,y\nbodoh,abusive,z\n")
    heads = {s.kind: s for s in load_csv(good)}
    assert heads["spam"].labels == [1, 0] and heads["abuse"].labels == [1]
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nhalo,maybe\n")
    with pytest.raises(ValueError, match="maybe"):
        load_csv(bad)
    with pytest.raises(ValueError, match="text"):
        (tmp_path / "nolabel.csv").write_text("content\nhalo\n")
        load_csv(tmp_path / "nolabel.csv")


def test_missing_path_is_an_error(tmp_path: Path) -> None:
    """A training path that does not exist fails loudly instead of training on nothing."""
    with pytest.raises(FileNotFoundError):
        load_sources([tmp_path / "nope"])


def test_seed_set_is_shipped_and_well_formed() -> None:
    """The seed set has 300+ unique rows of both heads with valid labels and languages."""
    with seed_path().open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and list(rows[0]) == ["text", "label", "lang", "kind"]
    assert len(rows) >= 300 and len({r["text"] for r in rows}) == len(rows)
    counts = Counter((r["kind"], r["label"]) for r in rows)
    assert set(counts) == {("spam", "spam"), ("spam", "ham"), ("abuse", "abusive"), ("abuse", "clean")}
    assert min(counts.values()) >= 50
    assert {r["lang"] for r in rows} == {"id", "en"}
    assert sum(1 for s in load_sources([]) for _ in s.texts) == len(rows)


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"shared data not present at {SHARED}")
def test_shared_data_yields_expected_sources() -> None:
    """The real shared folder loads exactly the commercial sources by default, all nine on opt-in, never eval sets."""
    manifest = load_manifest()
    used, skipped = plan_folder(SHARED, manifest)
    assert {info.name for info, _ in used} == COMMERCIAL
    assert {name for name, _ in skipped} == NONCOMMERCIAL | EVAL_ONLY
    assert {s.name for s in load_eval_sources(SHARED)} == EVAL_ONLY
    used_all, _ = plan_folder(SHARED, manifest, allow_noncommercial=True)
    assert {info.name for info, _ in used_all} == COMMERCIAL | NONCOMMERCIAL
    sources = {s.name: s for s in load_sources([SHARED])}
    assert set(sources) == COMMERCIAL
    assert len(sources["judol_youtube_diashitenas"].texts) > 10_000
    assert sources["id_abusive_news_comments"].kind == "abuse"
    assert 0 < sum(sources["sms_spam_id"].labels) < len(sources["sms_spam_id"].labels)
