"""Allow/deny list entries as the decider reads them: the global ones and those of the given sites."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from moderation.store.models import ListEntry


def entries_for(session: Session, site_ids: Collection[int]) -> list[dict[str, Any]]:
    """Every global entry and every entry of these sites, as dicts (site_id None: global)."""
    rows = session.execute(
        select(ListEntry.site_id, ListEntry.action, ListEntry.kind, ListEntry.value)
        .where(or_(ListEntry.site_id.is_(None), ListEntry.site_id.in_(list(site_ids))))
    ).all()
    return [r._asdict() for r in rows]
