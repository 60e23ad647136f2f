"""Fit a ModerationModel, measure it honestly on a held-out split, pick thresholds.

Order of work: load sources -> dedupe per head on normalised text -> stratified
80/20 split -> fit on 80 % -> metrics and thresholds from the 20 % -> refit the
same recipe on 100 % for the shipped model.  The card records all of it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import platform
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import sklearn
from sklearn.model_selection import train_test_split

from moderation.features import CommentDoc
from moderation.fingerprint import reading_fingerprint
from moderation.model import (
    ABUSIVE,
    SPAM,
    FeatureParams,
    ModerationModel,
    build_classifier,
    build_features,
    build_pipeline,
    compact,
)
from moderation.text import normalize_many
from training.datasets import LabeledSource, find_word_map, load_sources
from training.metrics import choose_thresholds, head_metrics, per_source_metrics

__all__ = ["HeadData", "dedupe", "fingerprint", "train_model"]

log = logging.getLogger(__name__)
HEAD_OF_KIND = {"spam": SPAM, "abuse": ABUSIVE}
OVERRIDE_VOTES = 1_000_000


@dataclass
class HeadData:
    """Deduplicated rows of one head: original text, normalised text, label, source, text + author fields."""

    texts: list[str]
    normalized: list[str]
    labels: np.ndarray
    sources: list[str]
    docs: list[CommentDoc]


def dedupe(sources: Sequence[LabeledSource]) -> HeadData:
    """Merge sources of one head, one row per normalised text (majority label, ties dropped)."""
    votes: dict[str, Counter[int]] = defaultdict(Counter)
    first: dict[str, tuple[CommentDoc, str]] = {}
    for src in sources:
        for doc, norm, label in zip(src.docs(), normalize_many(src.texts), src.labels, strict=True):
            if not norm:
                continue
            # A moderator's (or an Akismet report's) label overrides any number of dataset copies.
            votes[norm][label] += OVERRIDE_VOTES if src.name.startswith("decisions:") else 1
            if src.name.startswith("decisions:"):
                first[norm] = (doc, src.name)
            first.setdefault(norm, (doc, src.name))
    docs, normalized, labels, names = [], [], [], []
    for norm, count in votes.items():
        (top, n_top), *rest = count.most_common()
        if rest and rest[0][1] == n_top:
            continue  # copies disagree evenly: the label is unknowable
        doc, name = first[norm]
        docs.append(doc)
        normalized.append(norm)
        labels.append(top)
        names.append(name)
    return HeadData([d.text for d in docs], normalized, np.asarray(labels, dtype=np.int8), names, docs)


def fingerprint(heads: dict[str, HeadData]) -> str:
    """SHA-256 over the sorted (head, label, text[, author fields]) rows the model is trained on."""
    digest = hashlib.sha256()
    for head in sorted(heads):
        data = heads[head]
        # Author fields are part of the data, but only where present: author-less data keeps its old fingerprint.
        authors = ["\t".join(d[1:]) if any(d[1:]) else "" for d in data.docs]
        for label, text, author in sorted(zip(data.labels.tolist(), data.normalized, authors, strict=True)):
            digest.update(f"{head}\t{label}\t{text}{chr(9) + author if author else ''}\n".encode())
    return digest.hexdigest()


def _split(data: HeadData, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Return train/test row indices, stratified by source+label where every stratum allows it."""
    idx = np.arange(len(data.labels))
    strata = np.asarray([f"{s}|{y}" for s, y in zip(data.sources, data.labels, strict=True)])
    if min(Counter(strata.tolist()).values()) < 2:
        strata = data.labels.astype(str)
    train, test = train_test_split(idx, test_size=0.2, random_state=seed, stratify=strata)
    return np.sort(train), np.sort(test)


def _fit(heads: dict[str, HeadData], rows: dict[str, np.ndarray], params: FeatureParams) -> ModerationModel:
    """Fit one shared feature union on the chosen rows of both heads, then one classifier per head."""
    # The feature step normalises by itself (it is the saved pipeline's first step), so it gets raw text.
    corpus = [heads[h].docs[i] for h in (SPAM, ABUSIVE) for i in rows[h]]
    features = build_features(params)
    matrix = features.fit_transform(corpus).tocsr()
    compact(features)
    pipelines = {}
    offset = 0
    for head in (SPAM, ABUSIVE):
        n = len(rows[head])
        clf = build_classifier(params).fit(matrix[offset : offset + n], heads[head].labels[rows[head]])
        pipelines[head] = build_pipeline(features, clf)
        offset += n
    return ModerationModel(pipelines[SPAM], pipelines[ABUSIVE])


def fit_platt(decision: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Fit Platt scaling P = sigmoid(a*d + b) on held-out decision values (with Platt's smoothed targets)."""
    n_pos, n_neg = int(y.sum()), int(len(y) - y.sum())
    if n_pos == 0 or n_neg == 0:
        return 1.0, 0.0
    # Platt's targets keep a separable validation set from pushing a to infinity.
    target = np.where(y == 1, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
    a, b = 1.0, 0.0
    for _ in range(100):  # Newton steps on the 2-parameter log loss
        p = 1 / (1 + np.exp(-(a * decision + b)))
        w = np.maximum(p * (1 - p), 1e-12)
        g = np.array([np.sum((p - target) * decision), np.sum(p - target)])
        h = np.array([[np.sum(w * decision * decision), np.sum(w * decision)],
                      [np.sum(w * decision), np.sum(w)]]) + 1e-9 * np.eye(2)  # fmt: skip
        step = np.linalg.solve(h, g)
        a, b = a - step[0], b - step[1]
        if np.abs(step).max() < 1e-9:
            break
    return float(a), float(b)


def _calibrate(model: ModerationModel, heads: dict[str, HeadData], test_rows: dict[str, np.ndarray]) -> None:
    """Fit each head's Platt scaling on its held-out rows (in place)."""
    for head, rows in test_rows.items():
        mats = model.features([heads[head].docs[i] for i in rows])
        model.calibration[head] = fit_platt(model.decision(head, mats[head]), heads[head].labels[rows])


def _collect(sources: Sequence[LabeledSource]) -> dict[str, HeadData]:
    """Group loaded sources by head and dedupe each head; both heads need both classes."""
    heads = {}
    for kind, head in HEAD_OF_KIND.items():
        data = dedupe([s for s in sources if s.kind == kind])
        if len(set(data.labels.tolist())) < 2 or min(Counter(data.labels.tolist()).values()) < 5:
            raise ValueError(f"not enough {head} training data: need at least 5 rows of each class")
        heads[head] = data
    return heads


def _with_seed(sources: list[LabeledSource], allow_noncommercial: bool) -> list[LabeledSource]:
    """Add the shipped seed set unless it is already among the sources."""
    if any(s.name.startswith("seed") for s in sources):
        return sources
    return sources + load_sources([], allow_noncommercial=allow_noncommercial)


TRAIN_STEPS = ("reading data", "fitting on 80 %", "calibrating and evaluating", "refitting on all rows")
"""The long steps of train_model, in order, as its ``progress`` callback names them."""


def train_model(
    sources: Sequence[str | os.PathLike[str]],
    *,
    allow_noncommercial: bool = False,
    seed: int = 0,
    params: FeatureParams | None = None,
    include_seed: bool = True,
    extra: Sequence[LabeledSource] = (),
    held_out_scores: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[ModerationModel, dict[str, Any]]:
    """Train both heads on the given paths (empty: the seed set) and return (model, card).

    ``held_out_scores``, when given, is filled with head -> (labels, calibrated scores) of the
    held-out split, for the report's curves; ``progress`` is called with each of TRAIN_STEPS as it starts.
    """
    step = progress or (lambda _name: None)
    started = time.perf_counter()
    step(TRAIN_STEPS[0])
    params = params or FeatureParams(word_map=find_word_map(sources, allow_noncommercial))
    loaded = load_sources(sources, allow_noncommercial=allow_noncommercial)
    if include_seed:
        loaded = _with_seed(loaded, allow_noncommercial)
    loaded = loaded + list(extra)
    heads = _collect(loaded)
    splits = {h: _split(heads[h], seed) for h in heads}
    log.debug("fitting on 80%% (%s)", {h: len(s[0]) for h, s in splits.items()})
    step(TRAIN_STEPS[1])
    held_out = _fit(heads, {h: s[0] for h, s in splits.items()}, params)
    step(TRAIN_STEPS[2])
    _calibrate(held_out, heads, {h: s[1] for h, s in splits.items()})
    metrics, thresholds = _evaluate(held_out, heads, {h: s[1] for h, s in splits.items()}, held_out_scores)
    log.debug("refitting on all rows")
    step(TRAIN_STEPS[3])
    model = _fit(heads, {h: np.arange(len(heads[h].labels)) for h in heads}, params)
    # The full refit keeps the held-out calibration: same recipe, slightly more data, near-identical margins.
    model.calibration = dict(held_out.calibration)
    card = {
        "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "python": platform.python_version(),
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "reading": reading_fingerprint(),  # how this code reads text: a later reading makes the model stale
        "data_fingerprint": fingerprint(heads),
        "sources": [s.describe() for s in loaded],
        "rows": {h: {"total": len(d.labels), "positive": int(d.labels.sum())} for h, d in heads.items()},
        "split": {"test_size": 0.2, "seed": seed, "stratify": "source+label"},
        "params": asdict(params),
        "calibration": {h: {"a": round(a, 6), "b": round(b, 6)} for h, (a, b) in model.calibration.items()},
        "metrics": metrics,
        "thresholds": thresholds,
        "training_seconds": round(time.perf_counter() - started, 2),
    }
    return model, card


def _evaluate(
    model: ModerationModel,
    heads: dict[str, HeadData],
    test_rows: dict[str, np.ndarray],
    keep: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
) -> tuple[dict[str, Any], dict[str, float]]:
    """Score the held-out rows of each head; derive thresholds and metrics from them."""
    scores = {}
    for head, rows in test_rows.items():
        mats = model.features([heads[head].docs[i] for i in rows])
        scores[head] = model.probabilities(head, mats[head])
    y = {h: heads[h].labels[test_rows[h]] for h in heads}
    if keep is not None:
        keep.update({h: (y[h], scores[h]) for h in heads})
    thresholds = choose_thresholds(y[SPAM], scores[SPAM], y[ABUSIVE], scores[ABUSIVE])
    metrics: dict[str, Any] = {
        SPAM: head_metrics(y[SPAM], scores[SPAM], thresholds["spam_above"], thresholds["approve_below"]),
        ABUSIVE: head_metrics(y[ABUSIVE], scores[ABUSIVE], thresholds["abusive_above"]),
    }
    for head in heads:
        names = [heads[head].sources[i] for i in test_rows[head]]
        threshold = thresholds["spam_above" if head == SPAM else "abusive_above"]
        metrics[head]["by_source"] = per_source_metrics(y[head], scores[head], names, threshold)
    return metrics, thresholds
