"""Shared by the pages and the review API: request arguments → queue filter, rows → JSON-able items."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from moderation.api.schemas import has_nul
from moderation.console.highlight import links, ngrams_from, segments
from moderation.console.i18n import status_word, times
from moderation.store.models import Comment, DecisionEvent, Flag, Site
from moderation.store.review import FilterError, QueueFilter, author_history, events_for, flags_for
from moderation.store.teaching import spot_checks, suggestions
from moderation.store.users import Account


def _iso(moment: datetime | None) -> str | None:
    """ISO-8601 UTC with a Z."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


def site_zones(session: Session, default: str) -> dict[str, str]:
    """Every site's time zone by slug (``default`` for a site without its own)."""
    return {slug: zone or default for slug, zone in session.execute(select(Site.slug, Site.time_zone))}


def stats_zone(session: Session, account: Account | None, default: str) -> str:
    """The zone stats days are cut in: the one zone of the sites the reader acts on, else ``default``."""
    ids = set(site_ids(session, account))
    zones = {zone for slug, zone in site_zones(session, default).items() if slug in ids}
    return zones.pop() if len(zones) == 1 else default


def site_ids(session: Session, account: Account | None = None) -> dict[str, int]:
    """Every site's id by slug (for the filter menus): the ones ``account`` acts on when it is given."""
    rows = session.execute(select(Site.id, Site.slug).order_by(Site.slug))
    return {slug: sid for sid, slug in rows if account is None or account.may_act_on(sid)}


def parse_filter(args: Mapping[str, Any], sites: dict[str, int], reported_after: int,
                 account: Account | None = None) -> QueueFilter:
    """A queue filter from query arguments or a JSON object; FilterError for unknown sites or bad values.

    ``sites`` are those the viewer may see; a scoped moderator's filter keeps to their sites."""
    def text(name: str, longest: int = 255) -> str | None:
        value = args.get(name)
        if value is None or value == "":
            return None
        if not isinstance(value, str) or len(value) > longest:
            raise FilterError(_l("%(name)s must be text of at most %(n)s characters", name=name, n=longest))
        if has_nul(value):  # searched in the database, and PostgreSQL's text cannot hold it
            raise FilterError(_l("%(field)s must not contain the NUL character (U+0000)", field=name))
        return value.strip() or None

    site = text("site", 64)
    if site is not None and site not in sites:
        raise FilterError(_l("no site %(site)s", site=repr(site)))
    return QueueFilter(queue=text("queue", 16) or "held", site_id=sites[site] if site else None,
                       reason=text("reason", 64), lang=text("lang", 16), post=text("post"), q=text("q", 200),
                       sort=text("sort", 16) or "", reported_after=reported_after,
                       scope=account.site_scope if account is not None and not account.is_admin else None)


def item(comment: Comment, slug: str, reports: int = 0, similar: int | None = None,
         time_zone: str | None = None) -> dict[str, Any]:
    """A comment as the console shows it: exact text cut into highlight segments, links listed as text,
    and the zone its site's times are shown in."""
    reasons = comment.reasons or []
    return {
        "id": comment.id, "site": slug, "external_id": comment.external_id, "status": comment.status,
        "content": comment.content,
        "segments": [{"text": piece, "hit": hit} for piece, hit in segments(comment.content, ngrams_from(reasons))],
        "links": links(comment.content),
        "author": {"name": comment.author_name, "email": comment.author_email, "ip": comment.author_ip,
                   "url": comment.author_url},
        "post": {"id": comment.post_id, "url": comment.post_url, "title": comment.post_title},
        "lang": comment.lang,
        "scores": {"spam": comment.spam_score, "abusive": comment.abusive_score},
        "reasons": reasons, "model_version": comment.model_version,
        "decided_by": comment.decided_by, "decided_at": _iso(comment.decided_at),
        "received_at": _iso(comment.received_at), "reports": reports, "similar": similar, "time_zone": time_zone,
    }


def _event(e: DecisionEvent, zone: str | None) -> dict[str, Any]:
    """One audit event (``at_local``: its time in the site's zone and the reader's language)."""
    return {"id": e.id, "actor": e.actor, "from": e.from_status, "to": e.to_status, "note": e.note,
            "reasons": e.reasons or [], "at": _iso(e.created_at), "at_local": times(e.created_at, zone),
            "from_word": status_word(e.from_status), "to_word": status_word(e.to_status)}


def _flag(f: Flag, zone: str | None) -> dict[str, Any]:
    """One reader report."""
    return {"reason": f.reason, "reporter": f.reporter, "note": f.note, "at": _iso(f.created_at),
            "at_local": times(f.created_at, zone), "resolved_by": f.resolved_by, "resolved_at": _iso(f.resolved_at)}


def detail(session: Session, comment: Comment, slug: str, similar: int, zone: str | None = None) -> dict[str, Any]:
    """Everything the console shows about one comment: the item, audit trail, reports and author history."""
    events = events_for(session, comment.id)
    flags = flags_for(session, comment.id)
    history, counts = author_history(session, comment)
    out = item(comment, slug, sum(1 for f in flags if f.resolved_at is None), similar, zone)
    # After a moderator decision the comment's reasons start with theirs; the model's n-grams are kept
    # after it, and the first (machine) decision event has them too, so highlights survive moderation.
    machine = next((e.reasons for e in events if e.from_status == "queued" and e.reasons), None)
    if machine and not any(str(r.get("code", "")).startswith("model.") for r in comment.reasons or []):
        out["segments"] = [{"text": p, "hit": h} for p, h in segments(comment.content, ngrams_from(machine))]
    out.update(events=[_event(e, zone) for e in events], flags=[_flag(f, zone) for f in flags],
               history=[{"id": h.id, "status": h.status, "status_word": status_word(h.status),
                         "content": h.content[:300], "decided_by": h.decided_by,
                         "received_at": _iso(h.received_at), "received_local": times(h.received_at, zone)}
                        for h in history],
               history_counts=counts)
    return out


__all__ = ["FilterError", "detail", "item", "parse_filter", "site_ids", "site_zones"]


def teach_items(session: Session, default_zone: str, scope: tuple[int, ...] | None, limit: int,
                spot: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """'Help the model' as items: the comments the model is least sure of, then (``spot`` of) its own spam marks
    to spot-check, none of a campaign the first list offers."""
    zones = site_zones(session, default_zone)
    found = suggestions(session, limit, scope=scope)
    checks = spot_checks(session, spot, scope=scope, beside=found) if spot else []
    uncertain, spotted = ([item(c, slug, time_zone=zones.get(slug)) for c, slug in rows] for rows in (found, checks))
    return uncertain, spotted
