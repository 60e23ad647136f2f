"""Queries about comments: intake inserts, reads scoped to a site, the public view (decisions: ``decisions.py``)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from moderation.decide.states import Status
from moderation.store.models import Comment, DecisionEvent, Site

COMMENT_FIELDS = (
    "content", "author_name", "author_email", "author_url", "author_ip", "author_verified", "author_user_id",
    "user_agent",
    "post_id", "post_url", "post_title", "parent_id", "lang", "created_at",
)
"""Columns an intake item may fill besides the external id."""


def new_comment_id() -> str:
    """A time-ordered service id: 12 hex digits of milliseconds + 16 random hex digits."""
    return f"{int(time.time() * 1000):012x}{os.urandom(8).hex()}"


def existing_by_external(session: Session, site_id: int, external_ids: Iterable[str]) -> dict[str, Comment]:
    """The site's comments among these external ids, keyed by external id."""
    ids = list(set(external_ids))
    found: dict[str, Comment] = {}
    for start in range(0, len(ids), 500):
        rows = session.scalars(
            select(Comment).where(Comment.site_id == site_id, Comment.external_id.in_(ids[start : start + 500]))
        )
        found.update({c.external_id: c for c in rows})
    return found


def new_row(site_id: int, item: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """The column values of a new, queued comment."""
    return {"id": new_comment_id(), "site_id": site_id, "external_id": item["external_id"],
            "received_at": now or datetime.now(UTC), "status": Status.QUEUED.value,
            "revision": item.get("revision") or 0, **{k: item.get(k) for k in COMMENT_FIELDS}}


def insert_comments(session: Session, site_id: int, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Insert new comments as queued and return their rows (one bulk INSERT)."""
    now = datetime.now(UTC)
    rows = [new_row(site_id, item, now) for item in items]
    if rows:
        session.execute(insert(Comment), rows)
    return rows


def get_for_site(session: Session, site_id: int, comment_id: str) -> Comment | None:
    """A comment by service id, only if it belongs to this site."""
    return session.scalar(select(Comment).where(Comment.id == comment_id, Comment.site_id == site_id))


def get_by_external(session: Session, site_id: int, external_id: str) -> Comment | None:
    """A comment by the site's own id."""
    return session.scalar(select(Comment).where(Comment.site_id == site_id, Comment.external_id == external_id))


def queued_comments(session: Session, ids: Sequence[str]) -> list[tuple[Comment, Site]]:
    """The still-queued comments among these ids, each with its site."""
    if not ids:
        return []
    stmt = (
        select(Comment, Site)
        .join(Site, Site.id == Comment.site_id)
        .where(Comment.id.in_(list(ids)), Comment.status == Status.QUEUED.value)
    )
    return [(c, s) for c, s in session.execute(stmt)]


def stale_queued_ids(session: Session, older_than: timedelta, limit: int = 10_000) -> list[str]:
    """Ids of comments queued longer than the bound (the sweeper re-enqueues them)."""
    cutoff = datetime.now(UTC) - older_than
    stmt = (
        select(Comment.id)
        .where(Comment.status == Status.QUEUED.value, Comment.received_at < cutoff)
        .order_by(Comment.received_at)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def decision_events(session: Session, comment_id: str) -> list[DecisionEvent]:
    """A comment's audit trail, oldest first."""
    stmt = select(DecisionEvent).where(DecisionEvent.comment_id == comment_id).order_by(DecisionEvent.id)
    return list(session.scalars(stmt))


def _iso(moment: datetime | None) -> str | None:
    """ISO-8601 in UTC with a Z, or None."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


def public_view(comment: Comment, mode: str | None = None) -> dict[str, Any]:
    """The comment as the site API and callbacks show it (contract: 'Reading a decision').

    ``mode`` is the site's (enforce or shadow): in shadow the site only watches our decisions, never applies them.
    """
    scores = None
    if comment.spam_score is not None:
        scores = {"spam": round(comment.spam_score, 6), "abusive": round(comment.abusive_score or 0.0, 6)}
    return {
        "id": comment.id,
        "external_id": comment.external_id,
        "status": comment.status,
        "scores": scores,
        "reasons": comment.reasons or [],
        "model_version": comment.model_version,
        "decided_by": comment.decided_by,
        "decided_at": _iso(comment.decided_at),
        "received_at": _iso(comment.received_at),
        "revision": comment.revision or 0,
        **({"mode": mode} if mode else {}),
    }
