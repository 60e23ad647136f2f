"""Queries behind privacy: finding raw personal data past retention, pseudonymising it, erasing one person."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, bindparam, delete, func, or_, select, update
from sqlalchemy.orm import Session

from moderation.store.models import Comment, DecisionEvent, PrivacyErasure, TrainingLabel

ERASED_CONTENT = "[erased at the author's request]"
"""What an erased comment's content becomes (the row stays so the site's ids and the audit trail still resolve)."""


def raw_personal_data(session: Session, cutoff: datetime, limit: int) -> list[tuple[str, str | None, str | None]]:
    """(id, ip, e-mail) of comments received before ``cutoff`` that still hold raw personal data."""
    stmt = (
        select(Comment.id, Comment.author_ip, Comment.author_email)
        .where(Comment.pseudonymized_at.is_(None), Comment.received_at < cutoff)
        .order_by(Comment.received_at)
        .limit(limit)
    )
    return [(r.id, r.author_ip, r.author_email) for r in session.execute(stmt)]


def store_pseudonyms(session: Session, rows: Sequence[tuple[str, str | None, str | None]]) -> None:
    """Replace IP and e-mail by the given hashes, drop the user agent, and mark the rows done (one executemany)."""
    if not rows:
        return
    table = Comment.__table__
    assert isinstance(table, Table)
    now = datetime.now(UTC)
    session.execute(
        update(table).where(table.c.id == bindparam("b_id")).values(
            author_ip=bindparam("b_ip"), author_email=bindparam("b_email"), user_agent=None, pseudonymized_at=now),
        [{"b_id": cid, "b_ip": ip, "b_email": email} for cid, ip, email in rows],
    )


def comment_ids_by_email(session: Session, forms: Sequence[str]) -> list[str]:
    """Ids of every comment whose author e-mail is one of these forms (raw, case variants, or its hash)."""
    stmt = select(Comment.id).where(or_(Comment.author_email.in_(list(forms)),
                                        func.lower(Comment.author_email).in_([f.lower() for f in forms])))
    return list(session.scalars(stmt))


def _codes_only(reasons: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Reasons without their details: rule details and model n-grams quote the erased text."""
    return [{"code": r.get("code", "")} for r in reasons or []]


def erase_comments(session: Session, ids: Sequence[str]) -> tuple[int, int]:
    """Erase the content and every personal field of these comments, their reasons' quotes and their labels.

    Returns (comments erased, training labels deleted). Statuses, scores and
    the audit trail's who/when stay: they are the service's own records.
    """
    if not ids:
        return 0, 0
    now = datetime.now(UTC)
    id_list = list(ids)
    for comment in session.scalars(select(Comment).where(Comment.id.in_(id_list))):
        comment.content, comment.reasons = ERASED_CONTENT, _codes_only(comment.reasons)
        comment.author_name = comment.author_email = comment.author_url = comment.author_ip = None
        comment.user_agent = None
        comment.erased_at = comment.pseudonymized_at = now
    for event in session.scalars(select(DecisionEvent).where(DecisionEvent.comment_id.in_(id_list))):
        event.reasons = _codes_only(event.reasons)
    labels = session.execute(delete(TrainingLabel).where(TrainingLabel.comment_id.in_(id_list)))
    session.flush()
    return len(id_list), int(labels.rowcount or 0)  # type: ignore[attr-defined]


def record_erasure(session: Session, email_hash: str, comments: int, labels: int) -> PrivacyErasure:
    """Keep proof of an erasure (the keyed hash of the address, never the address)."""
    row = PrivacyErasure(email_hash=email_hash, comments=comments, labels=labels, created_at=datetime.now(UTC))
    session.add(row)
    session.flush()
    return row
