"""Comment moderation states and the transitions allowed between them.

Nothing else decides whether a status change is legal; the store applies a
transition only through :func:`check_transition` and writes its audit event
in the same transaction.
"""

from __future__ import annotations

from enum import StrEnum


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

DECIDED: frozenset[Status] = frozenset(set(Status) - {Status.QUEUED})
"""Statuses that mean a decision has been made."""


class IllegalTransition(ValueError):
    """A status change that the state machine does not allow."""


def check_transition(current: Status | str, target: Status | str) -> tuple[Status, Status]:
    """Return (from, to) as Status values, or raise IllegalTransition."""
    before, after = Status(current), Status(target)
    if after not in ALLOWED[before]:
        raise IllegalTransition(f"cannot move a comment from {before} to {after}")
    return before, after
