"""A site's own columns: the folded head scores a site's comment exactly as the augmented fit did, keeps its pins,
and lets a site's labels move its model further where the public rows disagree."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import scipy.sparse as sp
from sklearn.svm import LinearSVC

from moderation.model.estimator import SPAM, FeatureParams, PinnedLinear
from moderation.reading.features import CommentDoc
from moderation.reading.text import normalize_many
from training.site_columns import fit_with_site_columns
from training.train import HeadData, fit_heads, read_corpus


def _svm() -> LinearSVC:
    """The shipped head's classifier (deterministic)."""
    return LinearSVC(C=0.5, dual=True, max_iter=5000, random_state=0)


def test_the_folded_head_scores_site_rows_as_the_augmented_fit_did() -> None:
    """Folding sums the two halves: a site row scores what [x | x] scored; the width is the shared one."""
    rng = np.random.default_rng(0)
    X = sp.random(60, 8, density=0.5, random_state=1, format="csr")
    y, site = rng.integers(0, 2, 60), np.arange(60) >= 45
    augmented = _svm().fit(sp.hstack([X, sp.diags(site.astype(float)) @ X], format="csr"), y)
    folded = fit_with_site_columns(_svm(), X, y, None, site)
    assert folded.coef_.shape == (1, 8) and folded.n_features_in_ == 8
    assert np.allclose(folded.decision_function(X[site]), augmented.decision_function(sp.hstack([X, X])[site]))
    pinned = fit_with_site_columns(PinnedLinear(_svm(), ((3, 1.5),)), X, y, None, site)
    assert pinned.coef_.shape == (1, 8) and pinned.coef_[0, 3] == 1.5 and pinned.pinned == ((3, 1.5),)


def _data(texts: list[str], labels: list[int], sources: list[str], weights: list[float]) -> HeadData:
    """One spam head's rows as training reads them."""
    return HeadData(texts, normalize_many(texts), np.asarray(labels, np.int8), sources, [CommentDoc(t) for t in texts],
                    np.asarray(weights))  # fmt: skip


def test_a_sites_labels_move_its_model_further_where_the_public_rows_disagree() -> None:
    """Public rows call 'arisan online' talk ham, the site's moderators call its campaign spam: with columns of its
    own the site's model scores the next copy higher than the pooled fit on the same rows does."""
    public = [f"ikut arisan online bareng tetangga minggu {n} seru juga" for n in range(30)]
    public += [f"slot gacor maxwin hari ini daftar {n}" for n in range(30)]
    public += [f"berita banjir di kampung {n} sudah surut" for n in range(30)]
    site = [f"arisan online {n} untung besar tiap minggu, tanya admin" for n in range(6)]
    texts = public + site
    labels = [0] * 30 + [1] * 30 + [0] * 30 + [1] * 6
    sources = ["public"] * 90 + ["decisions:site-1"] * 6
    data = _data(texts, labels, sources, [1.0] * 90 + [5.0] * 6)  # moderators' labels weigh 5, as retraining's
    probe = [CommentDoc("arisan online 99 untung besar tiap minggu, tanya admin")]
    scores = {}
    for columns in (False, True):
        params = replace(FeatureParams(cross_source_thresholds=False), C=0.125, site_columns=columns)
        corpus, layout = read_corpus({SPAM: data}, params)
        model, _ = fit_heads(corpus, layout, {SPAM: np.arange(len(texts))}, params)
        scores[columns] = float(model.decision(SPAM, model.features(probe)[SPAM])[0])
    assert scores[True] > scores[False]
