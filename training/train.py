"""Fit a ModerationModel, measure it honestly, and pick its thresholds from sources it never saw.

Order of work: load sources -> dedupe per head on normalised text -> read every
row (and its style copy) once into a ``Corpus`` -> fit the recipe on all rows
(the shipped model), on a stratified 80 % split (in-source metrics, the
abusive head's calibration), and, when the spam data has two or more sources,
once per source without that source (leave one source out).
The spam head's calibration and its ``approve_below`` / ``spam_above`` come
from those held-out sources' scores: a new site is a source the model never
saw, and in-source scores are more confident than what it will meet there.
The card records all of it.
"""

from __future__ import annotations

import hashlib
import logging
import math
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

from moderation.model.estimator import (
    ABUSIVE,
    SPAM,
    FeatureParams,
    ModerationModel,
    PinnedLinear,
    build_classifier,
    build_pipeline,
    compact,
    pinned_columns,
)
from moderation.reading.features import CommentDoc
from moderation.reading.fingerprint import reading_fingerprint
from moderation.reading.text import normalize_many
from training.corpus import Corpus
from training.datasets import LabeledSource, find_word_map, load_sources
from training.metrics import (
    choose_thresholds,
    cross_source_rates,
    cross_source_thresholds,
    head_metrics,
    per_source_metrics,
)
from training.site_columns import fit_with_site_columns
from training.style import style_copies

__all__ = ["HeadData", "dedupe", "eligible_sources", "fingerprint", "fit_heads", "fit_platt", "fit_recipe", "held_out",
           "read_corpus", "train_heads", "train_model"]

log = logging.getLogger(__name__)
HEAD_OF_KIND = {"spam": SPAM, "abuse": ABUSIVE}
OVERRIDE_VOTES = 1_000_000
MIN_SOURCE_ROWS = 20
"""Spam rows and ham rows a source needs (each) to be held out as a cross-source slice."""


@dataclass
class HeadData:
    """Deduplicated rows of one head: original text, normalised text, label, source, text + author fields."""

    texts: list[str]
    normalized: list[str]
    labels: np.ndarray
    sources: list[str]
    docs: list[CommentDoc]
    weights: np.ndarray | None = None  # per row; None: every row weighs 1 (moderator labels may weigh more)

    def weight(self) -> np.ndarray:
        """Each row's training weight (1 where none was given)."""
        return self.weights if self.weights is not None else np.ones(len(self.labels))


def dedupe(sources: Sequence[LabeledSource]) -> HeadData:
    """Merge sources of one head, one row per normalised text (majority label, ties dropped)."""
    votes: dict[str, Counter[int]] = defaultdict(Counter)
    first: dict[str, tuple[CommentDoc, str]] = {}
    weight_of = {src.name: src.weight for src in sources}
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
    weights = np.asarray([weight_of[n] for n in names], dtype=np.float64)
    return HeadData([d.text for d in docs], normalized, np.asarray(labels, dtype=np.int8), names, docs,
                    weights if (weights != 1.0).any() else None)


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


def eligible_sources(data: HeadData) -> list[str]:
    """Spam sources that can be held out whole: real sources (not the seed, not decisions) with enough of each class."""
    counts = Counter(zip(data.sources, data.labels.tolist(), strict=True))
    names = {s for s in data.sources if not s.startswith(("seed", "decisions:"))}
    return sorted(s for s in names if min(counts[(s, 0)], counts[(s, 1)]) >= MIN_SOURCE_ROWS)


@dataclass
class _Layout:
    """Where each head's rows, and their style copies, sit in the corpus."""

    index: dict[str, np.ndarray]  # head -> corpus position of each row
    copy: dict[str, np.ndarray]  # head -> corpus position of each row's style copy, -1 where it has none
    labels: dict[str, np.ndarray]
    weights: dict[str, np.ndarray]
    site: dict[str, np.ndarray]  # head -> whether each row is the site's own (its labels, its unreported approvals)

    def rows(self, head: str, picked: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Corpus positions, labels and weights a head is fitted on: the picked rows, then their style copies."""
        copies = self.copy[head][picked]
        has = copies >= 0
        labels, weights = self.labels[head][picked], self.weights[head][picked]
        return (np.concatenate([self.index[head][picked], copies[has]]), np.concatenate([labels, labels[has]]),
                np.concatenate([weights, weights[has]]))

    def site_rows(self, head: str, picked: np.ndarray) -> np.ndarray:
        """Whether each row ``rows`` gives is the site's own (a style copy is its original's)."""
        site = self.site[head][picked]
        return np.concatenate([site, site[self.copy[head][picked] >= 0]])


def read_corpus(heads: dict[str, HeadData], params: FeatureParams) -> tuple[Corpus, _Layout]:
    """Every row of every head, plus style copies where the recipe asks for them, read once."""
    docs: list[CommentDoc] = []
    index, copy = {}, {}
    for head, data in heads.items():
        index[head] = np.arange(len(docs), len(docs) + len(data.docs))
        docs += data.docs
        copy[head] = np.full(len(data.docs), -1)
        if params.style_copies:
            for row, doc in style_copies(data.docs, data.normalized):
                copy[head][row] = len(docs)
                docs.append(doc)
    site = {h: np.asarray([s.startswith(SITE_SOURCES) for s in d.sources], dtype=bool) for h, d in heads.items()}
    return Corpus(docs, params), _Layout(index, copy, {h: d.labels for h, d in heads.items()},
                                         {h: d.weight() for h, d in heads.items()}, site)


def fit_heads(
    corpus: Corpus, layout: _Layout, picked: dict[str, np.ndarray], params: FeatureParams
) -> tuple[ModerationModel, Any]:
    """Fit one shared feature step on the picked rows of the heads given, then one classifier per head.

    Returns the model and the corpus fit (for scoring other rows of the corpus with ``held_out``).
    """
    parts = {head: layout.rows(head, rows) for head, rows in picked.items()}
    fitted, matrix = corpus.fit(np.concatenate([positions for positions, _, _ in parts.values()]))
    features = fitted.features
    compact(features)
    pipelines, offset = {}, 0
    for head, (positions, labels, weights) in parts.items():
        pins = pinned_columns(features, params, head)
        clf = PinnedLinear(build_classifier(params), pins) if pins else build_classifier(params)
        rows = matrix[offset : offset + len(positions)]
        site = layout.site_rows(head, picked[head]) if params.site_columns and head == SPAM else None
        # Unit weights are passed as None so a model without moderator labels fits exactly as before.
        if site is not None and site.any():
            fitted_clf = fit_with_site_columns(clf, rows, labels, _or_none(weights), site)
        else:
            fitted_clf = clf.fit(rows, labels, sample_weight=_or_none(weights))
        pipelines[head] = build_pipeline(features, fitted_clf)
        offset += len(positions)
    only = next(iter(pipelines.values()))  # a fit of one head serves as both
    return ModerationModel(pipelines.get(SPAM, only), pipelines.get(ABUSIVE, only)), fitted


def _or_none(weights: np.ndarray) -> np.ndarray | None:
    """The weights, or None when every one is 1."""
    return weights if (weights != 1.0).any() else None


def fit_recipe(
    docs: Sequence[str | CommentDoc], labels: np.ndarray, params: FeatureParams, head: str = SPAM
) -> ModerationModel:
    """One head fitted on labelled comments exactly as training fits it (style copies, the spam head's prior)."""
    items = [d if isinstance(d, CommentDoc) else CommentDoc(d) for d in docs]
    data = HeadData([d.text for d in items], normalize_many([d.text for d in items]), np.asarray(labels, np.int8),
                    ["rows"] * len(items), items)  # fmt: skip
    corpus, layout = read_corpus({head: data}, params)
    return fit_heads(corpus, layout, {head: np.arange(len(items))}, params)[0]


def held_out(corpus: Corpus, layout: _Layout, fit: tuple[ModerationModel, Any], head: str,
             rows: np.ndarray) -> np.ndarray:  # fmt: skip
    """Raw decision values of a head on rows of the corpus that the fit did not see."""
    model, fitted = fit
    return model.decision(head, corpus.transform(fitted, layout.index[head][rows]))


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


TRAIN_STEPS = ("reading data", "fitting (all rows, the 80 % split, each held-out source)",
               "calibrating and choosing thresholds")  # fmt: skip
"""The long steps of train_model, in order, as its ``progress`` callback names them."""


def _held_out_sources(
    corpus: Corpus, layout: _Layout, spam: HeadData, params: FeatureParams
) -> dict[str, np.ndarray]:
    """Decision values of each spam source scored by the recipe fitted without it (none without two sources)."""
    names = eligible_sources(spam)
    if len(names) < 2:
        return {}
    source_of = np.asarray(spam.sources)
    out = {}
    for name in names:  # the spam head alone: the abusive head is not judged cross-source
        fit = fit_heads(corpus, layout, {SPAM: np.flatnonzero(source_of != name)}, params)
        out[name] = held_out(corpus, layout, fit, SPAM, np.flatnonzero(source_of == name))
    return out


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
    model, card = train_heads(_collect(loaded), params, seed=seed, held_out_scores=held_out_scores, progress=step)
    card["sources"] = [s.describe() for s in loaded]
    card["training_seconds"] = round(time.perf_counter() - started, 2)
    return model, card


def train_heads(
    heads: dict[str, HeadData],
    params: FeatureParams,
    *,
    seed: int = 0,
    held_out_scores: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[ModerationModel, dict[str, Any]]:
    """Train both heads on deduplicated rows: fits, calibration, thresholds and the card (without its sources)."""
    step = progress or (lambda _name: None)
    splits = {h: _split(heads[h], seed) for h in heads}
    corpus, layout = read_corpus(heads, params)
    step(TRAIN_STEPS[1])
    model, _ = fit_heads(corpus, layout, {h: np.arange(len(d.labels)) for h, d in heads.items()}, params)
    split_fit = fit_heads(corpus, layout, {h: s[0] for h, s in splits.items()}, params)
    split_decisions = {h: held_out(corpus, layout, split_fit, h, splits[h][1]) for h in heads}
    by_source = _held_out_sources(corpus, layout, heads[SPAM], params) if params.cross_source_thresholds else {}
    cross = _cross_source(heads[SPAM], by_source)
    step(TRAIN_STEPS[2])
    split_y = {h: heads[h].labels[splits[h][1]] for h in heads}
    spam_platt = cross["calibration"] if cross else fit_platt(split_decisions[SPAM], split_y[SPAM])
    model.calibration = {SPAM: spam_platt, ABUSIVE: fit_platt(split_decisions[ABUSIVE], split_y[ABUSIVE])}
    scores = {h: _calibrated(model, h, split_decisions[h]) for h in heads}
    thresholds = choose_thresholds(split_y[SPAM], scores[SPAM], split_y[ABUSIVE], scores[ABUSIVE])
    if cross:
        thresholds |= _as_probabilities(model, cross["thresholds"])
        cross["rates"] = cross_source_rates(cross.pop("slices"), cross["thresholds"])
    own = site_thresholds(heads[SPAM], splits[SPAM][1], split_y[SPAM], scores[SPAM])
    if own is not None:  # a site's own model: its traffic, not other sources', sets where its lines fall
        thresholds |= own
    card = {
        "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "python": platform.python_version(),
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "reading": reading_fingerprint(),  # how this code reads text: a later reading makes the model stale
        "data_fingerprint": fingerprint(heads),
        "rows": {h: {"total": len(d.labels), "positive": int(d.labels.sum())} for h, d in heads.items()},
        "split": {"test_size": 0.2, "seed": seed, "stratify": "source+label"},
        "params": asdict(params),
        "calibration": {h: {"a": round(a, 6), "b": round(b, 6)} for h, (a, b) in model.calibration.items()},
        "metrics": _evaluate(heads, splits, split_y, scores, thresholds, held_out_scores),
        "thresholds": thresholds,
        "thresholds_from": _thresholds_basis(cross) + ("; spam lines from the site's own held-out rows"
                                                        if own is not None else ""),
    }
    if cross:
        card["cross_source"] = {k: v for k, v in cross.items() if k != "calibration"}
    return model, card


SITE_SOURCES = ("decisions:site-", "implicit:site-")
"""Name prefixes of a site's own rows (its moderators' labels and its unreported approvals)."""

MIN_SITE_HAM = 100
"""Ham rows of the site the held-out split needs before its own lines are trusted (both rules count ham only)."""

SITE_MARKED_TARGET = 0.001
"""Share of a site's own ham its model may mark spam (nobody reviews what is marked spam)."""

SITE_HELD_BUDGET = 0.03
"""Share of a site's own ham its model may hold for a moderator; within it, as little spam as possible is published."""


def site_thresholds(data: HeadData, test_rows: np.ndarray, y: np.ndarray, p: np.ndarray) -> dict[str, float] | None:
    """Spam lines chosen on the site's own rows of the held-out split (None without enough of them).

    The service's goals for a site, as rules: ``spam_above`` the lowest line that marks at most
    SITE_MARKED_TARGET of the site's ham as spam; ``approve_below`` the lowest line under it that holds at most
    SITE_HELD_BUDGET of the site's ham (the lower the line, the less spam is published). Clamped like every
    other rule (never auto-spam below 0.5).
    """
    mine = np.asarray([data.sources[i].startswith(SITE_SOURCES) for i in test_rows])
    if (y[mine] == 0).sum() < MIN_SITE_HAM:
        return None
    ham = np.sort(p[mine][y[mine] == 0])
    above = len(ham) - np.searchsorted(ham, ham, side="right")  # ham strictly above each ham score
    spam_above = float(np.clip(ham[np.argmax(above <= SITE_MARKED_TARGET * len(ham))], 0.5, 0.98))
    within = ham[ham <= spam_above]
    # The lowest line L with at most SITE_HELD_BUDGET of the ham in [L, spam_above].
    allowed = int(np.floor(SITE_HELD_BUDGET * len(ham)))
    last_approved = float(within[len(within) - allowed - 1]) if allowed < len(within) else 0.0
    # Rounded up to the card's 4 decimals and just past that ham score, so it scores below the line (approved).
    approve_below = math.floor(last_approved * 1e4 + 1) / 1e4
    return {"approve_below": round(float(np.clip(approve_below, 0.02, spam_above)), 4),
            "spam_above": round(spam_above, 4)}  # fmt: skip


def _cross_source(data: HeadData, by_source: dict[str, np.ndarray]) -> dict[str, Any] | None:
    """Calibration and spam thresholds from the held-out sources' decision values (None without two sources)."""
    if not by_source:
        return None
    source_of = np.asarray(data.sources)
    slices = {name: (data.labels[source_of == name], decisions) for name, decisions in by_source.items()}
    y = np.concatenate([s[0] for s in slices.values()])
    d = np.concatenate([s[1] for s in slices.values()])
    return {"basis": "leave one source out", "held_out": sorted(slices), "slices": slices,
            "calibration": fit_platt(d, y), "thresholds": cross_source_thresholds(slices)}  # fmt: skip


def _calibrated(model: ModerationModel, head: str, decisions: np.ndarray) -> np.ndarray:
    """Decision values of a head through its Platt scaling."""
    a, b = model.calibration[head]
    return np.asarray(1.0 / (1.0 + np.exp(-(a * decisions + b))))


def _as_probabilities(model: ModerationModel, decision_thresholds: dict[str, float]) -> dict[str, float]:
    """Thresholds chosen on decision values, as the calibrated spam probabilities the policy compares.

    The in-source rule's clamps apply (never auto-spam below 0.5, never above 0.98).
    """
    p = {k: float(_calibrated(model, SPAM, np.asarray([v]))[0]) for k, v in decision_thresholds.items()}
    spam_above = float(np.clip(p["spam_above"], 0.5, 0.98))
    approve_below = float(np.clip(p["approve_below"], 0.02, spam_above))
    return {"approve_below": round(approve_below, 4), "spam_above": round(spam_above, 4)}


def _thresholds_basis(cross: dict[str, Any] | None) -> str:
    """How the card's spam thresholds were chosen, in words."""
    if cross is None:
        return "in-source held-out split (fewer than two spam sources to hold out)"
    return "cross-source: leave one source out (" + ", ".join(cross["held_out"]) + ")"


def _evaluate(
    heads: dict[str, HeadData],
    splits: dict[str, tuple[np.ndarray, np.ndarray]],
    y: dict[str, np.ndarray],
    scores: dict[str, np.ndarray],
    thresholds: dict[str, float],
    keep: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
) -> dict[str, Any]:
    """In-source metrics of the held-out split, at the model's thresholds."""
    if keep is not None:
        keep.update({h: (y[h], scores[h]) for h in heads})
    metrics: dict[str, Any] = {
        SPAM: head_metrics(y[SPAM], scores[SPAM], thresholds["spam_above"], thresholds["approve_below"]),
        ABUSIVE: head_metrics(y[ABUSIVE], scores[ABUSIVE], thresholds["abusive_above"]),
    }
    for head in heads:
        names = [heads[head].sources[i] for i in splits[head][1]]
        threshold = thresholds["spam_above" if head == SPAM else "abusive_above"]
        metrics[head]["by_source"] = per_source_metrics(y[head], scores[head], names, threshold)
    return metrics
