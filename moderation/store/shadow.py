"""Shadow mode: a site's own verdicts on its comments, and how our decisions compare with them.

A verdict never moves a comment, never makes an audit event and is not one of our decisions; the comparison
(:func:`shadow_report`) reads our current status beside the site's latest verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from moderation.decide.states import Status
from moderation.store.models import Comment, SiteVerdict

VERDICTS = ("approved", "held", "spam", "rejected")
"""What a site may report it did with a comment (WordPress: approve, hold, spam, trash)."""

BUCKETS = ("agree", "caught_they_published", "held_they_published", "published_they_removed")
"""How one comparison falls: both published or both kept off; we would have marked spam (or rejected) what they
published; we would have held what they published; we would have published what they kept off."""

EXAMPLE_CHARS = 280
"""How much of an example's text a report carries."""


@dataclass(frozen=True)
class Verdict:
    """A site's verdict as stored."""

    comment_id: str
    verdict: str
    source: str | None
    reported_at: datetime


def record_verdict(session: Session, comment: Comment, verdict: str, source: str | None,
                   now: datetime | None = None) -> Verdict:
    """Store (or replace: the latest is their final word) a site's verdict on one of its comments."""
    if verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {', '.join(VERDICTS)}")
    moment = now or datetime.now(UTC)
    row = session.get(SiteVerdict, comment.id)
    if row is None:
        fresh = SiteVerdict(comment_id=comment.id, site_id=comment.site_id, verdict=verdict, source=source,
                            reported_at=moment)
        try:
            with session.begin_nested():
                session.add(fresh)
            row = fresh
        except IntegrityError:  # a concurrent report of the same comment won the insert: overwrite it
            row = session.get(SiteVerdict, comment.id, populate_existing=True)
    if row is None:
        raise RuntimeError("the site's verdict could be neither inserted nor read back")
    row.verdict, row.source, row.reported_at = verdict, source, moment
    session.flush()
    return Verdict(row.comment_id, row.verdict, row.source, row.reported_at)


def bucket(ours: str, theirs: str) -> str:
    """Where one (our status, their verdict) pair falls (see BUCKETS)."""
    we_publish, they_publish = ours == Status.APPROVED.value, theirs == "approved"
    if we_publish == they_publish:
        return "agree"
    if they_publish:
        return "held_they_published" if ours == Status.HELD.value else "caught_they_published"
    return "published_they_removed"


@dataclass
class ShadowReport:
    """The comparison of one site's comments: counts per bucket, a matrix, examples, and what is not compared."""

    site: str
    since: str | None
    compared: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BUCKETS, 0))
    matrix: dict[str, dict[str, int]] = field(default_factory=dict)
    """Our status → their verdict → comments."""
    examples: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {b: [] for b in BUCKETS[1:]})
    without_verdict: int = 0
    """Comments we decided that the site has not reported on (yet)."""

    @property
    def agreement(self) -> float | None:
        """Share of compared comments on which we agree (None when nothing is compared)."""
        return self.counts["agree"] / self.compared if self.compared else None

    def as_dict(self) -> dict[str, Any]:
        """JSON-able."""
        return {"site": self.site, "since": self.since, "compared": self.compared,
                "agreement": round(self.agreement, 4) if self.agreement is not None else None,
                "counts": self.counts, "matrix": self.matrix, "without_verdict": self.without_verdict,
                "examples": self.examples}


def shadow_report(session: Session, site_id: int, slug: str, since: datetime | None = None,
                  examples: int = 5) -> ShadowReport:
    """Compare our decisions on a site's comments (received since ``since``) with the site's own verdicts."""
    report = ShadowReport(slug, since.isoformat() if since else None)
    scope = [Comment.site_id == site_id, Comment.status != Status.QUEUED.value]
    if since is not None:
        scope.append(Comment.received_at >= since)
    pairs = session.execute(select(Comment.status, SiteVerdict.verdict, func.count())
                            .join(SiteVerdict, SiteVerdict.comment_id == Comment.id)
                            .where(*scope).group_by(Comment.status, SiteVerdict.verdict))
    for ours, theirs, n in pairs:
        report.matrix.setdefault(ours, {})[theirs] = int(n)
        report.counts[bucket(ours, theirs)] += int(n)
        report.compared += int(n)
    decided = session.scalar(select(func.count()).select_from(Comment).where(*scope)) or 0
    report.without_verdict = int(decided) - report.compared
    for name in BUCKETS[1:]:
        report.examples[name] = _examples(session, scope, name, examples)
    return report


_BUCKET_FILTER: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "caught_they_published": ((Status.SPAM.value, Status.REJECTED.value), ("approved",)),
    "held_they_published": ((Status.HELD.value,), ("approved",)),
    "published_they_removed": ((Status.APPROVED.value,), ("held", "spam", "rejected")),
}


def _examples(session: Session, scope: list[Any], name: str, limit: int) -> list[dict[str, Any]]:
    """The most confident examples of one disagreement (highest spam score first for ours, lowest for theirs)."""
    ours, theirs = _BUCKET_FILTER[name]
    order = Comment.spam_score.asc() if name == "published_they_removed" else Comment.spam_score.desc()
    rows = session.execute(select(Comment, SiteVerdict).join(SiteVerdict, SiteVerdict.comment_id == Comment.id)
                           .where(*scope, Comment.status.in_(ours), SiteVerdict.verdict.in_(theirs))
                           .order_by(order, Comment.id).limit(limit))
    return [{"id": c.id, "external_id": c.external_id, "ours": c.status, "theirs": v.verdict, "source": v.source,
             "spam": round(c.spam_score, 4) if c.spam_score is not None else None,
             "reasons": [r.get("code") for r in (c.reasons or [])][:3],
             "content": c.content[:EXAMPLE_CHARS]} for c, v in rows]
