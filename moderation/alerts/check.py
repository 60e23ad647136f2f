"""One alert run (the cron job): is a digest due, and has each channel's interval passed? Then send it.

The service's global channels (``alerts.email_to``, ``alerts.webhook_url``) get
one digest of every site's held queue; a site with recipients of its own gets a
digest of its own held queue only, judged against the same thresholds, on its own
channels (reported as ``site:SLUG email`` / ``site:SLUG webhook``).

Several cron or worker processes may run this at once: each channel's slot is a
Redis key taken with SET NX for ``alerts.interval`` seconds, so one digest goes
out per channel per interval (a site's channels have slots of their own, so one
site's alert never silences another's). A channel that fails gives its slot
back, so the next run tries again; one channel failing never stops the others.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from moderation.alerts.channels import channels, describe, site_channels
from moderation.alerts.digest import Digest, build
from moderation.alerts.links import link_key
from moderation.services import Services
from moderation.store.alerts import SiteRecipients, site_recipients

log = logging.getLogger(__name__)

NO_SMTP = "no SMTP server (alerts.smtp_url)"
"""What a site's e-mail channel reports while the service has no SMTP server to send it through."""


@dataclass(frozen=True)
class Channel:
    """One place a digest goes: its name in reports, its slot's name in Redis, and how to send (None: cannot)."""

    name: str
    slot: str
    send: Any


@dataclass
class Plan:
    """The channels of one digest (``site`` None: the global digest of every site) and the digest (None: not due)."""

    site: SiteRecipients | None
    channels: list[Channel]
    digest: Digest | None = None


def slot_key(prefix: str, channel: str) -> str:
    """The Redis key holding a channel's 'alert sent' slot."""
    return f"{prefix}:alerts:sent:{channel}"


def _channels(settings: Any, site: SiteRecipients | None) -> list[Channel]:
    """The global channels (``site`` None), or one site's own, named and slotted apart from every other site's."""
    if site is None:
        return [Channel(name, name, send) for name, send in channels(settings).items()]
    return [Channel(f"site:{site.slug} {kind}", f"site:{site.site_id}:{kind}", send)
            for kind, send in site_channels(settings, site).items()]


def run_alerts(services: Services, now: datetime | None = None, test: bool = False) -> dict[str, str]:
    """Send each due digest on each of its channels whose interval has passed; returns what each channel did.

    ``test`` sends the queue's digest on every channel now, whatever the thresholds and interval (and takes
    no slot), to check the settings.
    """
    settings = services.settings
    now = now or datetime.now(UTC)
    key = link_key(settings)
    with services.db.read() as session:
        plans = [Plan(site, _channels(settings, site)) for site in (None, *site_recipients(session))]
        plans = [p for p in plans if p.channels]
        for plan in plans:
            plan.digest = build(session, settings, key, now, test=test, site=plan.site)
    out: dict[str, str] = {}
    for plan in plans:
        for channel in plan.channels:
            out[channel.name] = _run_channel(services, channel, plan, test)
    return out


def _run_channel(services: Services, channel: Channel, plan: Plan, test: bool) -> str:
    """Send one digest on one channel if it is due and the channel's slot is free; returns what was done."""
    if plan.digest is None:
        return "not due"
    if channel.send is None:
        return NO_SMTP
    settings = services.settings
    key, mine = slot_key(settings["queue.prefix"], channel.slot), secrets.token_hex(8)
    if not test and not services.redis.set(key, mine, nx=True, ex=max(1, settings["alerts.interval"])):
        return "sent recently"
    hidden = [settings["alerts.smtp_url"], settings["alerts.webhook_url"], *(
        [plan.site.webhook_url] if plan.site and plan.site.webhook_url else [])]
    return _send(services, channel.name, channel.send, plan.digest, None if test else key, mine, hidden)


def _send(services: Services, name: str, send: Any, digest: Digest, key: str | None, mine: str,
          hidden: list[str]) -> str:
    """Send on one channel; on failure log it (no secrets) and give the slot back for the next run."""
    try:
        send(digest)
    except (OSError, ValueError) as exc:  # smtplib, ssl and urllib errors are OSErrors
        if key and services.redis.get(key) in (mine, mine.encode()):  # still ours: give it back
            services.redis.delete(key)
        log.warning("alert not sent; retried next run", extra={"channel": name, "error": describe(exc, hidden)})
        return "failed"
    log.info("alert sent", extra={"channel": name, "held": digest.held, "comments": len(digest.comments)})
    return "sent"
