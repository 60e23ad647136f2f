"""Edited comments: the new text replaces the old by compare-and-set on the revision (the decision follows
through ``decisions.record`` in the same transaction)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from moderation.store.comments import COMMENT_FIELDS
from moderation.store.models import Comment, Site

EDITABLE = tuple(f for f in COMMENT_FIELDS if f != "created_at")
"""What an edit replaces: the text and everything sent with it (the date it was first written stays)."""


def locked(session: Session, site_id: int, comment_id: str) -> tuple[Comment, Site] | None:
    """The site's comment and its site, locked for this transaction on PostgreSQL (SQLite writers are serial)."""
    stmt = select(Comment, Site).join(Site, Site.id == Comment.site_id).where(
        Comment.id == comment_id, Comment.site_id == site_id).execution_options(populate_existing=True)
    if session.get_bind().dialect.name != "sqlite":
        stmt = stmt.with_for_update(of=Comment)
    row = session.execute(stmt).first()
    return (row[0], row[1]) if row else None


def replace_text(session: Session, comment_id: str, seen_revision: int, revision: int,
                 item: dict[str, Any]) -> bool:
    """Store the edited fields and the new revision if the comment is still at ``seen_revision``."""
    table = Comment.__table__
    assert isinstance(table, Table)
    done = session.execute(update(table).where(table.c.id == comment_id, table.c.revision == seen_revision)
                           .values(revision=revision, **{k: item.get(k) for k in EDITABLE}))
    return bool(getattr(done, "rowcount", 0))
