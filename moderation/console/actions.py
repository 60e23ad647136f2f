"""Moderator actions: decision + audit event + training label + `comment.moderated` callback, and their undo.

No Flask here: the review API and the page handlers call these with the
process's services and the logged-in account. Each chunk of comments is one
transaction (the decision, its audit event, the labels and the callback
outbox rows commit together); the callback jobs are enqueued after the
commit. A comment that another moderator moved meanwhile is skipped, never
overwritten: every change is a compare-and-set on the status the moderator saw.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import delete, desc, select
from sqlalchemy.orm import Session

from moderation.api.schemas import NUL_MESSAGE, has_nul
from moderation.queueing import enqueue_deliveries
from moderation.states import ALLOWED, Status
from moderation.store import callbacks as outbox
from moderation.store.comments import Decision, apply_decisions, public_view
from moderation.store.labels import add_label
from moderation.store.models import Comment, DecisionEvent, ReviewAction, Site, TrainingLabel, is_row_id
from moderation.store.review import reopen_flags, resolve_flags
from moderation.store.users import Account

log = logging.getLogger(__name__)

MODERATED_EVENT = "comment.moderated"
"""The callback event of every moderator decision (and undo)."""

TARGETS: dict[str, Status | None] = {"approve": Status.APPROVED, "spam": Status.SPAM, "reject": Status.REJECTED,
                                     "keep": None}
"""Console actions and the status each moves a comment to ('keep' leaves a reported comment published)."""

REJECT_KINDS = ("abusive", "other")
CHUNK = 500
"""Comments per transaction: short write locks, so intake keeps flowing during a bulk action."""


class ActionError(ValueError):
    """An action that cannot be applied as asked (unknown action, bad note, nothing to undo...)."""


class NulInText(ActionError):
    """A text field holding U+0000, which no backend stores (the review API answers 422 naming the field)."""

    def __init__(self, field: str):
        super().__init__(f"{field} {NUL_MESSAGE}")
        self.field = field


def refuse_nul(**values: str | None) -> None:
    """Raise NulInText for the first of these text values that holds U+0000."""
    for name, value in values.items():
        if value is not None and has_nul(value):
            raise NulInText(name)


@dataclass
class Outcome:
    """What an action (or undo) did."""

    action_id: int | None = None
    applied: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # comment id -> why
    delivery_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The JSON answer of the review API."""
        return {"action_id": self.action_id, "applied": self.applied, "skipped": self.skipped}


def _labels(session: Session, comment: Comment, action: str, reject_as: str, actor: str) -> list[TrainingLabel]:
    """Record the training labels a decision teaches (approve/keep: ham and clean; spam; reject: abusive or ham)."""
    pairs = {"approve": [("spam", "ham"), ("abusive", "clean")], "keep": [("spam", "ham"), ("abusive", "clean")],
             "spam": [("spam", "spam")],
             "reject": [("abusive", "abusive")] if reject_as == "abusive" else [("spam", "ham")]}[action]
    return [add_label(session, text=comment.content, head=head, label=label, source="moderator",
                      site_id=comment.site_id, comment_id=comment.id, actor=actor) for head, label in pairs]


def _reason(action: str, reject_as: str, note: str | None) -> dict[str, Any]:
    """The reason a moderator decision records (first in the comment's reasons)."""
    code = f"moderator.{action}" + (f".{reject_as}" if action == "reject" else "")
    return {"code": code, "detail": (note or "")[:500]}


def _carry(reasons: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Earlier non-moderator reasons (rules, model n-grams) stay with the comment after a decision."""
    return [r for r in (reasons or []) if not str(r.get("code", "")).startswith("moderator.")]


def _callbacks(session: Session, ids: list[str]) -> list[int]:
    """Owe a `comment.moderated` callback for each changed comment whose site has a callback URL."""
    rows = session.execute(select(Comment, Site.callback_url).join(Site, Site.id == Comment.site_id)
                           .where(Comment.id.in_(ids)).execution_options(populate_existing=True)).all()
    owed = [(c.site_id, c.id, MODERATED_EVENT, {"event": MODERATED_EVENT, "comment": public_view(c)})
            for c, url in rows if url]
    return outbox.add_deliveries(session, owed)


def _keep(session: Session, comments: list[Comment], actor: str, note: str | None, out: Outcome,
          record: dict[str, list[Any]]) -> None:
    """Dismiss the reports on published comments: close the flags and audit it (approved stays approved)."""
    now, labels = datetime.now(UTC), []
    for comment in comments:
        if comment.status != Status.APPROVED.value:
            out.skipped[comment.id] = f"is {comment.status}, only published comments can be kept"
            continue
        record["flags"] += resolve_flags(session, [comment.id], actor)
        labels += _labels(session, comment, "keep", "", actor)
        session.add(DecisionEvent(comment_id=comment.id, site_id=comment.site_id, actor=actor, from_status="approved",
                                  to_status="approved", reasons=[_reason("keep", "", note)], note=note, created_at=now))
        record["changes"].append([comment.id, "approved", "approved", comment.reasons])
        out.applied.append(comment.id)
    session.flush()  # one flush per chunk gives the label ids undo withdraws
    record["labels"] += [row.id for row in labels]


def _decide(session: Session, comments: list[Comment], action: str, expected: Status, reject_as: str,
            note: str | None, actor: str, out: Outcome, record: dict[str, list[Any]]) -> None:
    """Move comments still in ``expected`` to the action's status, with labels and callbacks owed."""
    target = TARGETS[action]
    assert target is not None
    if target not in ALLOWED[expected]:
        out.skipped.update({c.id: f"cannot {action} a {expected} comment" for c in comments})
        return
    by_id = {c.id: c for c in comments}
    decisions = [Decision(c.id, c.site_id, target, actor, [_reason(action, reject_as, note)] + _carry(c.reasons),
                          note=note) for c in comments if c.status == expected.value]
    applied = {d.comment_id for d in apply_decisions(session, decisions, expected)}
    labels = []
    for comment in comments:
        if comment.id not in applied:
            out.skipped[comment.id] = f"no longer {expected} (now {comment.status})"
            continue
        record["changes"].append([comment.id, expected.value, target.value, comment.reasons])
        labels += _labels(session, by_id[comment.id], action, reject_as, actor)
        out.applied.append(comment.id)
    record["flags"] += resolve_flags(session, sorted(applied), actor)
    session.flush()
    record["labels"] += [row.id for row in labels]
    out.delivery_ids += _callbacks(session, sorted(applied))


def _hand_over(services: Any, delivery_ids: list[int]) -> None:
    """After commit: enqueue the callbacks (if Redis is down the sweeper sends them later)."""
    try:
        enqueue_deliveries(services.redis, services.names, delivery_ids)
    except RedisError as exc:
        log.warning("callbacks left to the sweeper, Redis unavailable: %s", exc.__class__.__name__)


def moderate(services: Any, account: Account, comment_ids: list[str], action: str, expected: Status | str,
             reject_as: str = "other", note: str | None = None) -> Outcome:
    """Apply an action to comments still in ``expected``; remembered for undo, callbacks enqueued after commit."""
    if action not in TARGETS:
        raise ActionError(f"action must be one of {', '.join(TARGETS)}")
    if action == "reject" and reject_as not in REJECT_KINDS:
        raise ActionError(f"reject as one of {', '.join(REJECT_KINDS)}")
    if note is not None and len(note) > 2000:
        raise ActionError("notes are at most 2000 characters")
    refuse_nul(note=note, ids=next((i for i in comment_ids if has_nul(i)), None))
    expected = Status(expected)
    out = Outcome()
    record: dict[str, list[Any]] = {"changes": [], "labels": [], "flags": []}
    unique = list(dict.fromkeys(comment_ids))
    for start in range(0, len(unique), CHUNK):
        with services.db.session() as session:
            chunk = list(session.scalars(select(Comment).where(Comment.id.in_(unique[start:start + CHUNK]))))
            found = {c.id for c in chunk}
            out.skipped.update({i: "no such comment" for i in unique[start:start + CHUNK] if i not in found})
            if action == "keep":
                _keep(session, chunk, account.actor, note, out, record)
            else:
                _decide(session, chunk, action, expected, reject_as, note, account.actor, out, record)
    if out.applied:
        with services.db.session() as session:
            row = ReviewAction(actor=account.actor, action=action, changes=record["changes"],
                               label_ids=record["labels"], flag_ids=record["flags"], created_at=datetime.now(UTC))
            session.add(row)
            session.flush()
            out.action_id = row.id
    _hand_over(services, out.delivery_ids)
    return out


def _last_action(session: Session, actor: str, action_id: int | None) -> ReviewAction:
    """The action to undo: the given one (if it is this moderator's) or their latest not yet undone."""
    if action_id is not None and not is_row_id(action_id):
        raise ActionError("no such action of yours, or already undone")
    stmt = select(ReviewAction).where(ReviewAction.actor == actor, ReviewAction.undone_at.is_(None))
    stmt = stmt.where(ReviewAction.id == action_id) if action_id else stmt.order_by(desc(ReviewAction.id)).limit(1)
    row = session.scalar(stmt.with_for_update() if session.get_bind().dialect.name != "sqlite" else stmt)
    if row is None:
        raise ActionError("nothing to undo" if not action_id else "no such action of yours, or already undone")
    return row


def _revert(session: Session, row: ReviewAction, actor: str, out: Outcome) -> None:
    """Apply the reverse transitions the state machine allows; report the others as skipped."""
    now, reverted = datetime.now(UTC), []
    for comment_id, before, after, reasons in row.changes:
        comment = session.get(Comment, comment_id)
        if comment is None or comment.status != after:
            out.skipped[comment_id] = f"changed since (now {comment.status if comment else 'gone'})"
            continue
        undo = {"code": "moderator.undo", "detail": f"undo of action {row.id}"}
        if before == after:  # a 'keep': the status never moved, so only the audit trail records the undo
            session.add(DecisionEvent(comment_id=comment_id, site_id=comment.site_id, actor=actor, from_status=after,
                                      to_status=before, reasons=[undo], note=undo["detail"], created_at=now))
            out.applied.append(comment_id)
            continue
        if Status(before) not in ALLOWED[Status(after)]:
            out.skipped[comment_id] = f"the state machine does not allow {after} -> {before}"
            continue
        decision = Decision(comment_id, comment.site_id, Status(before), actor, [undo] + _carry(reasons),
                            note=undo["detail"])
        if apply_decisions(session, [decision], Status(after)):
            out.applied.append(comment_id)
            reverted.append(comment_id)
    session.flush()
    out.delivery_ids += _callbacks(session, reverted)


def undo(services: Any, account: Account, action_id: int | None = None) -> Outcome:
    """Reverse a moderator's action: statuses back, its labels withdrawn, its closed reports reopened."""
    out = Outcome()
    with services.db.session() as session:
        row = _last_action(session, account.actor, action_id)
        out.action_id = row.id
        _revert(session, row, account.actor, out)
        if not out.applied:
            raise ActionError("could not undo: " + "; ".join(sorted(set(out.skipped.values()))))
        if row.label_ids:
            session.execute(delete(TrainingLabel).where(TrainingLabel.id.in_(row.label_ids),
                                                        TrainingLabel.comment_id.in_(out.applied)))
        reopen_flags(session, row.flag_ids)
        row.undone_at = datetime.now(UTC)
    _hand_over(services, out.delivery_ids)
    return out
