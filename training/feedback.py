"""Learning from moderators: their labels as a training source, and which comments to ask them about next.

Labels come from the ``training_labels`` table (moderator decisions and
Akismet-style submit-spam/submit-ham reports), each with the author fields
its comment holds now, and comments are scored with their author fields as
the workers score them.  ``suggest`` is uncertainty
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

from moderation.model.scoring import ModelScorer
from moderation.privacy import is_pseudonym
from moderation.reading.features import CommentDoc
from moderation.store.labels import latest_labels
from moderation.store.models import Comment, TrainingLabel
from training.datasets import LabeledSource

__all__ = ["decision_sources", "readable_author", "suggest"]

_KIND = {"spam": "spam", "abusive": "abuse"}
_POSITIVE = {"spam", "abusive"}
DECISIONS_PREFIX = "decisions"


def decision_sources(session: Session) -> list[LabeledSource]:
    """The latest human label per comment/text, one LabeledSource per head (they override dataset labels)."""
    out = []
    for head, kind in _KIND.items():
        src = LabeledSource(f"{DECISIONS_PREFIX}:{head}", "database:training_labels",
                            "the site's own moderation", True, kind)  # fmt: skip
        for item in latest_labels(session, head):
            if item.text and item.text.strip():
                src.texts.append(item.text)
                src.labels.append(int(item.label in _POSITIVE))
                src.authors.append(readable_author(*item.author))
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
        select(Comment.id, Comment.site_id, Comment.content, Comment.status, Comment.author_name, Comment.author_url,
               Comment.author_email)
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
    docs = [CommentDoc(r.content, *readable_author(r.author_name, r.author_url, r.author_email)) for r in rows]
    mats = scorer.model.features(docs)
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


def readable_author(name: str | None, url: str | None, email: str | None) -> tuple[str, str, str]:
    """(name, url, e-mail) as the model may read them; a pseudonymised e-mail (keyed hash, no domain) reads as none."""
    return name or "", url or "", "" if is_pseudonym(email) else email or ""


def _logit(p: float) -> float:
    """Log-odds of a probability (clipped away from 0 and 1)."""
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))
