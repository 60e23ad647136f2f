"""Authors (ban/trust), allow/deny lists, per-site thresholds, callback URLs and secret rotation.

No Flask here. List entries live in ``list_entries`` (rules.py reads them per
site on every scoring batch, so a change applies to the next comment).
"""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from moderation.api.auth import forget_site
from moderation.console.actions import ActionError, Outcome, moderate
from moderation.policy import Thresholds
from moderation.rules import ACTIONS, KINDS
from moderation.states import Status
from moderation.store import sites as sites_store
from moderation.store.models import Comment, ListEntry, Site
from moderation.store.users import Account
from moderation.text import normalize

AUTHOR_KINDS = ("email", "ip", "name")
"""How an author is recognised (names are not list entries: only their queued comments can be acted on)."""

EMAIL_RE = re.compile(r"^[^@\s]{1,200}@[^@\s]{1,200}$")
DOMAIN_RE = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}$")


def clean_value(kind: str, value: str) -> str:
    """Validate and normalise a list value; ActionError when it is not a valid value of its kind."""
    value = (value or "").strip()
    if not value or len(value) > 512:
        raise ActionError("a value of 1-512 characters is required")
    if kind == "email":
        if not EMAIL_RE.match(value):
            raise ActionError("not an e-mail address")
        return value.lower()
    if kind == "ip":
        try:
            return str(ipaddress.ip_network(value, strict=False)) if "/" in value else str(ipaddress.ip_address(value))
        except ValueError:
            raise ActionError("not an IP address or network") from None
    if kind == "domain":
        host = value.lower().removeprefix("http://").removeprefix("https://").split("/")[0]
        if not DOMAIN_RE.match(host):
            raise ActionError("not a domain name")
        return host
    if kind == "word":
        return value
    raise ActionError(f"kind must be one of {', '.join(KINDS)}")


def list_entries(session: Session, site_id: int | None, global_too: bool = True) -> list[tuple[ListEntry, str | None]]:
    """A site's entries (and the global ones), with the site's slug (None for global)."""
    stmt = select(ListEntry, Site.slug).outerjoin(Site, Site.id == ListEntry.site_id)
    cond = ListEntry.site_id == site_id if site_id is not None else ListEntry.site_id.is_(None)
    if global_too and site_id is not None:
        cond = cond | ListEntry.site_id.is_(None)
    return [(e, slug) for e, slug in session.execute(stmt.where(cond).order_by(ListEntry.kind, ListEntry.value))]


def add_entry(session: Session, site_id: int | None, action: str, kind: str, value: str) -> tuple[ListEntry, bool]:
    """Add an allow/deny entry (site or global); returns it and whether it is new."""
    if action not in ACTIONS:
        raise ActionError(f"action must be one of {', '.join(ACTIONS)}")
    value = clean_value(kind, value)
    stored = normalize(value) if kind == "word" else value
    site_cond = ListEntry.site_id == site_id if site_id is not None else ListEntry.site_id.is_(None)
    existing = session.scalar(select(ListEntry).where(site_cond, ListEntry.action == action, ListEntry.kind == kind,
                                                      ListEntry.value == stored))
    if existing:
        return existing, False
    entry = ListEntry(site_id=site_id, action=action, kind=kind, value=stored, created_at=datetime.now(UTC))
    session.add(entry)
    session.flush()
    return entry, True


def remove_entry(session: Session, entry_id: int) -> bool:
    """Delete one entry; False when there is none with that id."""
    if not 0 < entry_id < 2**63:  # the URL converter takes any digits; the database's integers stop here
        return False
    entry = session.get(ListEntry, entry_id)
    if entry is None:
        return False
    session.delete(entry)
    return True


def author_action(services: Any, account: Account, site_id: int, verdict: str, kind: str, value: str,
                  apply_to_queue: bool) -> tuple[ListEntry | None, Outcome | None]:
    """Ban (deny) or trust (allow) an author by e-mail/IP, optionally deciding their held comments too."""
    if verdict not in ("ban", "trust"):
        raise ActionError("verdict must be ban or trust")
    if kind not in AUTHOR_KINDS:
        raise ActionError(f"kind must be one of {', '.join(AUTHOR_KINDS)}")
    if kind == "name" and not apply_to_queue:
        raise ActionError("names cannot be listed (anyone can type a name): apply to their queued comments instead")
    value = value.strip() if kind == "name" else clean_value(kind, value)
    if not value:
        raise ActionError("a value is required")
    entry = None
    with services.db.session() as session:
        if session.get(Site, site_id) is None:
            raise ActionError("no such site")
        if kind != "name":
            entry, _ = add_entry(session, site_id, "deny" if verdict == "ban" else "allow", kind, value)
        column = {"email": Comment.author_email, "ip": Comment.author_ip, "name": Comment.author_name}[kind]
        match = column.in_({value, value.lower()}) if kind == "email" else column == value
        ids = list(session.scalars(select(Comment.id).where(Comment.site_id == site_id, match,
                                                            Comment.status == Status.HELD.value)
                                   .limit(services.settings["console.bulk_max"]))) if apply_to_queue else []
    outcome = None
    if ids:
        note = f"{verdict} author {kind}"
        outcome = moderate(services, account, ids, "spam" if verdict == "ban" else "approve", Status.HELD, note=note)
    return entry, outcome


def site_view(site: Site) -> dict[str, Any]:
    """A site as admins see it (never its secrets)."""
    return {"site": site.slug, "callback_url": site.callback_url, "approve_below": site.approve_below,
            "spam_above": site.spam_above, "abusive_above": site.abusive_above,
            "previous_secret_until": site.previous_secret_until.isoformat() if site.previous_secret_until else None}


def _threshold(value: Any, name: str) -> float | None:
    """A threshold from a form or JSON: empty means 'use the model card / settings'."""
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ActionError(f"{name} must be a number between 0 and 1") from None
    if not 0.0 <= number <= 1.0:
        raise ActionError(f"{name} must be between 0 and 1")
    return number


def update_site(session: Session, slug: str, changes: dict[str, Any], defaults: dict[str, float]) -> Site:
    """Change a site's thresholds and/or callback URL; the whole change is refused if any part is invalid."""
    site = session.scalar(select(Site).where(Site.slug == slug))
    if site is None:
        raise ActionError("no such site")
    unknown = set(changes) - {"approve_below", "spam_above", "abusive_above", "callback_url"}
    if unknown:
        raise ActionError(f"unknown fields: {', '.join(sorted(unknown))}")
    values = {n: _threshold(changes[n], n) if n in changes else getattr(site, n)
              for n in ("approve_below", "spam_above", "abusive_above")}
    try:
        Thresholds.layered(values, defaults)
    except ValueError as exc:
        raise ActionError(str(exc)) from None
    if "callback_url" in changes:
        if changes["callback_url"] is not None and not isinstance(changes["callback_url"], str):
            raise ActionError("callback_url must be an http(s) URL or empty")
        url = (changes["callback_url"] or "").strip()
        parts = urlsplit(url)
        if url and (parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2048):
            raise ActionError("callback_url must be an http(s) URL")
        site.callback_url = url or None
    for name, value in values.items():
        setattr(site, name, value)
    return site


def rotate_secret(session: Session, slug: str, grace_hours: int) -> tuple[Site, str]:
    """Give a site a new secret (store.sites.rotate_secret); the old one verifies for ``grace_hours`` more."""
    try:
        site = sites_store.rotate_secret(session, slug, timedelta(hours=grace_hours))
    except LookupError:
        raise ActionError("no such site") from None
    forget_site(slug)  # this process's signature cache; others pick the change up within seconds
    return site, site.secret
