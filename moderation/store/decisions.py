"""The one write path of a decision: status (compare-and-set), audit event, training labels, callback owed.

Workers, the Akismet API, console actions and undo all call :func:`record`
inside their transaction and hand the returned delivery ids to the queue
after the commit (``moderation.delivery.queueing.hand_over``). Nothing else
writes a status or a ``decision_events`` row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from moderation.decide.states import Decision, Status, check_transition
from moderation.store import callbacks as outbox
from moderation.store.comments import public_view
from moderation.store.labels import add_label
from moderation.store.models import Comment, DecisionEvent, Site


class Event(StrEnum):
    """The callback events a decision sends (see the contract, 'Callbacks')."""

    DECIDED = "comment.decided"
    """A comment left ``queued``: the service's own decision (worker or Akismet comment-check)."""

    MODERATED = "comment.moderated"
    """A decided comment changed: a moderator, an undo, the site through Akismet, or a new scoring (an edit of the
    text, a backlog re-scored with ``moderation rescore --apply``)."""


@dataclass
class Recorded:
    """What :func:`record` wrote: the decisions applied, the label rows made and the callbacks owed."""

    applied: list[Decision] = field(default_factory=list)
    label_ids: list[int] = field(default_factory=list)
    delivery_ids: list[int] = field(default_factory=list)


def callback_payload(event: Event, comment: Comment, mode: str = "enforce") -> dict[str, Any]:
    """The body of a callback: the event and the comment as it now stands, with the site's mode then."""
    return {"event": event.value, "comment": public_view(comment, mode)}


def record(session: Session, decisions: Sequence[Decision], expected: Status, *, event: Event | None,
           label_source: str = "moderator", new_rows: Sequence[dict[str, Any]] = (),
           refresh: bool = False) -> Recorded:
    """Apply decisions to comments still in ``expected``: status, audit event, labels, callbacks owed.

    ``new_rows`` are comments stored right now, already decided (Akismet's
    comment-check): they are inserted with their decision instead of updated.
    Existing rows change by compare-and-set on ``expected`` (the status the
    caller saw), so two workers, a retried job or two moderators can never
    apply two decisions to one comment; the ones that lost are left out of
    ``applied``. ``event`` None records no callback.

    ``refresh``: the comment was scored again (an edit): a decision keeping the status is allowed from any
    status and replaces the row's scores, reasons and decider; callbacks are owed only where the status moved.
    """
    for decision in decisions:
        if not (refresh and decision.status == expected):
            check_transition(expected, decision.status)
    now = datetime.now(UTC)
    if new_rows:
        applied = list(decisions)
        comments = _insert_decided(session, new_rows, applied, now)
    else:
        applied = _compare_and_set(session, decisions, expected, now, refresh)
        comments = _reread(session, applied) if applied and (event or _teaches(applied)) else {}
    if not applied:
        return Recorded()
    _audit(session, applied, expected, now)
    out = Recorded(applied, label_ids=_labels(session, applied, comments, label_source))
    if event is not None:
        owed = [d for d in applied if d.status != expected] if refresh else applied
        out.delivery_ids = _callbacks(session, owed, comments, event) if owed else []
    return out


def _teaches(decisions: Sequence[Decision]) -> bool:
    """Whether any decision carries training labels."""
    return any(d.labels for d in decisions)


def _compare_and_set(session: Session, decisions: Sequence[Decision], expected: Status,
                     now: datetime, refresh: bool = False) -> list[Decision]:
    """Lock the rows still in ``expected`` and update them (one decision per comment); returns those applied.

    Locked first on PostgreSQL (SQLite's BEGIN IMMEDIATE already holds the single
    write lock), and the UPDATE repeats the condition. A decision that keeps the
    status (a moderator confirming a published comment) only writes its event, unless ``refresh``.
    """
    wanted = {d.comment_id for d in decisions}
    if not wanted:
        return []
    stmt = select(Comment.id).where(Comment.id.in_(wanted), Comment.status == expected.value)
    if session.get_bind().dialect.name != "sqlite":
        stmt = stmt.with_for_update(skip_locked=True)
    live, seen, todo = set(session.scalars(stmt)), set(), []
    for decision in decisions:
        if decision.comment_id in live and decision.comment_id not in seen:
            todo.append(decision)
            seen.add(decision.comment_id)
    moving = [d for d in todo if d.status != expected or refresh]
    if moving:
        _update(session, moving, expected, now)
    return todo


def _update(session: Session, decisions: list[Decision], expected: Status, now: datetime) -> None:
    """One UPDATE (executemany) moving rows that are still in ``expected``."""
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


def _insert_decided(session: Session, rows: Sequence[dict[str, Any]], decisions: Sequence[Decision],
                    now: datetime) -> dict[str, Comment]:
    """Insert new comments already carrying their decisions; returns them as (detached) rows by id."""
    by_id = {d.comment_id: d for d in decisions}
    stored = []
    for row in rows:
        d = by_id[row["id"]]
        stored.append({**row, "status": d.status.value, "decided_by": d.actor, "decided_at": now,
                       "reasons": d.reasons, "spam_score": d.spam, "abusive_score": d.abusive,
                       "model_version": d.model_version})
    session.execute(insert(Comment), stored)
    return {row["id"]: Comment(**row) for row in stored}


def _reread(session: Session, decisions: Sequence[Decision]) -> dict[str, Comment]:
    """The applied comments as they now stand (labels read their text, callbacks their view)."""
    ids = [d.comment_id for d in decisions]
    rows = session.scalars(select(Comment).where(Comment.id.in_(ids)).execution_options(populate_existing=True))
    return {c.id: c for c in rows}


def _audit(session: Session, decisions: Sequence[Decision], expected: Status, now: datetime) -> None:
    """The audit events, one per applied decision (one INSERT)."""
    session.execute(insert(DecisionEvent), [
        {"comment_id": d.comment_id, "site_id": d.site_id, "actor": d.actor, "from_status": expected.value,
         "to_status": d.status.value, "reasons": d.reasons, "note": d.note, "created_at": now} for d in decisions
    ])


def _labels(session: Session, decisions: Sequence[Decision], comments: dict[str, Comment],
            source: str) -> list[int]:
    """The training labels the decisions teach; returns their row ids (undo withdraws them)."""
    rows = [add_label(session, text=comments[d.comment_id].content, head=head, label=label, source=source,
                      site_id=d.site_id, comment_id=d.comment_id, actor=d.actor)
            for d in decisions for head, label in d.labels]
    if not rows:
        return []
    session.flush()
    return [row.id for row in rows]


def _callbacks(session: Session, decisions: Sequence[Decision], comments: dict[str, Comment],
               event: Event) -> list[int]:
    """Owe a callback for each applied decision whose site has a callback URL; returns the delivery ids."""
    site_ids = {d.site_id for d in decisions}
    rows = session.execute(select(Site.id, Site.callback_url, Site.mode).where(Site.id.in_(site_ids)))
    urls, modes = {}, {}
    for sid, url, mode in rows:
        urls[sid], modes[sid] = url, mode or "enforce"
    owed = [(d.site_id, d.comment_id, event.value, callback_payload(event, comments[d.comment_id], modes[d.site_id]))
            for d in decisions if urls.get(d.site_id)]
    return outbox.add_deliveries(session, owed) if owed else []
