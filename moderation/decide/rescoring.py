"""What scoring a decided comment again may do: an edit of the text, or a backlog re-scored with a newer model.

Domain code (no SQL, Flask or RQ): the store applies what these functions return through its one write path.
A person's decision is never overturned silently: an edit turns a moderator's verdict into a hold (a person looks
again) instead of the opposite verdict, and a backlog re-score leaves comments a person decided alone.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from moderation.decide.states import Decision, Status

EDIT_CODE = "edit.rescored"
"""Reason code of a decision made on an edited text."""

EDIT_HELD_CODE = "edit.held"
"""Reason code of an edit held for a moderator instead of the model's opposite verdict."""

RESCORE_CODE = "rescore.changed"
"""Reason code of a decision a backlog re-score changed."""

MACHINE_ACTORS = frozenset({"model", "rule"})
"""Who decides without a person; anything else (``moderator:NAME``) is a person's decision."""


def by_person(decided_by: str | None) -> bool:
    """Whether a comment's standing decision was a person's (a moderator, or the site through Akismet)."""
    return decided_by is not None and decided_by not in MACHINE_ACTORS


def after_edit(current: Status, decided_by: str | None, fresh: Decision, revision: int) -> Decision:
    """The decision an edited comment gets, from its status now and the decider's verdict on the new text.

    The fresh verdict stands, except that an edit never jumps between opposite verdicts on its own: an approved
    comment whose new text scores as spam is held again, and so is a comment a person refused whose new text
    the model would approve (the moderator decides once more, seeing the new text).
    """
    edited: dict[str, Any] = {"code": EDIT_CODE, "detail": f"revision {revision} scored again (was {current})"}
    reasons = [edited, *fresh.reasons]
    if current == Status.QUEUED:
        return replace(fresh, reasons=reasons)
    flips = ((current == Status.APPROVED and fresh.status == Status.SPAM)
             or (by_person(decided_by) and current in (Status.SPAM, Status.REJECTED)
                 and fresh.status == Status.APPROVED))
    if flips:
        held = {"code": EDIT_HELD_CODE,
                "detail": f"the new text is {fresh.status}, the comment was {current}: held for a moderator"}
        return replace(fresh, status=Status.HELD, reasons=[held, *reasons])
    return replace(fresh, reasons=reasons)


def rescored(current: Status, fresh: Decision, version: str | None) -> Decision | None:
    """A backlog re-score's change, or None when the fresh verdict keeps the comment where it is."""
    if fresh.status == current:
        return None
    reason = {"code": RESCORE_CODE, "detail": f"scored again by model {version or '?'}: was {current}"}
    return replace(fresh, reasons=[reason, *fresh.reasons], note=f"rescore (model {version or '?'})")
