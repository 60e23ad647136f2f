"""Authors' earned standing per site, read from their decided comments, and moderators' revocations of it.

The decider gets :func:`standings` through a function (``Services``), the way it gets list rows. An author is
keyed by the site's user id when the site sent one, else by the e-mail (``moderation.decide.trust.author_key``).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, and_, case, delete, func, select
from sqlalchemy.orm import Session

from moderation.decide.states import Status
from moderation.decide.trust import Standing, author_key
from moderation.store.models import Comment, TrustEvent

REVOKE, RESTORE = "revoke", "restore"


def _who(kind: str, values: Collection[str]) -> ColumnElement[bool]:
    """The comments written under these keys of one kind (user ids; or e-mails, of comments without a user id).

    E-mails compare case-insensitively (people type capitals on phones), which no index serves: the site's
    decided comments are scanned. Sites that send ``author.user_id`` get an indexed lookup instead.
    """
    if kind == "user":
        return Comment.author_user_id.in_(list(values))
    return and_(Comment.author_user_id.is_(None), func.lower(Comment.author_email).in_(list(values)))


def standings(session: Session, pairs: Collection[tuple[int, str]], window_days: int,
              now: datetime | None = None) -> dict[tuple[int, str], Standing]:
    """The standing of each (site id, author key): approved and spam comments in the window, decided ever, revoked."""
    since = (now or datetime.now(UTC)) - timedelta(days=window_days)
    recent = Comment.received_at >= since
    out: dict[tuple[int, str], Standing] = {}
    grouped: dict[tuple[int, str], set[str]] = {}
    for site_id, key in pairs:
        kind, _, value = key.partition(":")
        grouped.setdefault((site_id, kind), set()).add(value)
    for (site_id, kind), values in grouped.items():
        column = Comment.author_user_id if kind == "user" else func.lower(Comment.author_email)
        stmt = (select(column, func.sum(case((and_(Comment.status == Status.APPROVED.value, recent), 1), else_=0)),
                       func.sum(case((and_(Comment.status == Status.SPAM.value, recent), 1), else_=0)), func.count())
                .where(Comment.site_id == site_id, Comment.status != Status.QUEUED.value, _who(kind, values))
                .group_by(column))
        for value, approved, spam, decided in session.execute(stmt):
            out[(site_id, f"{kind}:{value}")] = Standing(int(approved or 0), int(spam or 0), int(decided))
    for site_id, key in revoked(session, pairs):
        out[(site_id, key)] = Standing(**{**vars(out.get((site_id, key), Standing())), "revoked": True})
    return out


def revoked(session: Session, pairs: Collection[tuple[int, str]]) -> set[tuple[int, str]]:
    """The pairs whose latest trust event is a revoke."""
    latest: dict[tuple[int, str], str] = {}
    by_site: dict[int, set[str]] = {}
    for site_id, key in pairs:
        by_site.setdefault(site_id, set()).add(key)
    for site_id, keys in by_site.items():
        rows = session.execute(select(TrustEvent.author_key, TrustEvent.action)
                               .where(TrustEvent.site_id == site_id, TrustEvent.author_key.in_(list(keys)))
                               .order_by(TrustEvent.id))
        for key, action in rows:
            latest[(site_id, key)] = action
    return {pair for pair, action in latest.items() if action == REVOKE}


def comment_author_key(comment: Comment) -> str | None:
    """Whom a stored comment's standing is kept under."""
    return author_key(comment.author_user_id, comment.author_email)


def change_trust(session: Session, site_id: int, key: str, action: str, actor: str, note: str | None = None,
                 now: datetime | None = None) -> TrustEvent:
    """Revoke (or give back) an author's earned trust on one site; the event is the audit trail."""
    if action not in (REVOKE, RESTORE):
        raise ValueError("action must be revoke or restore")
    if not key.startswith(("user:", "email:")) or len(key) > 330:
        raise ValueError("author must be user:ID or email:ADDRESS")
    event = TrustEvent(site_id=site_id, author_key=key, action=action, actor=actor, note=note,
                       created_at=now or datetime.now(UTC))
    session.add(event)
    session.flush()
    return event


def trust_events(session: Session, site_id: int, key: str, limit: int = 20) -> list[TrustEvent]:
    """An author's trust events on one site, newest first."""
    return list(session.scalars(select(TrustEvent).where(TrustEvent.site_id == site_id, TrustEvent.author_key == key)
                                .order_by(TrustEvent.id.desc()).limit(limit)))


def forget_author(session: Session, key: str) -> int:
    """Delete every trust event kept under this author key (a person's erasure); returns how many."""
    result = session.execute(delete(TrustEvent).where(TrustEvent.author_key == key))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
