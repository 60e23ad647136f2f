"""Training labels: what humans said about a text, for the next model to learn from."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from moderation.store.models import Comment, Flag, SiteVerdict, TrainingLabel

HEAD_LABELS = {"spam": ("spam", "ham"), "abusive": ("abusive", "clean")}
"""The labels each model head accepts."""


class LabelAuthor(NamedTuple):
    """The author fields of a labelled comment as its row holds them now ('' where unknown or erased)."""

    name: str = ""
    url: str = ""
    email: str = ""


class LatestLabel(NamedTuple):
    """One labelled text: what a human said about it, and who wrote it."""

    text: str
    label: str
    source: str
    author: LabelAuthor = LabelAuthor()


def add_label(session: Session, *, text: str, head: str, label: str, source: str, site_id: int | None = None,
              comment_id: str | None = None, actor: str | None = None) -> TrainingLabel:
    """Record one label, refusing a label the head does not know."""
    if label not in HEAD_LABELS.get(head, ()):
        raise ValueError(f"label {label!r} is not one of {HEAD_LABELS.get(head)} for head {head!r}")
    row = TrainingLabel(text=text, head=head, label=label, source=source, site_id=site_id, comment_id=comment_id,
                        actor=actor, created_at=datetime.now(UTC))
    session.add(row)
    return row


def latest_labels(session: Session, head: str) -> Iterator[LatestLabel]:
    """The latest label per comment (or identical text), with the author fields of the comment's row.

    Author fields are read from ``comments`` at the time of asking, never copied onto labels, so
    pseudonymisation of the comment applies to its labels too; an erased comment's labels are skipped.
    """
    stmt = (select(TrainingLabel, Comment.author_name, Comment.author_url, Comment.author_email, Comment.erased_at)
            .outerjoin(Comment, Comment.id == TrainingLabel.comment_id)
            .where(TrainingLabel.head == head).order_by(TrainingLabel.id))
    latest: dict[str, LatestLabel] = {}
    for label, name, url, email, erased_at in session.execute(stmt):
        if erased_at is not None:  # its text is a placeholder now: nothing left to learn from
            continue
        author = LabelAuthor(name or "", url or "", email or "")
        latest[label.comment_id or f"text:{label.text}"] = LatestLabel(label.text, label.label, label.source, author)
    yield from latest.values()


SITE_LABEL_SOURCES = ("moderator", "akismet")
"""Labels that speak for a site: its moderators' decisions and its own key's submit-spam/submit-ham (never is_test,
which is answered but not recorded)."""


class SiteLabel(NamedTuple):
    """One of a site's labels on one of its comments: the latest human word on it, or an unreported approval."""

    comment_id: str
    text: str
    spam: int  # 1 spam, 0 ham
    at: datetime  # when the label was given (for an implicit label: when the comment was received)
    source: str  # moderator, akismet or implicit
    author: LabelAuthor = LabelAuthor()


def site_labels(session: Session, site_id: int) -> list[SiteLabel]:
    """A site's spam/ham labels from its own moderators and key, the latest per comment winning, oldest first."""
    stmt = (select(TrainingLabel, Comment.author_name, Comment.author_url, Comment.author_email)
            .join(Comment, Comment.id == TrainingLabel.comment_id)
            .where(TrainingLabel.site_id == site_id, Comment.site_id == site_id, TrainingLabel.head == "spam",
                   TrainingLabel.source.in_(SITE_LABEL_SOURCES), Comment.erased_at.is_(None))
            .order_by(TrainingLabel.id))  # fmt: skip
    latest: dict[str, SiteLabel] = {}
    for label, name, url, email in session.execute(stmt):
        cid = str(label.comment_id)  # never None here: the join needs a comment
        latest.pop(cid, None)  # re-inserted last: the dict stays in the order of each latest word
        latest[cid] = SiteLabel(cid, label.text, int(label.label == "spam"), label.created_at, label.source,
                                LabelAuthor(name or "", url or "", email or ""))  # fmt: skip
    return sorted(latest.values(), key=lambda item: item.at)


def unreported_approvals(session: Session, site_id: int, received_before: datetime, limit: int) -> list[SiteLabel]:
    """Comments the model or a rule published, that nobody labelled or reported before ``received_before``:
    readers saw them and let them stand, so they are (weak) ham. The most recent ``limit`` of them."""
    labelled = select(TrainingLabel.comment_id).where(TrainingLabel.comment_id.is_not(None))
    reported = select(Flag.comment_id)
    # A shadow-mode site that kept one of our approvals off its pages has told us it was not ham.
    removed = select(SiteVerdict.comment_id).where(SiteVerdict.site_id == site_id, SiteVerdict.verdict != "approved")
    stmt = (select(Comment.id, Comment.content, Comment.received_at, Comment.author_name, Comment.author_url,
                   Comment.author_email)
            .where(Comment.site_id == site_id, Comment.status == "approved", Comment.received_at < received_before,
                   Comment.decided_by.in_(("model", "rule")), Comment.erased_at.is_(None),
                   Comment.id.not_in(labelled), Comment.id.not_in(reported), Comment.id.not_in(removed))
            .order_by(Comment.received_at.desc()).limit(limit))  # fmt: skip
    rows = session.execute(stmt).all()
    return [SiteLabel(r.id, r.content, 0, r.received_at, "implicit",
                      LabelAuthor(r.author_name or "", r.author_url or "", r.author_email or ""))
            for r in reversed(rows)]  # fmt: skip


def sites_with_labels(session: Session) -> list[int]:
    """Ids of the sites that have at least one label of their own."""
    stmt = select(TrainingLabel.site_id).where(TrainingLabel.site_id.is_not(None)).distinct()
    return sorted(int(s) for s in session.scalars(stmt) if s is not None)
