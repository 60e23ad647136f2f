"""The callback outbox: deliveries owed to sites and every attempt made at them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from moderation.store.models import CallbackAttempt, CallbackDelivery, Site

PENDING = "pending"
"""Owed and not yet acknowledged by the site."""

DELIVERED = "delivered"
"""The site answered 2xx."""

FAILED = "failed"
"""Every retry was spent; `moderation callbacks retry` sends it again."""


@dataclass(frozen=True)
class Outgoing:
    """Everything needed to POST one delivery, detached from the session."""

    delivery_id: int
    site: str
    url: str
    secret: str
    body: bytes
    comment_id: str = ""


def add_delivery(
    session: Session, site_id: int, comment_id: str, event: str, payload: dict[str, Any]
) -> CallbackDelivery:
    """Record an event owed to a site (in the same transaction as the decision that caused it)."""
    now = datetime.now(UTC)
    delivery = CallbackDelivery(
        site_id=site_id, comment_id=comment_id, event=event,
        payload=json.dumps(payload, separators=(",", ":"), ensure_ascii=False),
        status=PENDING, attempts=0, created_at=now, updated_at=now,
    )
    session.add(delivery)
    return delivery


def add_deliveries(session: Session, items: Sequence[tuple[int, str, str, dict[str, Any]]]) -> list[int]:
    """Record many owed events (site id, comment id, event, payload) in one statement; returns their ids."""
    if not items:
        return []
    now = datetime.now(UTC)
    rows = [{"site_id": site_id, "comment_id": comment_id, "event": event, "status": PENDING, "attempts": 0,
             "payload": json.dumps(payload, separators=(",", ":"), ensure_ascii=False),
             "created_at": now, "updated_at": now} for site_id, comment_id, event, payload in items]
    stmt = insert(CallbackDelivery).returning(CallbackDelivery.id, sort_by_parameter_order=True)
    return list(session.scalars(stmt, rows))


def outgoing(session: Session, delivery_ids: Sequence[int]) -> tuple[list[Outgoing], list[int]]:
    """Pending deliveries ready to send, and the ids of those whose site has no callback URL."""
    stmt = (
        select(CallbackDelivery.id, CallbackDelivery.payload, Site.slug, Site.callback_url, Site.secret,
               CallbackDelivery.comment_id)
        .join(Site, Site.id == CallbackDelivery.site_id)
        .where(CallbackDelivery.id.in_(list(delivery_ids)), CallbackDelivery.status == PENDING)
        .order_by(CallbackDelivery.id)  # the order the events happened in
    )
    ready, no_url = [], []
    for delivery_id, payload, slug, url, secret, comment_id in session.execute(stmt):
        if url:
            ready.append(Outgoing(delivery_id, slug, url, secret, payload.encode(), comment_id))
        else:
            no_url.append(delivery_id)
    return ready, no_url


@dataclass(frozen=True)
class Attempt:
    """One HTTP attempt at a delivery, and where that leaves the delivery."""

    delivery_id: int
    status_code: int | None
    error: str | None
    duration_ms: float
    outcome: str  # PENDING (a retry is due at next_attempt_at), DELIVERED or FAILED
    next_attempt_at: datetime | None = None


def record_attempts(session: Session, attempts: Sequence[Attempt]) -> None:
    """Store attempts and move their deliveries on, in two bulk statements."""
    if not attempts:
        return
    now = datetime.now(UTC)
    session.execute(insert(CallbackAttempt), [
        {"delivery_id": a.delivery_id, "attempted_at": now, "status_code": a.status_code, "error": a.error,
         "duration_ms": a.duration_ms} for a in attempts
    ])
    table = CallbackDelivery.__table__
    assert isinstance(table, Table)
    session.execute(
        update(table).where(table.c.id == bindparam("b_id")).values(
            attempts=table.c.attempts + 1, last_status_code=bindparam("b_code"), last_error=bindparam("b_error"),
            updated_at=now, next_attempt_at=bindparam("b_next"), status=bindparam("b_status"),
            delivered_at=func.coalesce(bindparam("b_delivered"), table.c.delivered_at)),
        [{"b_id": a.delivery_id, "b_code": a.status_code, "b_error": a.error, "b_next": a.next_attempt_at,
          "b_status": a.outcome, "b_delivered": now if a.outcome == DELIVERED else None} for a in attempts],
    )


def reopen(session: Session, delivery_ids: Sequence[int] | None = None) -> list[int]:
    """Put failed deliveries (all, or the given ones) back to pending; returns their ids."""
    stmt = select(CallbackDelivery.id).where(CallbackDelivery.status == FAILED)
    if delivery_ids:
        stmt = stmt.where(CallbackDelivery.id.in_(list(delivery_ids)))
    ids = list(session.scalars(stmt))
    if ids:
        session.execute(update(CallbackDelivery).where(CallbackDelivery.id.in_(ids))
                        .values(status=PENDING, updated_at=datetime.now(UTC)))
    return ids


def stale_pending_ids(session: Session, older_than: timedelta, limit: int = 10_000) -> list[int]:
    """Pending deliveries untouched for longer than the bound past their due time (their job was lost)."""
    cutoff = datetime.now(UTC) - older_than
    due = func.coalesce(CallbackDelivery.next_attempt_at, CallbackDelivery.updated_at)
    stmt = (select(CallbackDelivery.id)
            .where(CallbackDelivery.status == PENDING, due < cutoff)
            .order_by(CallbackDelivery.id).limit(limit))
    return list(session.scalars(stmt))


def touch(session: Session, delivery_ids: Sequence[int]) -> None:
    """Mark deliveries as just handled, so the sweeper leaves them alone for a while."""
    if delivery_ids:
        session.execute(update(CallbackDelivery).where(CallbackDelivery.id.in_(list(delivery_ids)))
                        .values(updated_at=datetime.now(UTC)))


def list_deliveries(
    session: Session, status: str | None = None, limit: int = 100
) -> list[tuple[CallbackDelivery, str]]:
    """Deliveries (optionally of one status), newest first, with the site's slug."""
    stmt = select(CallbackDelivery, Site.slug).join(Site, Site.id == CallbackDelivery.site_id)
    if status:
        stmt = stmt.where(CallbackDelivery.status == status)
    return [(d, slug) for d, slug in session.execute(stmt.order_by(CallbackDelivery.id.desc()).limit(limit))]


def attempts_for(session: Session, delivery_id: int) -> list[CallbackAttempt]:
    """Every attempt at one delivery, oldest first."""
    stmt = select(CallbackAttempt).where(CallbackAttempt.delivery_id == delivery_id).order_by(CallbackAttempt.id)
    return list(session.scalars(stmt))
