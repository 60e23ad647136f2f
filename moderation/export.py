"""A site's decisions to take away: one record per comment (ids, status, scores, reasons, model, who decided and
when, every later action), as JSON lines or formula-safe CSV, streamed page by page (never the whole table).

Shared by ``moderation export`` and the console's download. Only the site's own comments are read. Commenters'
e-mail addresses, IPs and user agents are left out: the site has them under its own ids, and an export file
travels further than the database.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from moderation.cells import safe_cell
from moderation.decide.states import Status
from moderation.store.db import Database
from moderation.store.export import export_page
from moderation.store.models import Comment, DecisionEvent

FORMATS = ("jsonl", "csv")
PAGE = 500
"""Comments read per query (one short read snapshot each)."""

CSV_COLUMNS = ("id", "external_id", "site", "revision", "received_at", "created_at", "status", "spam", "abusive",
               "reasons", "model_version", "decided_by", "decided_at", "first_status", "first_by", "first_at",
               "actions", "content", "author_name", "post_id", "parent_id", "lang")
"""The CSV header; ``reasons`` and ``actions`` hold JSON (the JSON-lines records' lists)."""


def _iso(moment: datetime | None) -> str | None:
    """ISO-8601 in UTC with a Z, or None."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


def parse_since(text: str) -> datetime:
    """An ISO-8601 date or date-time (a trailing Z allowed; no zone means UTC); ValueError when it is not one."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _action(event: DecisionEvent) -> dict[str, Any]:
    """One audit event as exported."""
    return {"at": _iso(event.created_at), "by": event.actor, "from": event.from_status, "to": event.to_status,
            "note": event.note}


def record(comment: Comment, slug: str, events: list[DecisionEvent]) -> dict[str, Any]:
    """The export record of one comment: its standing decision, the first decision and every action after it."""
    first = next((e for e in events if e.from_status == Status.QUEUED.value), None)
    scores = None
    if comment.spam_score is not None:
        scores = {"spam": round(comment.spam_score, 6), "abusive": round(comment.abusive_score or 0.0, 6)}
    return {
        "id": comment.id, "external_id": comment.external_id, "site": slug, "revision": comment.revision or 0,
        "received_at": _iso(comment.received_at), "created_at": _iso(comment.created_at), "status": comment.status,
        "scores": scores, "reasons": comment.reasons or [], "model_version": comment.model_version,
        "decided_by": comment.decided_by, "decided_at": _iso(comment.decided_at),
        "first_decision": {"status": first.to_status, "by": first.actor, "at": _iso(first.created_at)}
        if first else None,
        "actions": [_action(e) for e in events if e is not first],
        "content": comment.content, "author_name": comment.author_name, "post_id": comment.post_id,
        "parent_id": comment.parent_id, "lang": comment.lang,
    }


def records(db: Database, site_id: int, slug: str, since: datetime | None = None) -> Iterator[dict[str, Any]]:
    """Every record of the site's comments (received at ``since`` or later), oldest first, page by page."""
    after = ""
    while True:
        with db.read() as session:
            page = [record(c, slug, events) for c, events in export_page(session, site_id, after, since, PAGE)]
        if not page:
            return
        yield from page
        after = page[-1]["id"]


def csv_row(rec: dict[str, Any]) -> list[str]:
    """A record as CSV cells, every one formula-safe."""
    first = rec["first_decision"] or {}
    flat = {**rec, "spam": (rec["scores"] or {}).get("spam"), "abusive": (rec["scores"] or {}).get("abusive"),
            "reasons": json.dumps(rec["reasons"], ensure_ascii=False),
            "actions": json.dumps(rec["actions"], ensure_ascii=False),
            "first_status": first.get("status"), "first_by": first.get("by"), "first_at": first.get("at")}
    return [safe_cell("" if flat[c] is None else str(flat[c])) for c in CSV_COLUMNS]


def lines(recs: Iterator[dict[str, Any]], fmt: str) -> Iterator[str]:
    """The export as text chunks: JSON lines, or CSV with its header row first."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    if fmt == "jsonl":
        for rec in recs:
            yield json.dumps(rec, ensure_ascii=False) + "\n"
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for n, rec in enumerate(recs, 1):
        writer.writerow(csv_row(rec))
        if n % 100 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
