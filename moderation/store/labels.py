"""Training labels: what humans said about a text, for the next model to learn from."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from moderation.store.models import TrainingLabel

HEAD_LABELS = {"spam": ("spam", "ham"), "abusive": ("abusive", "clean")}
"""The labels each model head accepts."""


def add_label(session: Session, *, text: str, head: str, label: str, source: str, site_id: int | None = None,
              comment_id: str | None = None, actor: str | None = None) -> TrainingLabel:
    """Record one label, refusing a label the head does not know."""
    if label not in HEAD_LABELS.get(head, ()):
        raise ValueError(f"label {label!r} is not one of {HEAD_LABELS.get(head)} for head {head!r}")
    row = TrainingLabel(text=text, head=head, label=label, source=source, site_id=site_id, comment_id=comment_id,
                        actor=actor, created_at=datetime.now(UTC))
    session.add(row)
    return row


def latest_labels(session: Session, head: str) -> Iterator[tuple[str, str, str]]:
    """(text, label, source) per labelled text, the latest label winning for a comment (or an identical text)."""
    stmt = select(TrainingLabel).where(TrainingLabel.head == head).order_by(TrainingLabel.id)
    latest: dict[str, TrainingLabel] = {}
    for row in session.scalars(stmt):
        latest[row.comment_id or f"text:{row.text}"] = row
    for row in latest.values():
        yield row.text, row.label, row.source
