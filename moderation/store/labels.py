"""Training labels: what humans said about a text, for the next model to learn from."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from moderation.store.models import Comment, TrainingLabel

HEAD_LABELS = {"spam": ("spam", "ham"), "abusive": ("abusive", "clean")}
"""The labels each model head accepts."""


class LabelAuthor(NamedTuple):
    """The author fields of a labelled comment as its row holds them now ('' where unknown or erased)."""

    name: str = ""
    url: str = ""
    email: str = ""


class LatestLabel(NamedTuple):
    """One labelled text: what a human said about it, and who wrote it."""

    text: str
    label: str
    source: str
    author: LabelAuthor = LabelAuthor()


def add_label(session: Session, *, text: str, head: str, label: str, source: str, site_id: int | None = None,
              comment_id: str | None = None, actor: str | None = None) -> TrainingLabel:
    """Record one label, refusing a label the head does not know."""
    if label not in HEAD_LABELS.get(head, ()):
        raise ValueError(f"label {label!r} is not one of {HEAD_LABELS.get(head)} for head {head!r}")
    row = TrainingLabel(text=text, head=head, label=label, source=source, site_id=site_id, comment_id=comment_id,
                        actor=actor, created_at=datetime.now(UTC))
    session.add(row)
    return row


def latest_labels(session: Session, head: str) -> Iterator[LatestLabel]:
    """The latest label per comment (or identical text), with the author fields of the comment's row.

    Author fields are read from ``comments`` at the time of asking, never copied onto labels, so
    pseudonymisation of the comment applies to its labels too; an erased comment's labels are skipped.
    """
    stmt = (select(TrainingLabel, Comment.author_name, Comment.author_url, Comment.author_email, Comment.erased_at)
            .outerjoin(Comment, Comment.id == TrainingLabel.comment_id)
            .where(TrainingLabel.head == head).order_by(TrainingLabel.id))
    latest: dict[str, LatestLabel] = {}
    for label, name, url, email, erased_at in session.execute(stmt):
        if erased_at is not None:  # its text is a placeholder now: nothing left to learn from
            continue
        author = LabelAuthor(name or "", url or "", email or "")
        latest[label.comment_id or f"text:{label.text}"] = LatestLabel(label.text, label.label, label.source, author)
    yield from latest.values()
