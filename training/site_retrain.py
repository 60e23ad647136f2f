"""Retraining one site's own model from its moderators, judged on its most recent labels, promoted only when better.

One run, for one site:

1. Read the site's labels (its moderators' decisions and its own key's submit-spam/submit-ham; the latest word
   on a comment wins) and split them by time: the newest ``retrain.holdout_share`` are held out to judge, never
   trained on (the period grows back, to half the labels at most, until it holds a few spam and ham). Comments
   the model published long ago that nobody reported are added as (weak) ham, from before the held-out period
   only.
2. Train a candidate: the shipped recipe (with SITE_C) on the public sources plus the site's earlier labels,
   each of which weighs ``retrain.moderator_weight`` rows of public data.
3. Judge it against the model now scoring the site (its own, or the shared one) on the held-out labels, and on
   the evaluation-only sets in the site's languages at the target rate; count the held-out moderator
   decisions each would reverse.
4. Promote it into the site's registry only when it is better on the site's recent labels, not worse on the
   evaluation sets, and does not reverse many more moderator decisions (the poisoning guard). Every run that
   trains a candidate, promoted or refused, is one line of the site's ``promotions.jsonl``; a check that finds
   too few new labels trains nothing and is only logged.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

from moderation.model.estimator import FeatureParams
from moderation.model.registry import active_version, promote, save_model
from moderation.model.scoring import ModelScorer, load_scorer
from moderation.model.site_models import site_model_dir
from moderation.reading.features import CommentDoc
from moderation.settings import Settings
from moderation.store.labels import SiteLabel, site_labels, unreported_approvals
from training.datasets import LabeledSource, find_word_map, load_eval_sources
from training.languages import site_languages
from training.metrics import decision_rates, recall_at_fpr
from training.promotion import append_audit, audit_log, recall_of
from training.train import train_model

__all__ = ["SiteRows", "judge", "retrain_site", "site_params", "site_rows", "site_sources", "split_by_time"]

TARGET_FPR = 0.01
"""Ham false-positive rate at which candidate and current model are compared."""

SITE_C = 0.125
"""The linear classifier's C in a site's model (the shared model's is 0.5): a site's few hundred weighted labels
generalise better to its later comments under stronger regularisation. Chosen on training sources playing a
site, held out of their shared model, never on the sites we report (``bench/adaptation.py --dev``)."""

TOLERANCE = 0.005
"""How much worse (recall at TARGET_FPR) on the evaluation-only sets a candidate may be and still be promoted."""

MIN_HELD_OUT = 3
"""Spam and ham labels (each) the held-out period needs before a candidate can be judged at all."""

MAX_HOLDOUT_SHARE = 0.5
"""The most of a site's labels the held-out period may grow to (``split_by_time``)."""

IMPLICIT = "implicit"
"""The source of a weak label (an approval nobody reported), as opposed to a moderator's or a report's."""

IMPLICIT_PER_LABEL = 10
"""Unreported approvals read per explicit label at most (they are weak ham; they must not drown the rest)."""

Trainer = Callable[..., tuple[Any, dict[str, Any]]]


@dataclass
class SiteRows:
    """A site's labels, split by time."""

    train: list[SiteLabel]  # explicit labels before the held-out period
    implicit: list[SiteLabel]  # unreported approvals received before the held-out period
    recent: list[SiteLabel]  # the newest explicit labels, held out to judge

    def counts(self) -> dict[str, int]:
        """How many rows each part has (for the audit line)."""
        return {"train": len(self.train), "implicit": len(self.implicit), "recent": len(self.recent),
                "recent_spam": sum(r.spam for r in self.recent)}  # fmt: skip


def site_rows(session: Any, site_id: int, settings: Settings, now: datetime | None = None) -> SiteRows:
    """The site's labels, explicit and weak, split by time: the newest ``retrain.holdout_share`` of them judge."""
    explicit = site_labels(session, site_id)
    implicit: list[SiteLabel] = []
    if settings["retrain.implicit_after"] > 0 and explicit:
        cutoff = (now or datetime.now(UTC)) - timedelta(seconds=settings["retrain.implicit_after"])
        implicit = unreported_approvals(session, site_id, cutoff, IMPLICIT_PER_LABEL * len(explicit))
    return split_by_time(explicit + implicit, settings["retrain.holdout_share"])


def split_by_time(labels: Sequence[SiteLabel], holdout_share: float) -> SiteRows:
    """The newest share of a site's labels held out to judge (weak ham too: it is the bulk of what the site
    publishes, so it is where a false positive shows), the older ones to train on, explicit and weak apart.

    A share that holds fewer than MIN_HELD_OUT spam (or ham) grows back in time, up to MAX_HOLDOUT_SHARE, until
    it holds them: a site whose moderators see little spam (or teach from the uncertain middle, mostly ham)
    can then be judged without waiting for weeks of labels.
    """
    ordered = sorted(labels, key=lambda r: r.at)
    held = _held_count(ordered, holdout_share)
    older = ordered[: len(ordered) - held]
    return SiteRows([r for r in older if r.source != IMPLICIT], [r for r in older if r.source == IMPLICIT],
                    ordered[len(ordered) - held :])


def _held_count(ordered: Sequence[SiteLabel], share: float) -> int:
    """How many of the newest labels to hold out: SHARE of them, or more (to MAX_HOLDOUT_SHARE) to reach
    MIN_HELD_OUT of each kind."""
    base = math.ceil(len(ordered) * share) if ordered else 0
    spam = np.cumsum([r.spam for r in reversed(ordered)])  # spam among the newest 1, 2, ... labels
    ham = np.arange(1, len(ordered) + 1) - spam
    enough = np.flatnonzero((spam >= MIN_HELD_OUT) & (ham >= MIN_HELD_OUT))
    needed = int(enough[0]) + 1 if len(enough) else len(ordered)
    return max(base, min(needed, math.floor(len(ordered) * MAX_HOLDOUT_SHARE)))


def site_sources(site_id: int, rows: SiteRows, weight: float) -> list[LabeledSource]:
    """Training sources from a site's rows: its explicit labels (weighted; they override public copies), then
    the unreported approvals (ordinary rows: a public label of the same text outvotes them)."""
    out = []
    for name, items, w in ((f"decisions:site-{site_id}", rows.train, weight),
                           (f"implicit:site-{site_id}", rows.implicit, 1.0)):  # fmt: skip
        if items:
            authors = [(r.author.name, r.author.url, r.author.email) for r in items]
            out.append(LabeledSource(name, "database:training_labels", "the site's own moderation", True, "spam",
                                     [r.text for r in items], [r.spam for r in items], authors, weight=w))  # fmt: skip
    return out


def site_params(data: Sequence[str]) -> FeatureParams:
    """The recipe of a site's model: the shipped one with SITE_C (its rows pooled with the public ones: its own
    columns won on the dev sites and lost on the portal, ``docs/model/site-columns.md``)."""
    return replace(FeatureParams(word_map=find_word_map(data)), C=SITE_C)


def _docs(rows: Sequence[SiteLabel]) -> list[CommentDoc]:
    """Labelled rows as the model reads them."""
    return [CommentDoc(r.text, *r.author) for r in rows]


def _judged(scorer: ModelScorer, docs: list[CommentDoc], y: np.ndarray, moderated: np.ndarray) -> dict[str, Any]:
    """One model's figures on labelled rows: recall at TARGET_FPR, ROC-AUC, its decisions, and the moderators'
    decisions (``moderated`` rows; weak labels are nobody's decision) it would reverse."""
    p = scorer.model.probabilities("spam", scorer.model.features(docs)["spam"]) if docs else np.zeros(0)
    th = scorer.thresholds
    both = len(set(y.tolist())) == 2
    rates = decision_rates(y, p, th["approve_below"], th["spam_above"])
    # A reversal: the moderator said spam and this model would publish it, or said ham and it would mark spam.
    wrong = ((y == 1) & (p < th["approve_below"])) | ((y == 0) & (p > th["spam_above"]))
    reversed_ = int((wrong & moderated).sum())
    held = int(((p >= th["approve_below"]) & (p <= th["spam_above"])).sum())
    return {"version": scorer.version, "recall": round(recall_at_fpr(y, p, TARGET_FPR), 4) if both else None,
            "roc_auc": round(float(roc_auc_score(y, p)), 4) if both else None, "reversals": reversed_,
            "held": held, **rates}  # fmt: skip


def _merit(m: dict[str, Any]) -> tuple[float, float, int, int]:
    """What "better on the site's labels" compares, in order: recall at TARGET_FPR, ROC-AUC, then (at each
    model's own thresholds) fewer reversed decisions, then fewer comments held for a moderator."""
    return (m["recall"] or 0.0, m["roc_auc"] or 0.0, -m["reversals"], -m["held"])


def _base_recall(scorer: ModelScorer, sources: Sequence[LabeledSource]) -> float | None:
    """Recall at TARGET_FPR on the evaluation-only sets (None without any)."""
    docs = [d for s in sources for d in s.docs()]
    if not docs:
        return None
    y = np.asarray([lbl for s in sources for lbl in s.labels], dtype=np.int8)
    return recall_of(scorer, docs, y, TARGET_FPR)


def judge(candidate: ModelScorer, current: ModelScorer, recent: Sequence[SiteLabel], max_reversals: float,
          eval_sets: Sequence[LabeledSource] = (), languages: set[str] | None = None) -> dict[str, Any]:  # fmt: skip
    """Compare candidate and current on the held-out labels and the evaluation sets; say whether to promote.

    With the site's ``languages`` known, only the evaluation sets in them gate; the others are measured and
    written down, not held against it (an English blog's model is not refused for Indonesian gambling spam).
    """
    docs, y = _docs(recent), np.asarray([r.spam for r in recent], dtype=np.int8)
    moderated = np.asarray([r.source != IMPLICIT for r in recent], dtype=bool)
    cand, cur = _judged(candidate, docs, y, moderated), _judged(current, docs, y, moderated)
    spam_sets = [s for s in eval_sets if s.kind == "spam"]
    gating = [s for s in spam_sets if not languages or not s.language or s.language in languages]
    base: dict[str, Any] = {"candidate": _base_recall(candidate, gating), "current": _base_recall(current, gating),
                            "sets": sorted({s.name for s in gating}), "languages": sorted(languages or ())}  # fmt: skip
    if other := [s for s in spam_sets if s not in gating]:
        base["not_gating"] = {"sets": sorted({s.name for s in other}), "candidate": _base_recall(candidate, other),
                              "current": _base_recall(current, other)}  # fmt: skip
    why = _refusal(cand, cur, base, int(moderated.sum()), max_reversals)
    return {"site": {"n": len(recent), "candidate": cand, "current": cur}, "base": base,
            "promote": why is None, "why": why or "better on the site's recent labels"}  # fmt: skip


def _refusal(cand: dict[str, Any], cur: dict[str, Any], base: dict[str, Any], n: int,
             max_reversals: float) -> str | None:  # fmt: skip
    """Why the candidate may not be promoted (None: it may)."""
    if cand["reversals"] > max_reversals * n and cand["reversals"] > cur["reversals"]:
        return (f"poisoning guard: it would reverse {cand['reversals']} of {n} recent moderator decisions "
                f"(the current model {cur['reversals']})")  # fmt: skip
    if _merit(cand) <= _merit(cur):
        return (f"not better on the site's recent labels: recall@1%FPR {cand['recall']}, AUC {cand['roc_auc']}, "
                f"{cand['reversals']} reversed, {cand['held']} held against {cur['recall']}, {cur['roc_auc']}, "
                f"{cur['reversals']}, {cur['held']}")  # fmt: skip
    measured = base["candidate"] is not None and base["current"] is not None
    if measured and base["candidate"] < base["current"] - TOLERANCE:
        return f"worse on the evaluation sets: recall@1%FPR {base['candidate']} against {base['current']}"
    return None


def _last_run(site_dir: Path) -> dict[str, Any] | None:
    """The site's latest retraining line (promoted or refused), if any."""
    runs = [e for e in audit_log(site_dir) if e.get("retrain")]
    return runs[-1] if runs else None


def _current(model_dir: Path, site_dir: Path) -> ModelScorer:
    """The model scoring the site now: its own active one, else the shared one."""
    return load_scorer(site_dir) if active_version(site_dir) else load_scorer(model_dir)


def retrain_site(session: Any, settings: Settings, site_id: int, *, force: bool = False,
                 trainer: Trainer = train_model, now: datetime | None = None) -> dict[str, Any]:  # fmt: skip
    """One retraining run for a site; returns its audit line (``action``: promoted, refused or skipped)."""
    model_dir = Path(settings["model_dir"])
    site_dir = site_model_dir(model_dir, site_id)
    rows = site_rows(session, site_id, settings, now)
    explicit = [r for r in rows.train + rows.recent if r.source != IMPLICIT]  # what the moderators said
    through = max((r.at for r in explicit), default=None)
    last = _last_run(site_dir)
    new = sum(1 for r in explicit if last is None or r.at.isoformat() > last["retrain"]["through"])
    base = {"site_id": site_id, "new_labels": new, "rows": rows.counts()}
    if not force and new < settings["retrain.min_new_labels"]:
        return {"action": "skipped", "why": f"{new} new labels (retrain.min_new_labels is "
                f"{settings['retrain.min_new_labels']})", **base}  # fmt: skip
    if min(rows.counts()["recent_spam"], len(rows.recent) - rows.counts()["recent_spam"]) < MIN_HELD_OUT:
        return {"action": "skipped", "why": f"the held-out labels need {MIN_HELD_OUT} spam and {MIN_HELD_OUT} ham "
                "to judge a candidate", **base}  # fmt: skip
    started = time.perf_counter()
    extra = site_sources(site_id, rows, settings["retrain.moderator_weight"])
    data = [str(p) for p in settings["training_data"]]
    model, card = trainer(data, extra=extra, params=site_params(data))
    card["site_id"] = site_id
    version = save_model(model, card, site_dir, activate=False)
    current = _current(model_dir, site_dir)
    languages = site_languages(r.text for r in rows.train + rows.implicit + rows.recent)
    verdict = judge(load_scorer(site_dir, version), current, rows.recent, settings["retrain.max_reversals"],
                    _eval_sets(settings), languages)  # fmt: skip
    seconds = round(time.perf_counter() - started, 1)
    retrain = {**base, "through": through.isoformat() if through else "", "seconds": seconds, **verdict}
    previous = active_version(site_dir)
    if verdict["promote"]:
        promote(site_dir, version)
    return append_audit(site_dir, "promoted" if verdict["promote"] else "refused", version, previous,
                        extra={"retrain": retrain})  # fmt: skip


def _eval_sets(settings: Settings) -> list[LabeledSource]:
    """The evaluation-only sets found in the configured data folders."""
    found: list[LabeledSource] = []
    for path in settings["training_data"]:
        if Path(path).is_dir():
            found += load_eval_sources(path)
    return found


def run_retraining(settings: Settings, site_ids: Sequence[int] | None = None, force: bool = False,
                   trainer: Trainer = train_model) -> list[dict[str, Any]]:  # fmt: skip
    """Retrain the given sites (default: every site with labels of its own); one result per site."""
    from moderation.store.db import Database
    from moderation.store.labels import sites_with_labels

    db = Database(settings["database_url"], settings["database.sqlite_synchronous"])
    try:
        with db.session() as session:
            ids = list(site_ids) if site_ids is not None else sites_with_labels(session)
            return [retrain_site(session, settings, sid, force=force, trainer=trainer) for sid in ids]
    finally:
        db.dispose()
