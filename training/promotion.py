"""Promotion with a quality gate and an audit trail; rollback promotes the previously active version.

The gate scores the candidate and the active model on the same labelled
evaluation sets and compares spam recall at the target false-positive rate;
a candidate that is worse by more than ``tolerance`` is refused unless forced.
Every promotion (forced or not, and every rollback) appends one JSON line to
``MODEL_DIR/promotions.jsonl``.
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from moderation.model.registry import ACTIVE_FILE, active_version, promote
from moderation.model.scoring import ModelScorer, load_scorer
from moderation.model.site_models import AUDIT_FILE, read_audit
from moderation.reading.features import CommentDoc
from training.datasets import load_sources
from training.metrics import recall_at_fpr

__all__ = ["GateRefused", "append_audit", "audit_log", "gated_promote", "previous_version", "recall_of",
           "record_activation", "rollback"]




class GateRefused(RuntimeError):
    """The candidate is worse than the active model on the evaluation sets."""


@dataclass(frozen=True)
class GateResult:
    """The comparison behind a promotion."""

    target_fpr: float
    candidate: float | None
    active: float | None
    n: int
    basis: str

    def as_dict(self) -> dict[str, Any]:
        """JSON form for the audit line."""
        return {"target_fpr": self.target_fpr, "candidate_recall": self.candidate,
                "active_recall": self.active, "n": self.n, "basis": self.basis}  # fmt: skip


def recall_of(scorer: ModelScorer, docs: list[CommentDoc], y: np.ndarray, target_fpr: float) -> float:
    """Spam recall of a model at the target FPR on labelled comments (text plus author fields)."""
    p = np.concatenate(
        [scorer.model.probabilities("spam", scorer.model.features(docs[i : i + 512])["spam"])
         for i in range(0, len(docs), 512)]
    )  # fmt: skip
    return round(recall_at_fpr(y, p, target_fpr), 4)


def compare(
    model_dir: Path, candidate: str, data: Sequence[str | os.PathLike[str]], target_fpr: float
) -> GateResult:
    """Recall at the target FPR of candidate vs active, on the evaluation sets (or their cards' held-out figures)."""
    current = active_version(model_dir)
    cand = load_scorer(model_dir, candidate)  # also checks the SHA-256
    if current is None or current == candidate:
        return GateResult(target_fpr, None, None, 0, "no other active model")
    active = load_scorer(model_dir, current)
    if not data:
        return _from_cards(cand.card.as_dict(), active.card.as_dict())
    # Only scored here, never trained on: evaluation-only sets are the fairest judges.
    sources = [s for s in load_sources(list(data), allow_noncommercial=True, evaluation=True) if s.kind == "spam"]
    docs = [d for s in sources for d in s.docs()]
    y = np.asarray([lbl for s in sources for lbl in s.labels], dtype=np.int8)
    if len(set(y.tolist())) < 2:
        raise ValueError("evaluation sets need both spam and ham rows")
    return GateResult(target_fpr, recall_of(cand, docs, y, target_fpr), recall_of(active, docs, y, target_fpr),
                      len(docs), "evaluation sets: " + ", ".join(str(d) for d in data))  # fmt: skip


def _from_cards(candidate: dict[str, Any], active: dict[str, Any]) -> GateResult:
    """Without evaluation sets, the cards' own figures: the sources held out whole where both cards held out the
    same ones (what a new site will see), else each card's in-source held-out split."""
    key = "recall_at_fpr_1pct"
    held = [c.get("cross_source", {}) for c in (candidate, active)]
    if held[0].get("held_out") and held[0].get("held_out") == held[1].get("held_out"):
        c, a = (h["rates"]["macro"].get(key) for h in held)
        return GateResult(0.01, c, a, 0, "model cards (sources held out whole: " + ", ".join(held[0]["held_out"]) + ")")
    c = candidate.get("metrics", {}).get("spam", {}).get(key)
    a = active.get("metrics", {}).get("spam", {}).get(key)
    return GateResult(0.01, c, a, 0, "model cards (each model's own held-out split)")


def gated_promote(
    model_dir: str | os.PathLike[str],
    version: str,
    data: Sequence[str | os.PathLike[str]] = (),
    target_fpr: float = 0.01,
    tolerance: float = 0.005,
    force: bool = False,
) -> dict[str, Any]:
    """Promote VERSION unless it is worse than the active model (by more than tolerance); audit either way."""
    root = Path(model_dir)
    previous = active_version(root)
    gate = compare(root, version, data, target_fpr)
    worse = gate.candidate is not None and gate.active is not None and gate.candidate < gate.active - tolerance
    if worse and not force:
        _audit(root, "refused", version, previous, gate, force)
        raise GateRefused(f"{version} recalls {gate.candidate} at FPR {target_fpr} against {gate.active} for the "
                          f"active {previous} ({gate.basis}); use --force to promote anyway")  # fmt: skip
    promote(root, version)
    return _audit(root, "promoted", version, previous, gate, force)


def record_activation(model_dir: str | os.PathLike[str], version: str, previous: str | None) -> dict[str, Any]:
    """Audit a version that ``model train``/``ensure`` activated: the event a promote writes (no gate was run)."""
    return _audit(Path(model_dir), "promoted", version, previous, None, False)


def rollback(model_dir: str | os.PathLike[str], to_shared: bool = False) -> dict[str, Any]:
    """Promote the version that was active before the current one (no gate: it served before).

    ``to_shared``: MODEL_DIR is a site's registry, whose first model replaced the shared one; rolling that
    back leaves the site with no model of its own, so the shared model scores it again.
    """
    root = Path(model_dir)
    current = active_version(root)
    target = previous_version(root)
    if target is None and to_shared and current is not None:
        (root / ACTIVE_FILE).unlink()
        return _audit(root, "rollback", None, current, None, False)
    if target is None:
        raise ValueError("no earlier promotion to roll back to")
    promote(root, target)
    return _audit(root, "rollback", target, current, None, False)


def previous_version(model_dir: Path) -> str | None:
    """The version active before the current one, according to the audit log."""
    current = active_version(model_dir)
    for entry in reversed(audit_log(model_dir)):
        if entry["action"] in ("promoted", "rollback") and entry["version"] == current:
            return entry.get("previous")
    return None


def audit_log(model_dir: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every audit line, oldest first (one reader of the trail, the service's)."""
    return read_audit(model_dir)


def _audit(root: Path, action: str, version: str | None, previous: str | None, gate: GateResult | None,
           force: bool) -> dict[str, Any]:  # fmt: skip
    """Append one audit line (fsynced) and return it."""
    return append_audit(root, action, version, previous, force=force, extra={"gate": gate.as_dict() if gate else None})


def append_audit(root: Path, action: str, version: str | None, previous: str | None, *, force: bool = False,
                 extra: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    """Append one line to ROOT/promotions.jsonl (fsynced): who did what to which version, with ``extra`` fields."""
    try:
        actor = getpass.getuser()
    except (KeyError, OSError):
        actor = "unknown"
    entry = {"at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "action": action, "version": version,
             "previous": previous, "forced": force, "actor": actor, "gate": None, **(extra or {})}
    root.mkdir(parents=True, exist_ok=True)
    with (root / AUDIT_FILE).open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, sort_keys=True) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return entry
