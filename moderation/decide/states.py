"""Comment moderation states, the transitions allowed between them, and a decision (one status change).

Nothing else decides whether a status change is legal; the store applies a
transition only through :func:`check_transition`, in its one write path
(``moderation.store.decisions.record``), and writes the audit event in the
same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """Where a comment stands."""

    QUEUED = "queued"
    APPROVED = "approved"
    HELD = "held"
    SPAM = "spam"
    REJECTED = "rejected"


ALLOWED: dict[Status, frozenset[Status]] = {
    Status.QUEUED: frozenset({Status.APPROVED, Status.HELD, Status.SPAM}),
    Status.HELD: frozenset({Status.APPROVED, Status.SPAM, Status.REJECTED}),
    Status.APPROVED: frozenset({Status.SPAM, Status.REJECTED, Status.HELD}),
    Status.SPAM: frozenset({Status.APPROVED, Status.REJECTED, Status.HELD}),
    Status.REJECTED: frozenset({Status.APPROVED, Status.SPAM, Status.HELD}),
}
"""From each status, the statuses a decision may move a comment to.

Back to held from spam or rejected is how a moderator's undo returns a comment to the review queue
(every decided status can go back to held; nothing goes back to queued)."""

CONFIRMABLE: frozenset[Status] = frozenset({Status.APPROVED, Status.SPAM})
"""Statuses a moderator may confirm without moving the comment (keeping a reported comment published, confirming
a spam the model marked, and the undo of either): the audit trail records the confirmation and its label, the
comment's own decision stays as it was."""

DECIDED: frozenset[Status] = frozenset(set(Status) - {Status.QUEUED})
"""Statuses that mean a decision has been made."""


class IllegalTransition(ValueError):
    """A status change that the state machine does not allow."""


def check_transition(current: Status | str, target: Status | str) -> tuple[Status, Status]:
    """Return (from, to) as Status values, or raise IllegalTransition."""
    before, after = Status(current), Status(target)
    if after not in ALLOWED[before] and not (after == before and before in CONFIRMABLE):
        raise IllegalTransition(f"cannot move a comment from {before} to {after}")
    return before, after


@dataclass
class Decision:
    """A status change to apply to one comment, with what justifies it and what it teaches."""

    comment_id: str
    site_id: int
    status: Status
    actor: str
    reasons: list[dict[str, Any]] = field(default_factory=list)
    spam: float | None = None
    abusive: float | None = None
    model_version: str | None = None
    note: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    """Training labels this decision teaches, as (head, label) pairs (moderators and site reports only)."""
