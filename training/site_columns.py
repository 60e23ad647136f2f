"""A site's own columns: its rows read twice, so its labels can move its model where the public rows disagree.

Feature augmentation (Daumé III, "Frustratingly easy domain adaptation", 2007) for one site over the public sources:
every row has the shared columns; the site's own rows have a copy of them besides. The classifier learns the shared
weights from everything and the site's offsets from its rows alone, each regularised, so the site's few labels
decide what is particular to it without being outvoted by, or overruling, the public rows.

Scored for that site a comment has both copies, so the fitted head is the sum of the two halves: a plain linear head
of the usual width, saved and scored like any other.

Not a site's recipe today (``FeatureParams.site_columns`` is off in ``site_params``): it won on the dev sites of
``bench/adaptation.py --dev-columns``, whose moderators' labels hold many spam, and lost on the simulated portal,
whose shared model already marks most spam by itself (``docs/model/site-columns.md``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from moderation.model.estimator import PinnedLinear


def fit_with_site_columns(clf: Any, X: Any, y: np.ndarray, weights: np.ndarray | None, site: np.ndarray) -> Any:
    """Fit CLF on X plus a copy of the site's rows' columns, then fold the copy back in: the head a site scores with."""
    X = sp.csr_matrix(X)
    width = X.shape[1]
    augmented = sp.hstack([X, sp.diags(site.astype(X.dtype)) @ X], format="csr")
    if isinstance(clf, PinnedLinear):  # a pinned column's site copy is pinned at 0, so the sum keeps the pin exact
        clf.pinned = tuple(clf.pinned) + tuple((width + col, 0.0) for col, _ in clf.pinned)
    clf.fit(augmented, y, sample_weight=weights)
    return fold(clf, width)


def fold(clf: Any, width: int) -> Any:
    """A fitted linear head over [shared | site] columns as one over the shared columns (their weights summed)."""
    coef = np.asarray(clf.coef_, dtype=np.float64)
    clf.coef_ = coef[:, :width] + coef[:, width:]
    if hasattr(clf, "n_features_in_"):
        clf.n_features_in_ = width
    if isinstance(clf, PinnedLinear):
        clf.pinned = tuple((col, w) for col, w in clf.pinned if col < width)
    return clf
