"""Reading a site's backlog to score again: the comments the service decided itself (never a person's), in pages."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from moderation.decide.rescoring import MACHINE_ACTORS
from moderation.store.export import since_cursor
from moderation.store.models import Comment, DecisionEvent

PERSON = "moderator:%"
"""How a person's actions are named in the audit trail (a moderator, or the site through Akismet)."""


def _touched_by_person() -> ColumnElement[bool]:
    """A person acted on the comment at some point (even confirming it as it was)."""
    return exists().where(DecisionEvent.comment_id == Comment.id, DecisionEvent.actor.like(PERSON))


def _scope(site_id: int, statuses: Collection[str], since: datetime | None) -> list[ColumnElement[bool]]:
    """The site's comments in these statuses (received at ``since`` or later)."""
    where = [Comment.site_id == site_id, Comment.status.in_(list(statuses))]
    if since is not None:
        where += [Comment.id > since_cursor(since), Comment.received_at >= since]
    return where


def machine_page(session: Session, site_id: int, statuses: Collection[str], since: datetime | None, after: str,
                 limit: int) -> list[Comment]:
    """Up to ``limit`` comments after id ``after`` that the model or a rule decided and no person ever touched."""
    stmt = (select(Comment).where(*_scope(site_id, statuses, since), Comment.id > after,
                                  Comment.decided_by.in_(list(MACHINE_ACTORS)), ~_touched_by_person())
            .order_by(Comment.id).limit(limit))
    return list(session.scalars(stmt))


def count_person_decided(session: Session, site_id: int, statuses: Collection[str], since: datetime | None) -> int:
    """How many comments in scope a person decided or acted on (a backlog re-score leaves them alone)."""
    stmt = select(func.count()).select_from(Comment).where(
        *_scope(site_id, statuses, since),
        Comment.decided_by.not_in(list(MACHINE_ACTORS)) | _touched_by_person())
    return int(session.scalar(stmt) or 0)


def unchanged(session: Session, seen: Sequence[tuple[str, str, int]]) -> set[str]:
    """Of (id, status, revision) as scored, the ids still standing so and still decided by the service (locked
    on PostgreSQL until the transaction ends; SQLite writers are serial)."""
    if not seen:
        return set()
    stmt = select(Comment.id, Comment.status, Comment.revision, Comment.decided_by).where(
        Comment.id.in_([s[0] for s in seen]))
    if session.get_bind().dialect.name != "sqlite":
        stmt = stmt.with_for_update()
    now = {cid: (status, revision or 0, by) for cid, status, revision, by in session.execute(stmt)}
    return {cid for cid, status, revision in seen
            if now.get(cid, ("", -1, None))[:2] == (status, revision) and now[cid][2] in MACHINE_ACTORS}
