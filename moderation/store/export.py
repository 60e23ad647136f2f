"""Reading one site's comments for an export: keyset pages in arrival order, each with its audit trail."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from moderation.store.models import Comment, DecisionEvent


def since_cursor(since: datetime | None) -> str:
    """The smallest service id of a comment received at ``since`` (ids open with their milliseconds in hex)."""
    return f"{int(since.timestamp() * 1000):012x}" if since is not None else ""


def export_page(session: Session, site_id: int, after: str, since: datetime | None,
                limit: int) -> list[tuple[Comment, list[DecisionEvent]]]:
    """Up to ``limit`` of the site's comments with ids after ``after`` (and received at ``since`` or later),
    oldest first, each with its audit events oldest first: two indexed queries per page."""
    stmt = select(Comment).where(Comment.site_id == site_id, Comment.id > max(after, since_cursor(since)))
    if since is not None:
        stmt = stmt.where(Comment.received_at >= since)
    comments = list(session.scalars(stmt.order_by(Comment.id).limit(limit)))
    events: dict[str, list[DecisionEvent]] = defaultdict(list)
    if comments:
        rows = session.scalars(select(DecisionEvent).where(DecisionEvent.comment_id.in_([c.id for c in comments]))
                               .order_by(DecisionEvent.id))
        for event in rows:
            events[event.comment_id].append(event)
    return [(c, events.get(c.id, [])) for c in comments]
