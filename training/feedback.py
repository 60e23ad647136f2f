"""Learning from moderators: their labels as a training source, and which comments to ask them about next.

Labels come from the ``training_labels`` table (moderator decisions and
Akismet-style submit-spam/submit-ham reports).  ``suggest`` is uncertainty
sampling: among held and recently scored comments nobody has labelled yet,
the ones whose spam probability sits closest to the decision boundary (in
log-odds) teach a linear model the most per label.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from moderation.scoring import ModelScorer
from moderation.store.labels import latest_labels
from moderation.store.models import Comment, TrainingLabel
from training.datasets import LabeledSource

__all__ = ["decision_sources", "suggest"]

_KIND = {"spam": "spam", "abusive": "abuse"}
_POSITIVE = {"spam", "abusive"}
DECISIONS_PREFIX = "decisions"


def decision_sources(session: Session) -> list[LabeledSource]:
    """The latest human label per comment/text, one LabeledSource per head (they override dataset labels)."""
    out = []
    for head, kind in _KIND.items():
        src = LabeledSource(f"{DECISIONS_PREFIX}:{head}", "database:training_labels",
                            "the site's own moderation", True, kind)  # fmt: skip
        for text, label, _source in latest_labels(session, head):
            if text and text.strip():
                src.texts.append(text)
                src.labels.append(int(label in _POSITIVE))
        if src.texts:
            out.append(src)
    return out


def suggest(
    session: Session, scorer: ModelScorer, limit: int = 20, days: int = 7, pool: int = 5000
) -> list[dict[str, Any]]:
    """Held or recent model-decided comments without a human label, most uncertain first."""
    since = datetime.now(UTC) - timedelta(days=days)
    labelled = select(TrainingLabel.comment_id).where(TrainingLabel.comment_id.is_not(None))
    stmt = (
        select(Comment.id, Comment.site_id, Comment.content, Comment.status)
        .where(or_(Comment.status == "held", Comment.received_at >= since))
        .where(Comment.status != "queued")
        .where(or_(Comment.decided_by.is_(None), Comment.decided_by.in_(("model", "rule"))))
        .where(Comment.erased_at.is_(None))
        .where(Comment.id.not_in(labelled))
        .order_by(Comment.received_at.desc())
        .limit(pool)
    )
    rows = session.execute(stmt).all()
    if not rows:
        return []
    mats = scorer.model.features([r.content for r in rows])
    spam = scorer.model.probabilities("spam", mats["spam"])
    abusive = scorer.model.probabilities("abusive", mats["abusive"])
    ranked = []
    for row, s, a in zip(rows, spam, abusive, strict=True):
        # Distance to the nearer boundary (spam head at 0.5, abusive head at its threshold) in log-odds.
        margin = min(abs(_logit(float(s))), abs(_logit(float(a)) - _logit(scorer.thresholds["abusive_above"])))
        ranked.append({"comment_id": row.id, "site_id": row.site_id, "status": row.status,
                       "spam": round(float(s), 4), "abusive": round(float(a), 4),
                       "uncertainty": round(1.0 / (1.0 + margin), 4), "text": row.content[:500]})  # fmt: skip
    ranked.sort(key=lambda r: -r["uncertainty"])
    return ranked[:limit]


def _logit(p: float) -> float:
    """Log-odds of a probability (clipped away from 0 and 1)."""
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))
