"""What is worth a moderator's label: the comments the model is least sure of, and its own spam marks to spot-check.

Both feed the console's 'help the model' page and the review API's suggestions; both offer one copy of a
campaign, since a label on the second copy of a text (numbers aside) teaches what the first did.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from moderation.decide.states import Status
from moderation.reading.text import normalize
from moderation.store.models import Comment, Site, TrainingLabel
from moderation.store.review import window_start_id

SUGGESTION_POOL = 5
"""Candidates read per suggestion, so that copies of one campaign can be passed over for other comments."""

_WORDS = re.compile(r"[^\W\d_]+")


def suggestions(session: Session, limit: int, recent_hours: float = 168,
                scope: tuple[int, ...] | None = None) -> list[tuple[Comment, str]]:
    """Comments the model is least sure of (|spam - 0.5| smallest), held or recently decided (its own spam marks
    aside: see :func:`spot_checks`), not yet labelled, one per campaign."""
    labelled = select(TrainingLabel.comment_id).where(TrainingLabel.comment_id.is_not(None))
    stmt = (select(Comment, Site.slug).join(Site, Site.id == Comment.site_id)
            .where(Comment.spam_score.is_not(None), Comment.id.not_in(labelled), ~_model_spam(),
                   or_(Comment.status == Status.HELD.value,
                       (Comment.id >= window_start_id(recent_hours)) & (Comment.status != Status.QUEUED.value)))
            .order_by(func.abs(Comment.spam_score - 0.5), Comment.id).limit(limit * SUGGESTION_POOL))
    if scope is not None:
        stmt = stmt.where(Comment.site_id.in_(scope))
    return _one_per_campaign(session.execute(stmt), limit)


SPOT_CHECKS = 10
"""Spam marks offered for a spot-check on the 'help the model' page, beside its uncertain comments."""


def spot_checks(session: Session, limit: int, recent_hours: float = 168, scope: tuple[int, ...] | None = None,
                beside: Sequence[tuple[Comment, str]] = ()) -> list[tuple[Comment, str]]:
    """The model's own recent spam marks nearest its line (lowest spam score first), unlabelled, one per campaign
    and none of a campaign already offered ``beside`` them (the uncertain comments on the same page).

    Once a site's model is good its moderators see no spam: it is marked, never held. Confirming one of these
    (a label) is how the gate gets the site's spam to judge a candidate on; restoring one finds the ham it marked.
    """
    labelled = select(TrainingLabel.comment_id).where(TrainingLabel.comment_id.is_not(None))
    stmt = (select(Comment, Site.slug).join(Site, Site.id == Comment.site_id)
            .where(_model_spam(), Comment.spam_score.is_not(None), Comment.id.not_in(labelled),
                   Comment.id >= window_start_id(recent_hours))
            .order_by(Comment.spam_score, Comment.id).limit((limit + len(beside)) * SUGGESTION_POOL))
    if scope is not None:
        stmt = stmt.where(Comment.site_id.in_(scope))
    return _one_per_campaign(session.execute(stmt), limit, {_campaign(c) for c, _ in beside})


def _model_spam() -> Any:
    """The comments the model marked spam by itself: the spot-checks' to offer, never the uncertain list's."""
    # coalesce: with a NULL decider, SQL's NOT (spam AND NULL) is NULL, which would drop the row from the other list
    return (Comment.status == Status.SPAM.value) & (func.coalesce(Comment.decided_by, "") == "model")


def _one_per_campaign(rows: Any, limit: int, shown: set[tuple[int, str]] | None = None) -> list[tuple[Comment, str]]:
    """The first row of each (site, campaign) not ``shown`` already, up to ``limit``."""
    shown = set(shown or ())
    picked: list[tuple[Comment, str]] = []
    for comment, slug in rows:
        if len(picked) == limit:
            break
        if (key := _campaign(comment)) not in shown:
            shown.add(key)
            picked.append((comment, slug))
    return picked


def _campaign(comment: Comment) -> tuple[int, str]:
    """A comment's site and campaign: what one label teaches for every copy."""
    return comment.site_id, campaign_shape(comment.content)


def campaign_shape(text: str) -> str:
    """What copies of one campaign share: the words of the normalised text, numbers and punctuation aside."""
    return " ".join(_WORDS.findall(normalize(text)))
