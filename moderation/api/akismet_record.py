"""What the Akismet-compatible API reads and writes: sites by API key, checked comments, submitted labels.

Kept apart from the blueprint (``moderation.api.akismet``) so the handlers stay thin.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import func, insert, or_, select
from sqlalchemy.orm import Session

from moderation.privacy import Pseudonymizer
from moderation.queueing import enqueue_deliveries
from moderation.rules import Lists, lists_from_rows
from moderation.states import ALLOWED, Status
from moderation.store import callbacks as outbox
from moderation.store.comments import Decision, apply_decision, get_by_external, public_view
from moderation.store.labels import add_label
from moderation.store.models import Comment, DecisionEvent, ListEntry
from moderation.store.sites import site_by_api_key
from moderation.ttlcache import TtlCache

log = logging.getLogger(__name__)

KEY_CACHE_SECONDS = 5.0
"""How long a process trusts what it read about an API key (unknown keys included: guessing stays cheap for us)."""

DECIDED, MODERATED = "comment.decided", "comment.moderated"
"""The callback events (see the contract)."""


@dataclass(frozen=True)
class KeySite:
    """A site as the Akismet API needs it, detached from any session."""

    id: int
    slug: str
    callback_url: str | None
    thresholds: dict[str, float | None]
    lists: Lists = field(default_factory=Lists)


@dataclass(frozen=True)
class Checked:
    """A comment-check: the row to store and the decision made."""

    row: dict[str, Any]
    decision: Decision
    is_test: bool = False


_keys: TtlCache[tuple[str, str], KeySite | None] = TtlCache(KEY_CACHE_SECONDS)


def _load(session: Session, api_key: str) -> KeySite | None:
    """The site of a key with its database lists (global and its own)."""
    site = site_by_api_key(session, api_key)
    if site is None:
        return None
    rows = session.execute(select(ListEntry.action, ListEntry.kind, ListEntry.value)
                           .where(or_(ListEntry.site_id.is_(None), ListEntry.site_id == site.id))).all()
    thresholds = {"approve_below": site.approve_below, "spam_above": site.spam_above,
                  "abusive_above": site.abusive_above}
    return KeySite(site.id, site.slug, site.callback_url, thresholds, lists_from_rows(r._asdict() for r in rows))


def lookup_key(services: Any, api_key: str) -> KeySite | None:
    """The site owning this API key (cached per process for a few seconds), or None."""
    if not api_key or len(api_key) > 128:
        return None
    # Keyed by a digest: the cache never holds a raw key, valid or guessed.
    key = (services.settings["database_url"], hashlib.sha256(api_key.encode()).hexdigest())

    def load() -> KeySite | None:
        with services.db.session() as session:
            return _load(session, api_key)

    return _keys.get(key, load)


def _event(row: dict[str, Any], decision: Decision, note: str, now: datetime) -> dict[str, Any]:
    """The audit row of a decision on a just-stored comment."""
    return {"comment_id": row["id"], "site_id": row["site_id"], "actor": decision.actor,
            "from_status": Status.QUEUED.value, "to_status": decision.status.value, "reasons": decision.reasons,
            "note": note, "created_at": now}


def _decided_row(row: dict[str, Any], decision: Decision, now: datetime) -> dict[str, Any]:
    """The row as stored: already decided."""
    return {**row, "status": decision.status.value, "decided_by": decision.actor, "decided_at": now,
            "reasons": decision.reasons, "spam_score": decision.spam, "abusive_score": decision.abusive,
            "model_version": decision.model_version}


def enqueue_after_commit(services: Any, delivery_ids: list[int]) -> None:
    """Hand callbacks to the workers after the commit; if Redis is down the sweeper sends them later."""
    if not delivery_ids:
        return
    try:
        enqueue_deliveries(services.redis, services.names, delivery_ids)
    except RedisError as exc:
        log.warning("callbacks left for the sweeper, Redis unavailable: %s", exc.__class__.__name__)


def record_checked(services: Any, checks: list[tuple[KeySite, Checked]]) -> None:
    """Store checked comments with their decisions, audit events and the callbacks owed, in one transaction."""
    now = datetime.now(UTC)
    rows, events, owed = [], [], []
    for site, checked in checks:
        row = _decided_row(checked.row, checked.decision, now)
        note = "akismet comment-check" + (" (is_test)" if checked.is_test else "")
        rows.append(row)
        events.append(_event(row, checked.decision, note, now))
        if site.callback_url:
            owed.append((site.id, row["id"], DECIDED, {"event": DECIDED, "comment": public_view(Comment(**row))}))
    with services.db.session() as session:
        session.execute(insert(Comment), rows)
        session.execute(insert(DecisionEvent), events)
        ids = outbox.add_deliveries(session, owed) if owed else []
    enqueue_after_commit(services, ids)
def find_submitted(session: Session, settings: Any, site: KeySite, params: dict[str, str]) -> Comment | None:
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


def _moderate(session: Session, site: KeySite, comment: Comment, target: Status, actor: str) -> list[int]:
    """Move our copy to what the site decided (when the state machine allows); returns the callback owed."""
    current = Status(comment.status)
    if current == target or target not in ALLOWED[current]:
        return []
    decision = Decision(comment.id, site.id, target, actor, [{"code": f"akismet.submit_{target.value}",
                                                               "detail": "the site reported it through Akismet"}])
    if not apply_decision(session, decision, current):
        return []
    session.refresh(comment)
    if not site.callback_url:
        return []
    return outbox.add_deliveries(session, [(site.id, comment.id, MODERATED,
                                            {"event": MODERATED, "comment": public_view(comment)})])


def label_submitted(services: Any, session: Session, site: KeySite, label: str, found: Comment | None,
                    row: dict[str, Any] | None) -> list[int]:
    """Record the label on the found comment (moving its status), or store ``row`` as a new labelled comment."""
    target = Status.SPAM if label == "spam" else Status.APPROVED
    actor = f"moderator:{site.slug}@akismet"
    if found is not None:
        add_label(session, text=found.content, head="spam", label=label, source="akismet", site_id=site.id,
                  comment_id=found.id, actor=actor)
        return _moderate(session, site, found, target, actor)
    assert row is not None
    now = datetime.now(UTC)
    decision = Decision(row["id"], site.id, target, actor, [{"code": f"akismet.submit_{label}",
                                                              "detail": "reported by the site, never checked"}])
    stored = _decided_row(row, decision, now)
    session.execute(insert(Comment), [stored])
    session.execute(insert(DecisionEvent), [_event(stored, decision, f"akismet submit-{label}", now)])
    add_label(session, text=stored["content"], head="spam", label=label, source="akismet", site_id=site.id,
              comment_id=stored["id"], actor=actor)
    return []


def usage_this_month(services: Any, site: KeySite) -> int:
    """Comments this site sent through the Akismet API since the first of the month (UTC)."""
    start = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    with services.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(Comment).where(
            Comment.site_id == site.id, Comment.external_id.like("akismet:%"), Comment.received_at >= start)) or 0)
