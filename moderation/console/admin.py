"""Authors (ban/trust), allow/deny lists, per-site thresholds, callback URLs, alert recipients and secret rotation.

No Flask here. List entries live in ``list_entries`` (rules.py reads them per
site on every scoring batch, so a change applies to the next comment).
"""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from moderation.api.auth import forget_site
from moderation.console import site_alerts
from moderation.console.actions import ActionError, Outcome, moderate, refuse_nul
from moderation.decide.policy import THRESHOLD_NAMES, Thresholds
from moderation.decide.rules import ACTIONS, KINDS, name_key
from moderation.decide.states import Status
from moderation.delivery.posting import url_problem
from moderation.privacy import Pseudonymizer
from moderation.reading.text import normalize
from moderation.services import Services
from moderation.store import sites as sites_store
from moderation.store.models import Comment, ListEntry, Site, is_row_id
from moderation.store.users import Account

LIST_KINDS = ("word", "domain", "email", "ip", "name")
"""What a list entry can match, in the order the admin form offers them."""

AUTHOR_KINDS = ("email", "ip", "name")
"""How an author is recognised (each is a list kind: a ban or trust also applies to their next comments)."""

EMAIL_RE = re.compile(r"^[^@\s]{1,200}@[^@\s]{1,200}$")
DOMAIN_RE = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}$")


class NotAllowed(ActionError):
    """The account's role does not allow this (the review API answers 403)."""


class NoSuchSite(ActionError):
    """The slug names no site (the review API answers 404)."""


def clean_value(kind: str, value: str) -> str:
    """Validate and normalise a list value; ActionError when it is not a valid value of its kind."""
    value = (value or "").strip()
    refuse_nul(value=value)
    if not value or len(value) > 512:
        raise ActionError(_l("a value of 1-512 characters is required"))
    if kind == "email":
        if not EMAIL_RE.match(value):
            raise ActionError(_l("not an e-mail address"))
        return value.lower()
    if kind == "ip":
        try:
            return str(ipaddress.ip_network(value, strict=False)) if "/" in value else str(ipaddress.ip_address(value))
        except ValueError:
            raise ActionError(_l("not an IP address or network")) from None
    if kind == "domain":
        host = value.lower().removeprefix("http://").removeprefix("https://").split("/")[0]
        if not DOMAIN_RE.match(host):
            raise ActionError(_l("not a domain name"))
        return host
    if kind == "word":
        return value
    if kind == "name":
        return name_key(value)  # rules.py compares names in this form, so one entry covers every spelling
    raise ActionError(_l("kind must be one of %(choices)s", choices=", ".join(KINDS)))


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
        raise ActionError(_l("action must be one of %(choices)s", choices=", ".join(ACTIONS)))
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
    if not is_row_id(entry_id):  # the URL converter takes any digits; the id column is a 32-bit INTEGER
        return False
    entry = session.get(ListEntry, entry_id)
    if entry is None:
        return False
    session.delete(entry)
    return True


def author_action(services: Services, account: Account, site_id: int, verdict: str, kind: str, value: str,
                  apply_to_queue: bool) -> tuple[ListEntry | None, Outcome | None]:
    """Ban (deny) or trust (allow) an author by e-mail/IP/name, optionally deciding their held comments too."""
    if verdict not in ("ban", "trust"):
        raise ActionError(_l("verdict must be ban or trust"))
    if kind not in AUTHOR_KINDS:
        raise ActionError(_l("kind must be one of %(choices)s", choices=", ".join(AUTHOR_KINDS)))
    if not account.may_act_on(site_id):
        raise ActionError(_l("no such site"))
    value = clean_value(kind, value)
    if kind == "ip" and not account.is_admin:
        value = _one_address(value)
    with services.db.session() as session:
        if session.get(Site, site_id) is None:
            raise ActionError(_l("no such site"))
        entry, _ = add_entry(session, site_id, "deny" if verdict == "ban" else "allow", kind, value)
        hasher = Pseudonymizer.from_settings(services.settings)
        ids = (_held_by(session, site_id, kind, value, hasher, services.settings["console.bulk_max"])
               if apply_to_queue else [])
    outcome = None
    if ids:
        note = f"{verdict} author {kind}"
        outcome = moderate(services, account, ids, "spam" if verdict == "ban" else "approve", Status.HELD, note=note)
    return entry, outcome


def _one_address(value: str) -> str:
    """A moderator trusts or bans one author: one address, never a network (ranges are admin-only)."""
    network = ipaddress.ip_network(value, strict=False)
    if network.num_addresses != 1:
        raise NotAllowed(_l("a moderator trusts or bans one IP address; networks and ranges are for admins"))
    return str(network.network_address)


def _held_by(session: Session, site_id: int, kind: str, value: str, hasher: Pseudonymizer, cap: int) -> list[str]:
    """Ids of the site's held comments by this author (``value`` as clean_value left it), oldest first.

    E-mails match whatever their case, and e-mails and IPs also in the keyed-hash form the privacy job
    stores after ``privacy.retain_days`` (same author, same hash).
    """
    held = (Comment.site_id == site_id, Comment.status == Status.HELD.value)
    if kind in ("email", "ip"):
        column = Comment.author_email if kind == "email" else Comment.author_ip
        match: ColumnElement[bool] = column.in_(hasher.forms(kind, value))
        if kind == "email":
            match = or_(match, func.lower(column) == value.lower())
        return list(session.scalars(select(Comment.id).where(*held, match).order_by(Comment.id).limit(cap)))
    # Names match case-insensitively after whitespace normalisation, which SQL cannot say on both backends:
    # narrow in SQL (each word, in order, anywhere; ASCII names only, as SQLite's lower() is ASCII-only),
    # then compare exactly in Python.
    stmt = select(Comment.id, Comment.author_name).where(*held, Comment.author_name.is_not(None))
    if value.isascii():
        words = "%".join(w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for w in value.split())
        stmt = stmt.where(func.lower(Comment.author_name).like(f"%{words}%", escape="\\"))
    ids = []
    for cid, name in session.execute(stmt.order_by(Comment.id).execution_options(yield_per=1000)):
        if name_key(name or "") == value:
            ids.append(cid)
            if len(ids) >= cap:
                break
    return ids


def site_view(site: Site) -> dict[str, Any]:
    """A site as admins see it (never its secrets: its alert webhook URL masked)."""
    return {"site": site.slug, "callback_url": site.callback_url, "approve_below": site.approve_below,
            "spam_above": site.spam_above, "abusive_above": site.abusive_above, "time_zone": site.time_zone,
            "mode": site.mode,
            "previous_secret_until": site.previous_secret_until.isoformat() if site.previous_secret_until else None,
            **site_alerts.view(site)}


def _threshold(value: Any, name: str) -> float | None:
    """A threshold from a form or JSON: empty means 'use the model card / settings'."""
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ActionError(_l("%(name)s must be a number between 0 and 1", name=name)) from None
    if not 0.0 <= number <= 1.0:
        raise ActionError(_l("%(name)s must be between 0 and 1", name=name))
    return number


def _outside(message: str) -> str:
    """An English refusal of the decide or delivery layer in the reader's language (console.i18n)."""
    from moderation.console.i18n import store_message

    return store_message(message)


def _zone(value: Any) -> str | None:
    """A site's time zone from a form or JSON: an IANA name zoneinfo knows, or empty for the default."""
    if value is not None and not isinstance(value, str):
        raise ActionError(_l("time_zone must be an IANA time zone name such as Asia/Jakarta, or empty"))
    if not value or not value.strip():
        return None
    refuse_nul(time_zone=value)
    try:
        return sites_store.valid_zone(value.strip())
    except sites_store.BadTimeZone:
        raise ActionError(_l("%(zone)s is not an IANA time zone name (such as Asia/Jakarta, Asia/Makassar or "
                             "Asia/Jayapura)", zone=repr(value[:64]))) from None


def update_site(session: Session, slug: str, changes: dict[str, Any], defaults: dict[str, float],
                block_private: bool = False) -> Site:
    """Change a site's thresholds, callback URL, time zone, mode and/or alert recipients; the whole change is refused
    if any part is invalid."""
    site = sites_store.site_by_slug(session, slug)
    if site is None:
        raise NoSuchSite(_l("no such site"))
    unknown = set(changes) - {*THRESHOLD_NAMES, "callback_url", "time_zone", "mode", *site_alerts.FIELDS}
    if unknown:
        raise ActionError(_l("unknown fields: %(fields)s", fields=", ".join(sorted(unknown))))
    site_alerts.apply(site, changes, block_private)  # checks both fields first; a later refusal rolls it back
    values = {n: _threshold(changes[n], n) if n in changes else getattr(site, n)
              for n in THRESHOLD_NAMES}
    try:
        Thresholds.layered(values, defaults)
    except ValueError as exc:
        raise ActionError(_outside(str(exc))) from None
    new_zone = _zone(changes["time_zone"]) if "time_zone" in changes else site.time_zone
    if "callback_url" in changes:
        if changes["callback_url"] is not None and not isinstance(changes["callback_url"], str):
            raise ActionError(_l("callback_url must be an http(s) URL or empty"))
        refuse_nul(callback_url=changes["callback_url"])
        url = (changes["callback_url"] or "").strip()
        problem = url_problem(url, block_private) if url else None
        if problem:
            raise ActionError(_outside(problem))
        site.callback_url = url or None
    if "time_zone" in changes:
        site.time_zone = new_zone
    if "mode" in changes and changes["mode"] not in ("", None):
        if changes["mode"] not in sites_store.MODES:
            raise ActionError(_l("mode must be one of %(modes)s", modes=", ".join(sites_store.MODES)))
        site.mode = changes["mode"]
        forget_site(slug)  # this process's intake answers show the new mode at once, others within seconds
    for name, value in values.items():
        setattr(site, name, value)
    return site


def rotate_secret(session: Session, slug: str, grace_hours: int) -> tuple[Site, str]:
    """Give a site a new secret (store.sites.rotate_secret); the old one verifies for ``grace_hours`` more."""
    try:
        site = sites_store.rotate_secret(session, slug, timedelta(hours=grace_hours))
    except LookupError:
        raise NoSuchSite(_l("no such site")) from None
    forget_site(slug)  # this process's signature cache; others pick the change up within seconds
    return site, site.secret
