"""Moderator actions (approve, spam, reject, keep) and their undo, through the store's one write path.

No Flask here: the review API and the page handlers call these with the
process's services and the logged-in account. Each chunk of comments is one
transaction: ``store.decisions.record`` writes the decision, its audit event,
the labels and the callback outbox rows together; the callbacks are handed to
the queue after the commit. A comment that another moderator moved meanwhile is skipped, never
overwritten: every change is a compare-and-set on the status the moderator saw.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, desc, select
from sqlalchemy.orm import Session

from moderation.api.schemas import has_nul
from moderation.decide.states import ALLOWED, CONFIRMABLE, Decision, Status
from moderation.delivery.queueing import hand_over
from moderation.services import Services
from moderation.store.decisions import Event, Recorded, record
from moderation.store.models import Comment, ReviewAction, TrainingLabel, is_row_id
from moderation.store.review import reopen_flags, resolve_flags
from moderation.store.users import Account

TARGETS: dict[str, Status | None] = {"approve": Status.APPROVED, "spam": Status.SPAM, "reject": Status.REJECTED,
                                     "keep": None}
"""Console actions and the status each moves a comment to ('keep' leaves a reported comment published)."""

REJECT_KINDS = ("abusive", "other")
CHUNK = 500
"""Comments per transaction: short write locks, so intake keeps flowing during a bulk action."""


def _word(status: str) -> str:
    """A status as a word in the reader's language (lazily: the message is read in the request's language)."""
    from moderation.console.i18n import status_word

    return status_word(status)


class ActionError(ValueError):
    """An action that cannot be applied as asked (unknown action, bad note, nothing to undo...)."""


class NulInText(ActionError):
    """A text field holding U+0000, which no backend stores (the review API answers 422 naming the field)."""

    def __init__(self, field: str):
        super().__init__(_l("%(field)s must not contain the NUL character (U+0000)", field=field))
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
        return {"action_id": self.action_id, "applied": self.applied,
                "skipped": {cid: str(why) for cid, why in self.skipped.items()}}


LABELS: dict[str, tuple[tuple[str, str], ...]] = {
    "approve": (("spam", "ham"), ("abusive", "clean")), "keep": (("spam", "ham"), ("abusive", "clean")),
    "spam": (("spam", "spam"),), "reject.abusive": (("abusive", "abusive"),), "reject.other": (("spam", "ham"),),
}
"""The training labels each decision teaches, as (head, label) pairs."""


def _teaches(action: str, reject_as: str) -> tuple[tuple[str, str], ...]:
    """The labels of one action (a rejection teaches by what it was rejected as)."""
    return LABELS[f"reject.{reject_as}" if action == "reject" else action]


def _reason(action: str, reject_as: str, note: str | None) -> dict[str, Any]:
    """The reason a moderator decision records (first in the comment's reasons)."""
    code = f"moderator.{action}" + (f".{reject_as}" if action == "reject" else "")
    return {"code": code, "detail": (note or "")[:500]}


def _carry(reasons: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Earlier non-moderator reasons (rules, model n-grams) stay with the comment after a decision."""
    return [r for r in (reasons or []) if not str(r.get("code", "")).startswith("moderator.")]


def _keep(session: Session, comments: list[Comment], actor: str, note: str | None, out: Outcome,
          record_of: dict[str, list[Any]]) -> None:
    """Dismiss the reports on published comments: a confirmation (approved stays approved), flags closed."""
    decisions = []
    for comment in comments:
        if comment.status != Status.APPROVED.value:
            out.skipped[comment.id] = _l("is %(status)s, only published comments can be kept",
                                         status=_word(comment.status))
            continue
        decisions.append(Decision(comment.id, comment.site_id, Status.APPROVED, actor, [_reason("keep", "", note)],
                                  note=note, labels=_teaches("keep", "")))
    recorded = record(session, decisions, Status.APPROVED, event=None)
    _note(recorded, comments, Status.APPROVED, out, record_of)
    record_of["flags"] += resolve_flags(session, [d.comment_id for d in recorded.applied], actor)


def _decide(session: Session, comments: list[Comment], action: str, expected: Status, reject_as: str,
            note: str | None, actor: str, out: Outcome, record_of: dict[str, list[Any]]) -> None:
    """Move comments still in ``expected`` to the action's status, with labels and callbacks owed."""
    target = TARGETS[action]
    assert target is not None
    # Marking spam a spam the model marked, or approving a published comment, moves nothing but is a moderator's
    # word all the same: a label (the spot-check that lets a site's model be judged on its own spam), no callback.
    confirming = target == expected and expected in CONFIRMABLE
    if target not in ALLOWED[expected] and not confirming:
        why = _l("cannot %(action)s a %(status)s comment", action=action, status=_word(expected.value))
        out.skipped.update({c.id: why for c in comments})
        return
    decisions = [Decision(c.id, c.site_id, target, actor, [_reason(action, reject_as, note)] + _carry(c.reasons),
                          note=note, labels=_teaches(action, reject_as))
                 for c in comments if c.status == expected.value]
    recorded = record(session, decisions, expected, event=None if confirming else Event.MODERATED)
    _note(recorded, comments, expected, out, record_of)
    record_of["flags"] += resolve_flags(session, sorted(d.comment_id for d in recorded.applied), actor)


def _note(recorded: Recorded, comments: list[Comment], expected: Status, out: Outcome,
          record_of: dict[str, list[Any]]) -> None:
    """What undo needs (each change, the labels made) and what the answer says (applied, skipped and why)."""
    applied = {d.comment_id: d for d in recorded.applied}
    for comment in comments:
        decision = applied.get(comment.id)
        if decision is None:
            out.skipped.setdefault(comment.id, _l("no longer %(status)s (now %(now)s)", status=_word(expected.value),
                                                  now=_word(comment.status)))
            continue
        record_of["changes"].append([comment.id, expected.value, decision.status.value, comment.reasons])
        out.applied.append(comment.id)
    record_of["labels"] += recorded.label_ids
    out.delivery_ids += recorded.delivery_ids


def moderate(services: Services, account: Account, comment_ids: list[str], action: str, expected: Status | str,
             reject_as: str = "other", note: str | None = None) -> Outcome:
    """Apply an action to comments still in ``expected``; remembered for undo, callbacks enqueued after commit."""
    if action not in TARGETS:
        raise ActionError(_l("action must be one of %(choices)s", choices=", ".join(TARGETS)))
    if action == "reject" and reject_as not in REJECT_KINDS:
        raise ActionError(_l("reject as one of %(choices)s", choices=", ".join(REJECT_KINDS)))
    if note is not None and len(note) > 2000:
        raise ActionError(_l("notes are at most %(n)s characters", n=2000))
    refuse_nul(note=note, ids=next((i for i in comment_ids if has_nul(i)), None))
    expected = Status(expected)
    out = Outcome()
    record_of: dict[str, list[Any]] = {"changes": [], "labels": [], "flags": []}
    unique = list(dict.fromkeys(comment_ids))
    for start in range(0, len(unique), CHUNK):
        with services.db.session() as session:
            chunk = [c for c in session.scalars(select(Comment).where(Comment.id.in_(unique[start:start + CHUNK])))
                     if account.may_act_on(c.site_id)]  # another site's comment is "no such comment" to them
            found = {c.id for c in chunk}
            out.skipped.update({i: _l("no such comment") for i in unique[start:start + CHUNK] if i not in found})
            if action == "keep":
                _keep(session, chunk, account.actor, note, out, record_of)
            else:
                _decide(session, chunk, action, expected, reject_as, note, account.actor, out, record_of)
    if out.applied:
        with services.db.session() as session:
            row = ReviewAction(actor=account.actor, action=action, changes=record_of["changes"],
                               label_ids=record_of["labels"], flag_ids=record_of["flags"], created_at=datetime.now(UTC))
            session.add(row)
            session.flush()
            out.action_id = row.id
    hand_over(services.redis, services.names, out.delivery_ids)
    return out


def _last_action(session: Session, actor: str, action_id: int | None) -> ReviewAction:
    """The action to undo: the given one (if it is this moderator's) or their latest not yet undone."""
    if action_id is not None and not is_row_id(action_id):
        raise ActionError(_l("no such action of yours, or already undone"))
    stmt = select(ReviewAction).where(ReviewAction.actor == actor, ReviewAction.undone_at.is_(None))
    stmt = stmt.where(ReviewAction.id == action_id) if action_id else stmt.order_by(desc(ReviewAction.id)).limit(1)
    row = session.scalar(stmt.with_for_update() if session.get_bind().dialect.name != "sqlite" else stmt)
    if row is None:
        raise ActionError(_l("nothing to undo") if not action_id else _l("no such action of yours, or already undone"))
    return row


def _revert(session: Session, row: ReviewAction, actor: str, out: Outcome) -> None:
    """Apply the reverse transitions the state machine allows; report the others as skipped."""
    for comment_id, before, after, reasons in row.changes:
        comment = session.get(Comment, comment_id)
        if comment is None or comment.status != after:
            out.skipped[comment_id] = _l("changed since (now %(now)s)",
                                         now=_word(comment.status) if comment else _l("gone"))
            continue
        if comment.erased_at is not None and any(set(r) - {"code"} for r in _carry(reasons)):
            out.skipped[comment_id] = _l("erased at its author's request: undo would bring erased text back")
            continue
        undo_reason = {"code": "moderator.undo", "detail": f"undo of action {row.id}"}
        if before == after:  # a 'keep': the status never moved, so only the audit trail records the undo
            decision = Decision(comment_id, comment.site_id, Status(before), actor, [undo_reason],
                                note=undo_reason["detail"])
            event = None
        elif Status(before) not in ALLOWED[Status(after)]:
            out.skipped[comment_id] = _l("the state machine does not allow %(after)s -> %(before)s",
                                         after=_word(after), before=_word(before))
            continue
        else:
            decision = Decision(comment_id, comment.site_id, Status(before), actor, [undo_reason] + _carry(reasons),
                                note=undo_reason["detail"])
            event = Event.MODERATED
        recorded = record(session, [decision], Status(after), event=event)
        if recorded.applied:
            out.applied.append(comment_id)
            out.delivery_ids += recorded.delivery_ids


def undo(services: Services, account: Account, action_id: int | None = None) -> Outcome:
    """Reverse a moderator's action: statuses back, its labels withdrawn, its closed reports reopened."""
    out = Outcome()
    with services.db.session() as session:
        row = _last_action(session, account.actor, action_id)
        out.action_id = row.id
        _revert(session, row, account.actor, out)
        if not out.applied:
            why = "; ".join(sorted({str(v) for v in out.skipped.values()}))
            raise ActionError(_l("could not undo: %(why)s", why=why))
        if row.label_ids:
            session.execute(delete(TrainingLabel).where(TrainingLabel.id.in_(row.label_ids),
                                                        TrainingLabel.comment_id.in_(out.applied)))
        reopen_flags(session, row.flag_ids)
        row.undone_at = datetime.now(UTC)
    hand_over(services.redis, services.names, out.delivery_ids)
    return out
