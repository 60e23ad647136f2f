"""Scoring: the Scorer protocol, the loaded model with its reasons, and the per-process cache of the active one.

Where models are kept, and how one is read safely, is ``moderation.model.registry``.
Nothing here loads a model at import time.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from moderation.decide.policy import THRESHOLD_NAMES
from moderation.model.card import ModelCard
from moderation.model.estimator import ABUSIVE, SPAM, ModerationModel
from moderation.model.registry import (
    ModelIntegrityError,
    ModelNotFound,
    active_stamp,
    active_version,
    load_model,
)
from moderation.reading.features import CommentDoc
from moderation.reading.fingerprint import STALE, reading_status
from moderation.settings import BY_NAME

__all__ = ["ModelScorer", "Reason", "Score", "Scorer", "ScorerCache", "load_scorer"]

log = logging.getLogger(__name__)

DEFAULT_THRESHOLDS = {name: float(BY_NAME[f"policy.{name}"].default) for name in THRESHOLD_NAMES}
"""Where a card names no thresholds, reasons are worth computing from the settings table's defaults."""


@dataclass(frozen=True)
class Reason:
    """One reason behind a score (a model feature or a rule)."""

    code: str
    detail: str
    feature: str = ""
    weight: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON form stored with a comment."""
        return asdict(self)


@dataclass
class Score:
    """Model output for one text: probabilities and the reasons worth showing."""

    spam: float
    abusive: float
    reasons: list[dict[str, Any]] = field(default_factory=list)


@runtime_checkable
class Scorer(Protocol):
    """Anything that scores a batch of comments and names the model version it used."""

    version: str

    def score(self, texts: Sequence[str | CommentDoc]) -> list[Score]:
        """Score a batch of texts or CommentDocs (text + author fields), one Score per item in the same order."""
        ...


class ModelScorer:
    """A loaded ModerationModel plus its card; scores batches with cheap reasons."""

    def __init__(self, model: ModerationModel, card: ModelCard | Mapping[str, Any], reasons_per_head: int = 3) -> None:
        """Wrap a model; the card supplies the version and the thresholds."""
        self.model = model
        self.card = card if isinstance(card, ModelCard) else ModelCard.from_dict(card)
        self.version: str = self.card.version
        self.reading = reading_status(self.card.reading)  # current / stale / unknown (moderation.reading.fingerprint)
        self.thresholds: dict[str, float] = {**DEFAULT_THRESHOLDS, **self.card.thresholds}
        self.reasons_per_head = reasons_per_head
        # Reasons are worth computing only where a moderator may look: spam
        # scores that are not auto-approved, abusive scores near the line.
        self.explain_spam_above = self.thresholds["approve_below"]
        self.explain_abusive_above = self.thresholds["abusive_above"]

    def score(self, texts: Sequence[str | CommentDoc]) -> list[Score]:
        """Score a batch (texts or CommentDocs): one feature transform per batch, reasons only for suspect rows."""
        if not texts:
            return []
        mats = self.model.rows(texts)
        spam = self.model.probabilities(SPAM, mats[SPAM])
        abusive = self.model.probabilities(ABUSIVE, mats[ABUSIVE])
        scores = []
        for i in range(len(texts)):
            reasons: list[dict[str, Any]] = []
            if spam[i] >= self.explain_spam_above:
                reasons += self.model.reasons_for_row(SPAM, mats[SPAM], i, self.reasons_per_head)
            if abusive[i] >= self.explain_abusive_above:
                reasons += self.model.reasons_for_row(ABUSIVE, mats[ABUSIVE], i, self.reasons_per_head)
            scores.append(Score(spam=float(spam[i]), abusive=float(abusive[i]), reasons=reasons))
        return scores


def load_scorer(model_dir: str | os.PathLike[str], version: str | None = None) -> ModelScorer:
    """Load a version (default: the active one) after checking its SHA-256 against the card."""
    model, card = load_model(model_dir, version)
    version = card.version
    # Build the column -> n-gram arrays and the char n-gram index now (~0.3 s) so the first comment does not wait.
    model.warm()
    scorer = ModelScorer(model, card)
    if scorer.reading == STALE:  # it still scores, a little worse: the operator should retrain, not panic
        log.warning("model %s was trained on an older reading of text (normalisation, signals or word matching); "
                    "retrain it with `moderation model train`", version)  # fmt: skip
    return scorer


class ScorerCache:
    """Per-process scorer that loads once and reloads only when ACTIVE changes.

    A promotion is loaded in a background thread while the previous model keeps scoring, so a swap never
    pauses scoring (loading takes ~0.4 s); only the very first load, with nothing to serve yet, waits.
    """

    def __init__(self, model_dir: str | os.PathLike[str], check_interval: float = 1.0) -> None:
        """Remember where to look; nothing is loaded until the first get()."""
        self.model_dir = Path(model_dir)
        self.check_interval = check_interval
        self._scorer: ModelScorer | None = None
        self._stamp: tuple[int, int, int] | None = None
        self._checked = float("-inf")
        self._lock = threading.Lock()
        self._loading: threading.Thread | None = None

    def get(self) -> ModelScorer:
        """Return the active scorer, stat-ing ACTIVE at most once per check_interval."""
        with self._lock:
            now = time.monotonic()
            if self._scorer is not None and now - self._checked < self.check_interval:
                return self._scorer
            self._checked = now
            stamp = active_stamp(self.model_dir)
            if self._scorer is None or stamp != self._stamp:
                self._refresh(stamp)
            assert self._scorer is not None
            return self._scorer

    def _refresh(self, stamp: tuple[int, int, int] | None) -> None:
        """Load the version ACTIVE names if it differs from the one held."""
        version = active_version(self.model_dir)
        if version is None:
            if self._scorer is None:
                raise ModelNotFound(f"no active model in {self.model_dir}")
            # ACTIVE vanished (e.g. mid-deploy): keep serving the last model.
            return
        if self._scorer is not None and self._scorer.version == version:
            self._stamp = stamp
            return
        if self._scorer is None:
            self._scorer, self._stamp = load_scorer(self.model_dir, version), stamp
            log.info("loaded model %s from %s", version, self.model_dir)
            return
        if self._loading is None or not self._loading.is_alive():
            # The old model answers until the new one is ready; the stamp is taken now so it loads once.
            self._stamp = stamp
            self._loading = threading.Thread(target=self._swap, args=(version,), name="model-swap", daemon=True)
            self._loading.start()

    def _swap(self, version: str) -> None:
        """Load VERSION off the scoring path and put it in place (a broken one leaves the last good model)."""
        try:
            scorer = load_scorer(self.model_dir, version)
        except (ModelNotFound, ModelIntegrityError):
            # A broken promotion must not stop scoring: keep the last good
            # model and retry only when ACTIVE changes again.
            log.exception("cannot load model %s; still serving the previous one", version)
            return
        with self._lock:
            log.info("loaded model %s from %s", version, self.model_dir)
            self._scorer = scorer

    def wait_for_swap(self, timeout: float = 30.0) -> None:
        """Block until a promotion being loaded is in place (tests and tools that need the new model now)."""
        loading = self._loading
        if loading is not None:
            loading.join(timeout)

    def invalidate(self) -> None:
        """Forget the loaded model; the next get() loads the active one again."""
        with self._lock:
            self._scorer, self._stamp, self._checked = None, None, float("-inf")
            self._loading = None
