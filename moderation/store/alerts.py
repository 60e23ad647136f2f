"""Queries behind alerts: the held queue's size and age per site, its oldest comments, the sites' own alert
recipients, and used one-tap links."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from moderation.decide.states import Status
from moderation.store.models import AlertLinkUse, Comment, Site


@dataclass(frozen=True)
class SiteHeld:
    """One site's held queue: how many comments wait, and since when the oldest."""

    slug: str
    held: int
    oldest_received: datetime


@dataclass(frozen=True)
class HeldComment:
    """One held comment as an alert shows it (the text is the author's: escape it wherever it goes)."""

    id: str
    site_slug: str
    author_name: str | None
    content: str
    post_title: str | None
    received_at: datetime
    spam_score: float | None


@dataclass(frozen=True)
class SiteRecipients:
    """A site's own alert recipients (detached from any session; ``webhook_url`` is a secret)."""

    site_id: int
    slug: str
    emails: tuple[str, ...]
    webhook_url: str | None


def held_by_site(session: Session, site_id: int | None = None) -> list[SiteHeld]:
    """Every site with held comments (or only ``site_id``): its count and its oldest comment's arrival, most held
    first."""
    stmt = (select(Site.slug, func.count(Comment.id), func.min(Comment.received_at))
            .join(Site, Site.id == Comment.site_id)
            .where(Comment.status == Status.HELD.value)
            .group_by(Site.slug))
    if site_id is not None:
        stmt = stmt.where(Comment.site_id == site_id)
    rows = session.execute(stmt)
    sites = [SiteHeld(slug, count, _aware(oldest)) for slug, count, oldest in rows]
    return sorted(sites, key=lambda s: (-s.held, s.slug))


def oldest_held(session: Session, limit: int, site_id: int | None = None) -> list[HeldComment]:
    """The ``limit`` held comments that have waited longest (all sites, or only ``site_id``'s)."""
    stmt = select(Comment, Site.slug).join(Site, Site.id == Comment.site_id).where(Comment.status == Status.HELD.value)
    if site_id is not None:
        stmt = stmt.where(Comment.site_id == site_id)
    rows = session.execute(stmt.order_by(Comment.received_at, Comment.id).limit(limit))
    return [HeldComment(c.id, slug, c.author_name, c.content, c.post_title, c.received_at, c.spam_score)
            for c, slug in rows]


def site_recipients(session: Session) -> list[SiteRecipients]:
    """Every site that has alert recipients of its own, by slug."""
    rows = session.execute(select(Site.id, Site.slug, Site.alert_emails, Site.alert_webhook_url).order_by(Site.slug))
    found = [SiteRecipients(sid, slug, tuple(emails or ()), webhook or None) for sid, slug, emails, webhook in rows]
    return [r for r in found if r.emails or r.webhook_url]


def _aware(moment: datetime) -> datetime:
    """SQLite's MIN() hands back a naive (or text) UTC value; make it an aware datetime."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def link_used(session: Session, nonce: str) -> AlertLinkUse | None:
    """The record of a used one-tap link, or None while it is unused."""
    return session.get(AlertLinkUse, nonce)


def mark_link_used(session: Session, nonce: str, comment_id: str, action: str, now: datetime) -> None:
    """Record a one-tap link as used, in the transaction that applies its decision (the key refuses a second)."""
    session.add(AlertLinkUse(nonce=nonce, comment_id=comment_id, action=action, used_at=now))
    session.flush()
