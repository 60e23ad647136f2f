"""Site authentication (HMAC signatures) and the per-site rate limit, in front of every /api/v1 handler."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from flask import g, request

from moderation import limits
from moderation.api.errors import ApiError
from moderation.delivery import signing
from moderation.services import Services, get_services
from moderation.store.sites import SiteAuth, site_auth
from moderation.ttlcache import TtlCache

F = TypeVar("F", bound=Callable[..., Any])

SITE_CACHE_SECONDS = 5.0
"""How long a process trusts its cached copy of a site's secrets (rotation shows within this)."""

_sites: TtlCache[tuple[str, str], SiteAuth | None] = TtlCache(SITE_CACHE_SECONDS)

_NO_SITE_SECRET = secrets.token_hex(32)
"""What an unknown site's signature is checked against: the same work and the same answer as a wrong one."""


def _lookup(services: Services, slug: str) -> SiteAuth | None:
    """The site's secrets, from a short per-process cache to spare the database a query per request."""

    def load() -> SiteAuth | None:
        with services.db.session() as session:
            return site_auth(session, slug)

    return _sites.get((services.settings["database_url"], slug), load)


def forget_site(slug: str) -> None:
    """Drop a site from this process's cache (after a secret rotation, say)."""
    _sites.forget(lambda key: key[1] == slug)


def _check_rate(services: Services, site: SiteAuth, body: bytes) -> None:
    """Per-site and per-commenter-IP limits (moderation.limits: GCRA in Redis, fail-open when Redis is down)."""
    ip = limits.commenter_ip(body) if request.method == "POST" and request.path.endswith("/comments") else None
    decision = limits.check_site_request(services, site.id, ip)
    if not decision.allowed:
        raise ApiError(429, "rate_limited", f"over {decision.limit} requests per minute", headers=decision.headers())


def signed_path() -> str:
    """The path and query exactly as the client sent them (what it signed), not as decoded."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if raw:
        return str(raw)
    return request.full_path if request.query_string else request.path


def signed(view: F) -> F:
    """Verify the request's signature and rate limit; puts the site on ``g.site``."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        services = get_services()
        slug = request.headers.get(signing.SITE_HEADER, "")
        site = _lookup(services, slug) if slug else None
        body = request.get_data(cache=True)
        path = signed_path()
        verdict = signing.verify(
            list(site.secrets) if site else [_NO_SITE_SECRET], request.headers.get(signing.TIMESTAMP_HEADER),
            request.headers.get(signing.SIGNATURE_HEADER), request.method, path, body,
            services.settings["intake.signature_max_age"],
        )
        if site is None or not verdict.ok:
            # The same answer whether the site exists or not, so site names cannot be enumerated: an unknown
            # site is checked against a dummy secret and fails (or is told it failed) like a wrong signature.
            raise ApiError(401, "unauthorized", verdict.reason or "signature does not match")
        _check_rate(services, site, body)
        g.site = site
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
