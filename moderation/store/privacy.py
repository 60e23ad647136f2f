"""Queries behind privacy: finding raw personal data past retention, pseudonymising it, erasing one person."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, bindparam, delete, func, or_, select, update
from sqlalchemy.orm import Session

from moderation.store.models import (
    CallbackDelivery,
    Comment,
    DecisionEvent,
    Flag,
    ListEntry,
    PrivacyErasure,
    ReviewAction,
    TrainingLabel,
)

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
        comment.user_agent = comment.author_user_id = None
        comment.erased_at = comment.pseudonymized_at = now
    for event in session.scalars(select(DecisionEvent).where(DecisionEvent.comment_id.in_(id_list))):
        event.reasons = _codes_only(event.reasons)
    _erase_copies(session, set(id_list))
    labels = session.execute(delete(TrainingLabel).where(TrainingLabel.comment_id.in_(id_list)))
    session.flush()
    return len(id_list), int(labels.rowcount or 0)  # type: ignore[attr-defined]


def _erase_copies(session: Session, ids: set[str]) -> None:
    """The copies of erased comments kept elsewhere: reasons remembered for undo, callback payloads (sent or
    owed: they quote reasons), and the notes readers attached to their reports."""
    earliest = session.scalar(select(func.min(Comment.received_at)).where(Comment.id.in_(list(ids))))
    actions = select(ReviewAction)
    if earliest is not None:  # an action on a comment never predates the comment
        actions = actions.where(ReviewAction.created_at >= earliest)
    for action in session.scalars(actions):
        if any(change[0] in ids for change in action.changes):
            action.changes = [[c[0], c[1], c[2], _codes_only(c[3])] if c[0] in ids else c for c in action.changes]
    for delivery in session.scalars(select(CallbackDelivery).where(CallbackDelivery.comment_id.in_(list(ids)))):
        payload = json.loads(delivery.payload)
        if isinstance(payload.get("comment"), dict):
            payload["comment"]["reasons"] = _codes_only(payload["comment"].get("reasons"))
        delivery.payload = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    session.execute(update(Flag).where(Flag.comment_id.in_(list(ids))).values(note=None))


def hash_listed_emails(session: Session, forms: Sequence[str], hashed: str) -> int:
    """Replace allow/deny entries holding the erased address by its keyed hash (rules still match it)."""
    wanted = {f.lower() for f in forms if f != hashed}
    changed = 0
    for entry in session.scalars(select(ListEntry).where(ListEntry.kind == "email")):
        if entry.value.lower() in wanted:
            duplicate = session.scalar(select(ListEntry.id).where(
                ListEntry.site_id.is_(None) if entry.site_id is None else ListEntry.site_id == entry.site_id,
                ListEntry.action == entry.action, ListEntry.kind == "email", ListEntry.value == hashed))
            if duplicate is None:
                entry.value = hashed
            else:
                session.delete(entry)
            changed += 1
    return changed


def record_erasure(session: Session, email_hash: str, comments: int, labels: int) -> PrivacyErasure:
    """Keep proof of an erasure (the keyed hash of the address, never the address)."""
    row = PrivacyErasure(email_hash=email_hash, comments=comments, labels=labels, created_at=datetime.now(UTC))
    session.add(row)
    session.flush()
    return row
