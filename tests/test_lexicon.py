"""The abusive-word lexicon matcher and the slang/typo word map."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from moderation.model.estimator import DEFAULT_LEXICON, DEFAULT_NOT_BRANDS, LEGACY_PARAMS, FeatureParams, build_features
from moderation.reading.features import CommentFeatures
from moderation.reading.lexicon import Lexicon, apply_word_map, load_lexicon, load_word_map, load_words, mask_brands
from moderation.reading.signals import DISGUISED_BRAND
from moderation.reading.text import normalize
from training.datasets import find_word_map


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    """The shipped lexicon's matcher."""
    return Lexicon(load_lexicon(DEFAULT_LEXICON))


def hits(lexicon: Lexicon, text: str) -> list[float]:
    """The lexicon columns of one raw text."""
    return lexicon.row(normalize(text))


def test_lexicon_words_are_found_however_they_are_typed(lexicon: Lexicon) -> None:
    """Fancy letters, repeats, look-alikes and punctuation around a word still count."""
    assert {"bangsat", "goblok", "gooblook", "kadrun"} <= lexicon.spellings
    assert hits(lexicon, "Dasar 𝐁𝐀𝐍𝐆𝐒𝐀𝐓 kau") == [1.0, 1 / 3]
    assert hits(lexicon, "goblooook, tolol, bangsat!") == [1.0, 1.0]
    assert hits(lexicon, "Sampah di pasar belum diangkut") == [0.0, 0.0]


@pytest.mark.parametrize("text", ["tol*l!!", "KPI b*ngs*t", "dasar gblk", "kntl", "kedunguannya", "goblokmu",
                                  "dibegoin terus", "bodohnya", "kebodohan mereka", "setannya"])
def test_masked_vowelless_and_affixed_insults_count(lexicon: Lexicon, text: str) -> None:
    """Insults written with '*', without vowels, or inside Indonesian affixes are found."""
    assert hits(lexicon, text)[0] == 1.0


@pytest.mark.parametrize("text", ["dng teman", "pembangunan jalan tol", "kebanyakan orang", "***", "santai", "stn",
                                  "sampahnya dibuang", "asumsi saya", "pantai indah", "penyetelan mesin"])
def test_everyday_words_do_not_count(lexicon: Lexicon, text: str) -> None:
    """Abbreviations, words that contain an insult's letters and a lone mask are not insults."""
    assert hits(lexicon, text) == [0.0, 0.0]


def test_matcher_cache_is_bounded(lexicon: Lexicon, monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-word cache is cleared when full, and verdicts stay the same after."""
    monkeypatch.setattr("moderation.reading.lexicon.CACHE_SIZE", 3)
    fresh = Lexicon(lexicon.words)
    for word in ("kntlx", "abcd", "efgh", "ijkl", "gblk"):
        fresh.is_word(word)
    fresh.row("satu dua tiga empat lima gblk")
    assert len(fresh._words_seen) <= 3 and len(fresh._tokens) <= 3
    assert fresh.is_word("gblk") and not fresh.is_word("abcd") and fresh.row("gblk")[0] == 1.0


def test_word_map_reads_single_words_only(tmp_path: Path) -> None:
    """Fragments with spaces or symbols are skipped; keys are normalised like comment text."""
    path = tmp_path / "map.csv"
    path.write_text("word,normalized\nyg,yang\nGK,tidak\ntol l,tolol\ngara¬≤,gara\nbocorrrrr,bocor\nsama,sama\n",
                    encoding="utf-8")  # fmt: skip
    mapping = dict(load_word_map(path))
    assert mapping == {"yg": "yang", "gk": "tidak", "bocorr": "bocor"}
    assert apply_word_map(normalize("Yg bocorrrrr, GK jelas!"), mapping) == "yang bocor, tidak jelas!"


def test_features_store_the_word_map_and_apply_it(tmp_path: Path) -> None:
    """A model trained with a word map keeps it; the lexicon reads mapped words, the n-grams only if map_ngrams."""
    path = tmp_path / "map.csv"
    path.write_text("word,normalized\ngblg,goblog\nyg,yang\n", encoding="utf-8")
    for map_ngrams in (False, True):
        step: CommentFeatures = build_features(FeatureParams(word_map=str(path), min_df=1, map_ngrams=map_ngrams,
                                                             char_analyzer="char_wb", word=True))  # fmt: skip
        matrix = step.fit_transform(["yg gblg", "yang baik"])
        names = list(step.get_feature_names_out())
        assert step.word_map == (("gblg", "goblog"), ("yg", "yang"))
        assert ("yg" in names) is not map_ngrams and "yang" in names
        assert matrix[0, names.index("lexicon:abusive")] > 0


def test_training_finds_the_manifest_word_map_in_a_data_folder(tmp_path: Path) -> None:
    """A data folder holding the manifest's word map gives its path; a folder without it gives none."""
    assert find_word_map([tmp_path]) is None
    target = tmp_path / "id_abusive_news_comments" / "acronyms_typos.csv"
    target.parent.mkdir()
    target.write_text("word,normalized\nyg,yang\n", encoding="utf-8")
    assert find_word_map([tmp_path / "missing.csv", tmp_path]) == str(target)


@pytest.mark.parametrize(("text", "expected"), [
    ("Main di ALEXIS17 gacor", "main di xbrandx gacor"),
    ("𝐀𝐄𝐑𝐎𝟴𝟴 maxwin, garuda138!", "xbrandx maxwin, xbrandx!"),
    ("konser JKT48 dan Densus88", "konser jkt48 dan densus88"),
    ("pemilu2024 damai, iphone15 mahal", "pemilu2024 damai, iphone15 mahal"),
    ("skor 2-1, jam 10", "skor 2-1, jam 10"),
])  # fmt: skip
def test_brand_names_are_masked_but_years_and_listed_names_are_not(text: str, expected: str) -> None:
    """Letter+digit brands read as xbrandx; a year after letters and the not-brands list keep their name."""
    keep = frozenset(load_words(DEFAULT_NOT_BRANDS))
    assert mask_brands(normalize(text), keep) == expected


def test_model_text_masks_brands_while_signals_still_see_them() -> None:
    """The n-grams read xbrandx for any campaign name; the brand-token signal still fires on the real text."""
    step: CommentFeatures = build_features(replace(LEGACY_PARAMS, min_df=1))  # the recipe that masks brands
    matrix = step.fit_transform(["main di AERO88 gacor", "main di PULAU777 gacor", "berita hari ini"])
    names = list(step.get_feature_names_out())
    assert "di xbrandx" in names and not any("aero88" in n or "pulau777" in n for n in names)
    assert matrix[0, names.index("signal:brand_token")] > 0
    unseen = step.transform(["main di MEGABET99 gacor"])
    assert unseen[0, names.index("di xbrandx")] > 0


def test_models_saved_before_brand_masking_read_brands_as_they_are() -> None:
    """An older pickle has no ``brands`` setting and keeps reading brand names unmasked."""
    step: CommentFeatures = build_features(FeatureParams(min_df=1))
    state = step.__getstate__()
    for name in ("brands", "not_brands"):
        del state[name]
    old = CommentFeatures.__new__(CommentFeatures)
    old.__setstate__(state)
    assert old.brands is False and old._normalize(["AERO88"])[1] == ["aero88"]


def test_brand_signal_follows_the_mask() -> None:
    """signal:brand_token fires for a masked brand, not for jkt48 or a year that the mask keeps."""
    step: CommentFeatures = build_features(replace(LEGACY_PARAMS, min_df=1))
    matrix = step.fit_transform(["main di AERO88", "konser JKT48", "pemilu2024 damai", "iphone15 baru"])
    column = list(step.get_feature_names_out()).index("signal:brand_token")
    assert [matrix[i, column] > 0 for i in range(4)] == [True, False, False, False]


@pytest.mark.parametrize(("text", "disguised"), [
    ("main di 𝐀𝐄𝐑𝐎𝟖𝟖 gacor", True),           # math letters
    ("main di A E R O 8 8 gacor", True),         # spaced out
    ("main di аеrо88 gacor", True),              # Cyrillic look-alikes
    ("wd lancar di ALEXIS⭐17⭐", True),          # decorated
    ("main di AERO88 gacor", False),             # written plainly: a brand-like token, not a disguise
    ("riajuu5046 analisisnya masuk akal", False),  # a reader's handle
    ("konser 𝐉𝐊𝐓𝟒𝟖 seru", False),                # a listed not-brand, even in fancy letters
    ("𝐩𝐞𝐦𝐢𝐥𝐮𝟐𝟎𝟐𝟒 damai", False),               # a year after letters
])  # fmt: skip
def test_disguised_brand_signal_fires_only_for_a_brand_written_in_disguise(text: str, disguised: bool) -> None:
    """signal:disguised_brand: a brand-like name that the raw text does not spell plainly."""
    step: CommentFeatures = build_features(FeatureParams(min_df=1))
    matrix = step.fit_transform([text, "berita hari ini"])
    column = list(step.get_feature_names_out()).index(DISGUISED_BRAND)
    assert bool(matrix[0, column] > 0) == disguised
