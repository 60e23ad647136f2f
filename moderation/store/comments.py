"""Queries about comments: intake inserts, reads scoped to a site, decisions through the state machine."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from moderation.states import Status, check_transition
from moderation.store.models import Comment, DecisionEvent, Site

COMMENT_FIELDS = (
    "content", "author_name", "author_email", "author_url", "author_ip", "user_agent",
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
            **{k: item.get(k) for k in COMMENT_FIELDS}}


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


@dataclass
class Decision:
    """A status change to apply to one comment, with what justifies it."""

    comment_id: str
    site_id: int
    status: Status
    actor: str
    reasons: list[dict[str, Any]] = field(default_factory=list)
    spam: float | None = None
    abusive: float | None = None
    model_version: str | None = None
    note: str | None = None


def apply_decisions(session: Session, decisions: Sequence[Decision], expected: Status) -> list[Decision]:
    """Move comments from ``expected`` to their decisions' statuses, with audit events; returns those applied.

    Only rows still in ``expected`` are touched (locked first on PostgreSQL, and
    SQLite's BEGIN IMMEDIATE already holds the single write lock), and the
    UPDATE repeats the condition, so two workers or a retried job can never
    decide one comment twice. Bulk statements: one round trip per table.
    """
    for decision in decisions:
        check_transition(expected, decision.status)
    wanted = {d.comment_id for d in decisions}
    if not wanted:
        return []
    stmt = select(Comment.id).where(Comment.id.in_(wanted), Comment.status == expected.value)
    if session.get_bind().dialect.name != "sqlite":
        stmt = stmt.with_for_update(skip_locked=True)
    live = set(session.scalars(stmt))
    todo, seen = [], set()
    for decision in decisions:
        if decision.comment_id in live and decision.comment_id not in seen:
            todo.append(decision)
            seen.add(decision.comment_id)
    if todo:
        _write(session, todo, expected)
    return todo


def _write(session: Session, decisions: list[Decision], expected: Status) -> None:
    """The UPDATE (executemany) and the audit INSERT for decisions known to be applicable."""
    now = datetime.now(UTC)
    table = Comment.__table__
    assert isinstance(table, Table)
    session.execute(
        update(table).where(table.c.id == bindparam("b_id"), table.c.status == expected.value).values(
            status=bindparam("b_status"), decided_by=bindparam("b_actor"), decided_at=bindparam("b_now"),
            reasons=bindparam("b_reasons"), spam_score=func.coalesce(bindparam("b_spam"), table.c.spam_score),
            abusive_score=func.coalesce(bindparam("b_abusive"), table.c.abusive_score),
            model_version=func.coalesce(bindparam("b_model"), table.c.model_version)),
        [{"b_id": d.comment_id, "b_status": d.status.value, "b_actor": d.actor, "b_now": now, "b_reasons": d.reasons,
          "b_spam": d.spam, "b_abusive": d.abusive, "b_model": d.model_version} for d in decisions],
    )
    session.execute(insert(DecisionEvent), [
        {"comment_id": d.comment_id, "site_id": d.site_id, "actor": d.actor, "from_status": expected.value,
         "to_status": d.status.value, "reasons": d.reasons, "note": d.note, "created_at": now} for d in decisions
    ])


def apply_decision(session: Session, decision: Decision, expected: Status) -> bool:
    """Apply one decision (see :func:`apply_decisions`); False when the comment was no longer ``expected``."""
    return bool(apply_decisions(session, [decision], expected))


def decision_events(session: Session, comment_id: str) -> list[DecisionEvent]:
    """A comment's audit trail, oldest first."""
    stmt = select(DecisionEvent).where(DecisionEvent.comment_id == comment_id).order_by(DecisionEvent.id)
    return list(session.scalars(stmt))


def _iso(moment: datetime | None) -> str | None:
    """ISO-8601 in UTC with a Z, or None."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


def public_view(comment: Comment) -> dict[str, Any]:
    """The comment as the site API and callbacks show it (contract: 'Reading a decision')."""
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
    }
