"""What the Akismet-compatible API reads and writes: sites by API key, checked comments, submitted labels.

Kept apart from the blueprint (``moderation.api.akismet``) so the handlers stay thin.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from moderation.decide.decider import site_thresholds
from moderation.decide.states import ALLOWED, Decision, Status
from moderation.delivery.queueing import hand_over
from moderation.privacy import Pseudonymizer
from moderation.services import Services
from moderation.settings import Settings
from moderation.store.comments import get_by_external
from moderation.store.decisions import Event, record
from moderation.store.labels import add_label
from moderation.store.models import Comment
from moderation.store.sites import site_by_api_key
from moderation.ttlcache import TtlCache

KEY_CACHE_SECONDS = 5.0
"""How long a process trusts what it read about an API key (unknown keys included: guessing stays cheap for us)."""


@dataclass(frozen=True)
class KeySite:
    """A site as the Akismet API needs it, detached from any session."""

    id: int
    slug: str
    callback_url: str | None
    thresholds: dict[str, float | None]


@dataclass(frozen=True)
class Checked:
    """A comment-check: the row to store and the decision made."""

    row: dict[str, Any]
    decision: Decision
    is_test: bool = False


_keys: TtlCache[tuple[str, str], KeySite | None] = TtlCache(KEY_CACHE_SECONDS)


def _load(session: Session, api_key: str) -> KeySite | None:
    """The site of a key, detached from the session."""
    site = site_by_api_key(session, api_key)
    if site is None:
        return None
    return KeySite(site.id, site.slug, site.callback_url, site_thresholds(site))


def lookup_key(services: Services, api_key: str) -> KeySite | None:
    """The site owning this API key (cached per process for a few seconds), or None."""
    if not api_key or len(api_key) > 128:
        return None
    # Keyed by a digest: the cache never holds a raw key, valid or guessed.
    key = (services.settings["database_url"], hashlib.sha256(api_key.encode()).hexdigest())

    def load() -> KeySite | None:
        with services.db.session() as session:
            return _load(session, api_key)

    return _keys.get(key, load)


def record_checked(services: Services, checks: list[tuple[KeySite, Checked]]) -> None:
    """Store checked comments already decided, with audit events and the callbacks owed, in one transaction."""
    decisions = []
    for _, checked in checks:
        note = "akismet comment-check" + (" (is_test)" if checked.is_test else "")
        decisions.append(replace(checked.decision, note=note))
    with services.db.session() as session:
        recorded = record(session, decisions, Status.QUEUED, event=Event.DECIDED,
                          new_rows=[checked.row for _, checked in checks])
    hand_over(services.redis, services.names, recorded.delivery_ids)


def find_submitted(session: Session, settings: Settings, site: KeySite, params: dict[str, str]) -> Comment | None:
    """The site's comment a submit-spam/ham is about: by ``guid``, else by content + author + IP (newest first)."""
    guid = params.get("guid", "").strip()
    if guid:
        found = get_by_external(session, site.id, f"akismet:{guid}")
        if found is not None:
            return found
    stmt = (select(Comment).where(Comment.site_id == site.id, Comment.content == params.get("comment_content", ""))
            .order_by(Comment.received_at.desc()).limit(20))
    ips = set(Pseudonymizer.from_settings(settings).forms("ip", params["user_ip"]))
    author = params.get("comment_author") or None
    for comment in session.scalars(stmt):
        if comment.author_ip in ips and (comment.author_name or None) == author:
            return comment
    return None


def _reported(label: str, detail: str) -> list[dict[str, Any]]:
    """The reason a site's submit-spam/ham records."""
    return [{"code": f"akismet.submit_{label}", "detail": detail}]


def label_submitted(session: Session, site: KeySite, label: str, found: Comment | None,
                    row: dict[str, Any] | None) -> list[int]:
    """Label the found comment and move our copy to what the site decided (when the state machine allows), or
    store ``row`` as a new comment labelled and decided; returns the callbacks owed."""
    target = Status.SPAM if label == "spam" else Status.APPROVED
    actor = f"moderator:{site.slug}@akismet"
    teaches = (("spam", label),)
    if found is None:
        assert row is not None
        decision = Decision(row["id"], site.id, target, actor, _reported(label, "reported by the site, never checked"),
                            note=f"akismet submit-{label}", labels=teaches)
        record(session, [decision], Status.QUEUED, event=None, label_source="akismet", new_rows=[row])
        return []
    current = Status(found.status)
    decision = Decision(found.id, site.id, target, actor, _reported(label, "the site reported it through Akismet"),
                        labels=teaches)
    if current != target and target in ALLOWED[current]:
        recorded = record(session, [decision], current, event=Event.MODERATED, label_source="akismet")
        if recorded.applied:
            return recorded.delivery_ids
    # Our copy already says so (or moved meanwhile): the site's word is still a label.
    add_label(session, text=found.content, head="spam", label=label, source="akismet", site_id=site.id,
              comment_id=found.id, actor=actor)
    return []


def usage_this_month(services: Services, site: KeySite) -> int:
    """Comments this site sent through the Akismet API since the first of the month (UTC)."""
    start = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    with services.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(Comment).where(
            Comment.site_id == site.id, Comment.external_id.like("akismet:%"), Comment.received_at >= start)) or 0)
