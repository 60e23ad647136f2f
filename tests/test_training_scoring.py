"""Tests for the scoring fast path (identical to the reference path) and the author signals end to end."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from moderation.decide.pipeline import Item, decide
from moderation.decide.policy import Thresholds
from moderation.decide.rules import CommentInput, Lists
from moderation.model.estimator import ABUSIVE, DEFAULT_LEXICON, SPAM, FeatureParams, ModerationModel, build_features
from moderation.model.registry import save_model
from moderation.model.scoring import Score, load_scorer
from moderation.reading.features import AUTHOR_SIGNAL_NAMES, CommentDoc, CommentFeatures, SparseRows, author_row
from moderation.reading.lexicon import LEXICON_NAMES, load_lexicon
from moderation.reading.signals import SIGNAL_NAMES, signal_row
from moderation.reading.text import normalize
from training.datasets import load_sources, seed_path
from training.train import train_model

BRAND_URLS = ["https://garuda138.vip", "http://dora77.xyz/daftar", "https://aero88.site", "https://pulauwin99.com"]
HAM_NAMES = ["Rina", "Pak Joko", "Dewi Lestari", "Budi Santoso"]
# The same bland texts appear with spam authors and with ham authors: only the author tells them apart.
BLAND = ["mantap infonya", "setuju sekali", "keren banget", "terima kasih min", "wah bagus", "lanjutkan"]


@pytest.fixture(scope="module")
def author_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A registry whose active model learnt that brand-like author URLs mean spam."""
    root = tmp_path_factory.mktemp("author")
    rows = ["text,label,author_name,author_url"]
    for i, text in enumerate(BLAND * 4):
        rows.append(f"{text} {i},spam,{BRAND_URLS[i % 4].split('//')[1].split('.')[0].upper()},{BRAND_URLS[i % 4]}")
        rows.append(f"{text} ya {i},ham,{HAM_NAMES[i % 4]},")
    path = root / "site.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    fitted, card = train_model([path])
    save_model(fitted, card, root / "models", activate=True)
    return root / "models"


def _reference(model: ModerationModel, docs: list[Any], explain_above: float, abusive_above: float) -> list[Score]:
    """Scores by the general path: scipy CSR features, mat-vec, reasons from CSR rows."""
    mats = model.features(docs)
    read = model.model_texts(SPAM, docs) or [None] * len(docs)  # word-level reasons need the text the model read
    spam, abusive = model.probabilities(SPAM, mats[SPAM]), model.probabilities(ABUSIVE, mats[ABUSIVE])
    out = []
    for i in range(len(docs)):
        reasons = model.reasons_for_row(SPAM, mats[SPAM], i, 3, read[i]) if spam[i] >= explain_above else []
        if abusive[i] >= abusive_above:
            reasons += model.reasons_for_row(ABUSIVE, mats[ABUSIVE], i, 3, read[i])
        out.append(Score(float(spam[i]), float(abusive[i]), reasons))
    return out


def _sample() -> list[Any]:
    """Seed texts (plain, and with author fields) plus edge cases: empty, emoji-only, very long."""
    texts = [t for s in load_sources([seed_path()]) for t in s.texts]
    docs: list[Any] = list(texts)
    docs += [CommentDoc(t, "𝐒𝐋𝐎𝐓𝟖𝟖", "https://slot88.xyz", "cs@slot88.xyz") for t in texts[:40]]
    docs += ["", "🔥🔥🔥", "kata " * 400, CommentDoc("ok", "Rina")]
    return docs


def test_fast_path_scores_and_reasons_are_identical(author_model: Path) -> None:
    """ModelScorer's SparseRows path gives bit-identical probabilities and the same reasons, batched or one by one."""
    scorer = load_scorer(author_model)
    docs = _sample()
    expected = _reference(scorer.model, docs, scorer.explain_spam_above, scorer.explain_abusive_above)
    assert isinstance(scorer.model.rows(docs[:2])[SPAM], SparseRows)
    assert scorer.score(docs) == expected
    assert [scorer.score([d])[0] for d in docs[:60]] == expected[:60]
    assert any(s.reasons for s in expected)


def test_author_url_raises_the_spam_score(author_model: Path) -> None:
    """The same text scores higher with a brand-like author URL than without (the signal is in the saved pipeline)."""
    scorer = load_scorer(author_model)
    plain, branded = scorer.score(["mantap infonya kak", CommentDoc("mantap infonya kak", "MEGA99", "https://mega99.win")])
    assert branded.spam > plain.spam + 0.05
    assert scorer.score([CommentDoc("mantap infonya kak")])[0] == plain  # no author fields = a plain text


def test_decide_passes_author_fields_to_the_scorer(author_model: Path) -> None:
    """pipeline.decide (workers and the Akismet API) scores text and author together."""
    scorer = load_scorer(author_model)
    comment = CommentInput("mantap infonya kak", "MEGA99", "cs@mega99.win", "https://mega99.win", "198.51.100.9")
    item = Item("c1", 1, comment, Lists(), Thresholds(0.5, 0.9, 0.8))
    (decision,) = decide([item], scorer)
    expected = scorer.score([CommentDoc("mantap infonya kak", "MEGA99", "https://mega99.win", "cs@mega99.win")])[0]
    assert decision.spam == expected.spam
    assert decision.spam != scorer.score(["mantap infonya kak"])[0].spam


def test_emoji_that_spell_a_word_apart_are_not_decoration() -> None:
    """The emoji signal reads "s🔥e🔥m🔥o🔥g🔥a" like "semoga"; emoji beside or glued to words still count."""
    emoji = SIGNAL_NAMES.index("signal:emoji")

    def signal(raw: str) -> float:
        return signal_row(raw, normalize(raw))[emoji]

    assert signal("s🔥e🔥m🔥o🔥g🔥a cepat selesai") == signal("semoga cepat selesai") == 0.0
    assert signal("semoga 🔥🔥 cepat selesai") == 0.5
    assert signal("main di💚weton88💚 gacor") == 0.5  # a glued decoration is not a spelled-apart word


def test_new_models_leave_the_capitals_ratio_out_and_older_ones_keep_it() -> None:
    """FeatureParams switches the capitals ratio off; a CommentFeatures pickled before the switch still reads it."""
    caps = SIGNAL_NAMES.index("signal:capitals")
    assert signal_row("SEMOGA CEPAT SELESAI", "semoga cepat selesai")[caps] == 1.0
    assert signal_row("SEMOGA CEPAT SELESAI", "semoga cepat selesai", capitals=False)[caps] == 0.0
    assert build_features(FeatureParams()).capitals is False
    state = CommentFeatures().__getstate__()
    del state["capitals"]
    restored = CommentFeatures.__new__(CommentFeatures)
    restored.__setstate__(state)
    assert restored.capitals is True


def test_author_row_signals() -> None:
    """A URL or brand in the name, fancy letters, the name in the text and brand-like URL/e-mail domains."""
    names = dict.fromkeys(AUTHOR_SIGNAL_NAMES, 0.0)
    assert author_row(CommentDoc("apa saja"), "apa saja") == list(names.values())
    row = dict(zip(AUTHOR_SIGNAL_NAMES, author_row(CommentDoc("x", "𝐀𝐄𝐑𝐎𝟖𝟖 aero88.com", "", ""), "x"), strict=True))
    assert row["author:name_link"] == row["author:name_brand"] == row["author:name_fancy"] == 1.0
    row = dict(zip(AUTHOR_SIGNAL_NAMES, author_row(CommentDoc("t", "hans36503", "https://dora77.xyz", "a@toto4d.id"),
                                                   "t"), strict=True))  # fmt: skip
    assert row["author:name_brand"] == 0.0  # YouTube's own handle digits are not a brand
    assert row["author:url"] == row["author:url_brand"] == 1.0 and row["author:email_brand"] == 0.0
    text = normalize("Kunjungi Naga Emas sekarang")
    assert author_row(CommentDoc("Kunjungi Naga Emas sekarang", "Naga Emas"), text)[3] == 1.0


def test_model_saved_before_author_signals_still_loads_and_scores(tmp_path: Path) -> None:
    """A pickled feature step without the ``author`` and ``lexicon`` settings (older models) loads and scores."""
    fitted, card = train_model([])
    step: CommentFeatures = fitted.pipelines[SPAM].named_steps["features"]
    n_cols = len(step.get_feature_names_out())
    for name in ("author", "lexicon", "word_map"):
        del step.__dict__[name]  # what an older pickle holds
    # Drop the author and lexicon columns' weights so the old model has the old width.
    for pipe in fitted.pipelines.values():
        clf = pipe.named_steps["clf"]
        clf.coef_ = clf.coef_[:, : n_cols - len(AUTHOR_SIGNAL_NAMES) - len(LEXICON_NAMES)]
    save_model(fitted, card, tmp_path, activate=True)
    scorer = load_scorer(tmp_path)
    loaded: CommentFeatures = scorer.model.pipelines[SPAM].named_steps["features"]
    assert loaded.author is False and loaded.lexicon == () and loaded.word_map == ()
    plain = scorer.score(["Semoga cepat selesai", "GARUDA138 gacor"])
    assert scorer.score([CommentDoc("Semoga cepat selesai", "SLOT88"), "GARUDA138 gacor"]) == plain
    assert isinstance(pickle.loads(pickle.dumps(scorer.model)), ModerationModel)


def test_trained_model_stores_the_lexicon_and_names_its_columns() -> None:
    """Training reads the lexicon file once and keeps the words in the model (no file read when scoring)."""
    fitted, _ = train_model([])
    step: CommentFeatures = fitted.pipelines[ABUSIVE].named_steps["features"]
    assert step.lexicon == load_lexicon(DEFAULT_LEXICON)
    assert list(step.get_feature_names_out()[-len(LEXICON_NAMES):]) == list(LEXICON_NAMES)
    step.transform(["dasar goblok"])  # builds the matcher
    assert "_lexicon" not in pickle.loads(pickle.dumps(step)).__dict__


def test_sparse_rows_dot_matches_scipy() -> None:
    """SparseRows.dot equals the CSR mat-vec of the same triplets, empty rows included."""
    rows = np.array([0, 0, 2, 0, 2], dtype=np.int64)  # block order: rows restart per block
    cols = np.array([1, 3, 0, 5, 6], dtype=np.int64)
    data = np.array([0.5, 0.25, 1.0, 0.125, 2.0], dtype=np.float32)
    coef = np.linspace(-1, 1, 7)
    fast = SparseRows(3, rows, cols, data)
    dense = np.zeros((3, 7), dtype=np.float32)
    dense[rows, cols] = data
    assert np.array_equal(fast.dot(coef), dense.astype(np.float64) @ coef)
    assert fast.indptr.tolist() == [0, 3, 3, 5] and fast.indices.tolist() == [1, 3, 5, 0, 6]
