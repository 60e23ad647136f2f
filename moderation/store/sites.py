"""Queries about sites: registration, lookup by slug or API key, listing."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from moderation.store.models import Site


class SiteExists(ValueError):
    """A site with that slug is already registered."""


class BadTimeZone(ValueError):
    """Not an IANA time zone name this machine knows (``Asia/Jakarta``, ``Asia/Makassar``, ``UTC``...)."""


def valid_zone(name: str) -> str:
    """The IANA zone name as given when zoneinfo knows it; BadTimeZone otherwise."""
    if not isinstance(name, str) or not name or len(name) > 64 or "\x00" in name or name.startswith(("/", ".")) \
            or ".." in name:
        raise BadTimeZone(f"not an IANA time zone name: {name!r}")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise BadTimeZone(f"not an IANA time zone name: {name!r}") from None
    return name


@dataclass(frozen=True)
class SiteAuth:
    """What a request handler needs to authenticate a site (detached from any session)."""

    id: int
    slug: str
    secrets: tuple[str, ...]
    mode: str = "enforce"


MODES = ("enforce", "shadow")
"""enforce: the site applies our decisions; shadow: a trial beside its own filter (we decide, it only watches)."""

ALERT_EMAILS_MAX = 20
"""Most alert e-mail recipients of one site (sites.alert_emails)."""

ALERT_EMAIL_CHARS = 254
"""Longest alert e-mail address (RFC 5321's path limit less the brackets)."""

ALERT_WEBHOOK_CHARS = 2048
"""Longest alert webhook URL (the size of sites.alert_webhook_url)."""


def create_site(session: Session, slug: str, callback_url: str | None = None, time_zone: str | None = None,
                mode: str = "enforce") -> Site:
    """Register a site with a fresh secret and API key (its time zone for the console, its mode)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    zone = valid_zone(time_zone) if time_zone else None
    if session.scalar(select(Site.id).where(Site.slug == slug)) is not None:
        raise SiteExists(f"site {slug!r} already exists")
    site = Site(
        slug=slug,
        secret=secrets.token_hex(32),
        api_key=secrets.token_hex(16),
        callback_url=callback_url or None,
        created_at=datetime.now(UTC),
        time_zone=zone,
        mode=mode,
    )
    session.add(site)
    session.flush()
    return site


def site_by_slug(session: Session, slug: str) -> Site | None:
    """The site with this slug, if any (text with a NUL names no site: PostgreSQL could not even compare it)."""
    return session.scalar(select(Site).where(Site.slug == slug)) if "\x00" not in slug else None


def site_auth(session: Session, slug: str, now: datetime | None = None) -> SiteAuth | None:
    """The secrets that currently verify this site's signatures (the previous one during its grace window)."""
    site = site_by_slug(session, slug)
    if site is None:
        return None
    valid = [site.secret]
    moment = now or datetime.now(UTC)
    if site.previous_secret and site.previous_secret_until and site.previous_secret_until > moment:
        valid.append(site.previous_secret)
    return SiteAuth(site.id, site.slug, tuple(valid), site.mode or "enforce")


def list_sites(session: Session) -> list[Site]:
    """Every site, oldest first."""
    return list(session.scalars(select(Site).order_by(Site.id)))


def site_by_api_key(session: Session, api_key: str) -> Site | None:
    """The site whose Akismet-compatible API key this is, if any."""
    return session.scalar(select(Site).where(Site.api_key == api_key)) if api_key and "\x00" not in api_key else None


def rotate_secret(session: Session, slug: str, grace: timedelta, now: datetime | None = None) -> Site:
    """Give the site a new secret; the current one keeps verifying for ``grace`` (LookupError: no such site).

    A rotation during a previous grace window ends that window: only the
    secret in use right now may be carried over, never an older one.
    """
    if grace < timedelta(0):
        raise ValueError("the grace window cannot be negative")
    site = site_by_slug(session, slug)
    if site is None:
        raise LookupError(f"no site {slug!r}")
    moment = now or datetime.now(UTC)
    site.previous_secret, site.previous_secret_until = site.secret, moment + grace
    site.secret = secrets.token_hex(32)
    session.flush()
    return site


def set_time_zone(session: Session, slug: str, time_zone: str | None) -> Site:
    """The zone the console shows this site's times in (None: the default); LookupError / BadTimeZone."""
    site = site_by_slug(session, slug)
    if site is None:
        raise LookupError(f"no site {slug!r}")
    site.time_zone = valid_zone(time_zone) if time_zone else None
    session.flush()
    return site


def set_mode(session: Session, slug: str, mode: str) -> Site:
    """Put a site in enforce or shadow mode (LookupError: no such site; ValueError: no such mode)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    site = site_by_slug(session, slug)
    if site is None:
        raise LookupError(f"no site {slug!r}")
    site.mode = mode
    session.flush()
    return site


def rotate_api_key(session: Session, slug: str) -> Site:
    """Give the site a new Akismet-compatible API key; the old one stops working (LookupError: no such site).

    No grace window: the key is a bearer credential, usually rotated because it leaked. Web processes
    that cached the old key (moderation.api.akismet_record.KEY_CACHE_SECONDS) forget it within seconds.
    """
    site = site_by_slug(session, slug)
    if site is None:
        raise LookupError(f"no site {slug!r}")
    site.api_key = secrets.token_hex(16)
    session.flush()
    return site
