"""Scoring: the Scorer protocol, the loaded model, and the model registry reader.

Registry layout (written by ``training.registry``)::

    MODEL_DIR/<version>/model.joblib   the ModerationModel as a plain pickle (protocol 5;
                                       joblib.load reads it too, pickle.loads is ~10x faster)
    MODEL_DIR/<version>/card.json      version, sha256 of model.joblib, metrics, thresholds, ...
    MODEL_DIR/ACTIVE                   the active version's name

A pickle runs code when loaded, so ``load_scorer`` checks the SHA-256 recorded
in the card before unpickling, and unpickles exactly the bytes it hashed.
Nothing here loads a model at import time.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import pickle
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import joblib

from moderation.features import CommentDoc
from moderation.fingerprint import STALE, reading_status
from moderation.model import ABUSIVE, SPAM, ModerationModel

__all__ = [
    "ACTIVE_FILE",
    "CARD_FILE",
    "MODEL_FILE",
    "ModelIntegrityError",
    "ModelNotFound",
    "ModelScorer",
    "Reason",
    "Score",
    "Scorer",
    "ScorerCache",
    "active_version",
    "load_scorer",
    "read_card",
    "sha256_bytes",
    "valid_version",
]

log = logging.getLogger(__name__)

ACTIVE_FILE = "ACTIVE"
MODEL_FILE = "model.joblib"
CARD_FILE = "card.json"
# Versions become path components: refuse anything that could leave MODEL_DIR.
_VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
DEFAULT_THRESHOLDS = {"approve_below": 0.5, "spam_above": 0.9, "abusive_above": 0.8}


class ModelNotFound(LookupError):
    """No active model, or the requested version does not exist."""


class ModelIntegrityError(RuntimeError):
    """model.joblib does not match the SHA-256 recorded in its card."""


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

    def __init__(self, model: ModerationModel, card: dict[str, Any], reasons_per_head: int = 3) -> None:
        """Wrap a model; the card supplies the version and the thresholds."""
        self.model = model
        self.card = card
        self.version: str = str(card.get("version", "unversioned"))
        self.reading = reading_status(card)  # current / stale / unknown (see moderation.fingerprint)
        self.thresholds: dict[str, float] = {**DEFAULT_THRESHOLDS, **card.get("thresholds", {})}
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


def valid_version(version: str) -> bool:
    """Tell whether a version name is safe to use as a folder name."""
    return bool(_VERSION_RE.match(version)) and version not in {".", ".."}


def sha256_bytes(data: bytes) -> str:
    """Return the lower-case hex SHA-256 of some bytes."""
    return hashlib.sha256(data).hexdigest()


def active_version(model_dir: str | os.PathLike[str]) -> str | None:
    """Return the version named in MODEL_DIR/ACTIVE, or None when there is none."""
    try:
        version = (Path(model_dir) / ACTIVE_FILE).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return version if version and valid_version(version) else None


def read_card(model_dir: str | os.PathLike[str], version: str) -> dict[str, Any]:
    """Read MODEL_DIR/<version>/card.json; ModelNotFound when the version is absent."""
    if not valid_version(version):
        raise ModelNotFound(f"invalid model version {version!r}")
    path = Path(model_dir) / version / CARD_FILE
    try:
        card: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelNotFound(f"model {version!r} not found in {model_dir}") from None
    return card


def load_scorer(model_dir: str | os.PathLike[str], version: str | None = None) -> ModelScorer:
    """Load a version (default: the active one) after checking its SHA-256 against the card."""
    version = version or active_version(model_dir)
    if version is None:
        raise ModelNotFound(f"no active model in {model_dir}")
    card = read_card(model_dir, version)
    try:
        data = (Path(model_dir) / version / MODEL_FILE).read_bytes()
    except FileNotFoundError:
        raise ModelNotFound(f"model {version!r} has no {MODEL_FILE}") from None
    expected = str(card.get("sha256", ""))
    actual = sha256_bytes(data)
    if not expected or actual != expected:
        raise ModelIntegrityError(f"model {version!r}: sha256 {actual} does not match card {expected or '-'}")
    # Unpickle the very bytes that were hashed: no window to swap the file.
    # joblib's pure-Python unpickler needs ~1 s for a large vocabulary dict;
    # the C unpickler needs ~0.1 s, so plain pickles are the default format.
    if card.get("format", "pickle") == "joblib":
        model = joblib.load(io.BytesIO(data))
    else:
        model = pickle.loads(data)  # noqa: S301 - bytes verified against the card above
    if not isinstance(model, ModerationModel):
        raise ModelIntegrityError(f"model {version!r} is a {type(model).__name__}, not a ModerationModel")
    # Build the column -> n-gram arrays and the char n-gram index now (~0.3 s) so the first comment does not wait.
    model.warm()
    scorer = ModelScorer(model, card)
    if scorer.reading == STALE:  # it still scores, a little worse: the operator should retrain, not panic
        log.warning("model %s was trained on an older reading of text (normalisation, signals or word matching); "
                    "retrain it with `moderation model train`", version)  # fmt: skip
    return scorer


def _active_stamp(model_dir: Path) -> tuple[int, int, int] | None:
    """Return (inode, mtime_ns, size) of ACTIVE; changes whenever it is replaced."""
    try:
        st = (model_dir / ACTIVE_FILE).stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


class ScorerCache:
    """Per-process scorer that loads once and reloads only when ACTIVE changes."""

    def __init__(self, model_dir: str | os.PathLike[str], check_interval: float = 1.0) -> None:
        """Remember where to look; nothing is loaded until the first get()."""
        self.model_dir = Path(model_dir)
        self.check_interval = check_interval
        self._scorer: ModelScorer | None = None
        self._stamp: tuple[int, int, int] | None = None
        self._checked = float("-inf")
        self._lock = threading.Lock()

    def get(self) -> ModelScorer:
        """Return the active scorer, stat-ing ACTIVE at most once per check_interval."""
        with self._lock:
            now = time.monotonic()
            if self._scorer is not None and now - self._checked < self.check_interval:
                return self._scorer
            self._checked = now
            stamp = _active_stamp(self.model_dir)
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
        try:
            scorer = load_scorer(self.model_dir, version)
        except (ModelNotFound, ModelIntegrityError):
            if self._scorer is None:
                raise
            # A broken promotion must not stop scoring: keep the last good
            # model and retry only when ACTIVE changes again.
            log.exception("cannot load model %s; still serving %s", version, self._scorer.version)
            self._stamp = stamp
            return
        log.info("loaded model %s from %s", version, self.model_dir)
        self._scorer, self._stamp = scorer, stamp

    def invalidate(self) -> None:
        """Forget the loaded model; the next get() loads the active one again."""
        with self._lock:
            self._scorer, self._stamp, self._checked = None, None, float("-inf")
