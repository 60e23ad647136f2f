"""What a one-tap alert link shows and does, through the one write path of a decision.

Showing never changes anything (mail scanners fetch links before anyone taps
them); applying records the decision (compare-and-set on ``held``, audit event
with the alert link as actor, training labels as a moderator's decision teaches,
the site's callback owed) and marks the link used in the same transaction, then
hands the callback to the queue after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask_babel import gettext as _

from moderation.alerts.links import Link
from moderation.console.actions import LABELS
from moderation.console.i18n import status_word
from moderation.decide.states import Decision, Status
from moderation.delivery.queueing import hand_over
from moderation.services import Services
from moderation.store.alerts import link_used, mark_link_used
from moderation.store.decisions import Event, record
from moderation.store.models import Comment, Site

ACTOR = "alert-link"
"""Who the audit trail says decided: a one-tap link from an alert (no console account)."""

TARGETS = {"approve": Status.APPROVED, "spam": Status.SPAM}
NOTE = "one-tap link from an alert"
BUSY = "Someone else is deciding this comment right now; open the link again to see the outcome."
"""Lost the compare-and-set to a decision not yet committed (PostgreSQL skips rows another transaction locks)."""


@dataclass(frozen=True)
class Shown:
    """A comment as the one-tap page shows it, and why the link cannot act on it (None: it can)."""

    comment_id: str
    site_slug: str
    author_name: str | None
    content: str
    post_title: str | None
    status: str
    decided_by: str | None
    problem: str | None


def _shown(comment: Comment, slug: str, problem: str | None) -> Shown:
    """The page's view of one comment."""
    return Shown(comment.id, slug, comment.author_name, comment.content, comment.post_title, comment.status,
                 comment.decided_by, problem)


def _problem(used: bool, comment: Comment) -> str | None:
    """Why a link can no longer act: used already, or the comment left the held queue."""
    if used:
        return _("This link was already used; each link works once.")
    if comment.status != Status.HELD.value:
        return _("This comment is no longer held: it is %(status)s (decided by %(who)s).",
                 status=status_word(comment.status), who=comment.decided_by or "–")
    return None


def show(services: Services, link: Link) -> Shown | None:
    """The comment a verified link names, with any reason it cannot act (None: no such comment)."""
    with services.db.read() as session:
        row = session.get(Comment, link.comment_id)
        if row is None:
            return None
        slug = session.get(Site, row.site_id).slug  # type: ignore[union-attr]
        return _shown(row, slug, _problem(link_used(session, link.nonce) is not None, row))


def _reasons(action: str, earlier: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The decision's reason first, then the earlier non-moderator reasons (rules, model n-grams) it keeps."""
    kept = [r for r in (earlier or []) if not str(r.get("code", "")).startswith("moderator.")]
    return [{"code": f"moderator.{action}", "detail": NOTE}, *kept]


def apply(services: Services, link: Link) -> Shown | None:
    """Apply a verified link's action once; the answer says what the comment is now (``problem`` when refused)."""
    delivery_ids: list[int] = []
    with services.db.session() as session:
        row = session.get(Comment, link.comment_id)
        if row is None:
            return None
        slug = session.get(Site, row.site_id).slug  # type: ignore[union-attr]
        problem = _problem(link_used(session, link.nonce) is not None, row)
        if problem is None:
            decision = Decision(row.id, row.site_id, TARGETS[link.action], ACTOR, _reasons(link.action, row.reasons),
                                note=NOTE, labels=LABELS[link.action])
            recorded = record(session, [decision], Status.HELD, event=Event.MODERATED)
            if recorded.applied:
                mark_link_used(session, link.nonce, row.id, link.action, datetime.now(UTC))
                delivery_ids = recorded.delivery_ids
            session.refresh(row)
            problem = None if recorded.applied else _problem(False, row) or BUSY
        shown = _shown(row, slug, problem)
    hand_over(services.redis, services.names, delivery_ids)
    return shown
