"""One alert run (the cron job): is a digest due, and has each channel's interval passed? Then send it.

Several cron or worker processes may run this at once: each channel's slot is a
Redis key taken with SET NX for ``alerts.interval`` seconds, so one digest goes
out per channel per interval. A channel that fails gives its slot back, so the
next run tries again; one channel failing never stops the other.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime
from typing import Any

from moderation.alerts.channels import channels, describe
from moderation.alerts.digest import build
from moderation.alerts.links import link_key
from moderation.services import Services

log = logging.getLogger(__name__)


def slot_key(prefix: str, channel: str) -> str:
    """The Redis key holding a channel's 'alert sent' slot."""
    return f"{prefix}:alerts:sent:{channel}"


def run_alerts(services: Services, now: datetime | None = None, test: bool = False) -> dict[str, str]:
    """Send the digest on each configured channel whose interval has passed; returns what each channel did.

    ``test`` sends the queue's digest on every channel now, whatever the thresholds and interval (and takes
    no slot), to check the settings.
    """
    settings = services.settings
    senders = channels(settings)
    if not senders:
        return {}
    now = now or datetime.now(UTC)
    with services.db.read() as session:
        digest = build(session, settings, link_key(settings), now, test=test)
    if digest is None:
        return {name: "not due" for name in senders}
    out = {}
    for name, send in senders.items():
        key, mine = slot_key(settings["queue.prefix"], name), secrets.token_hex(8)
        if not test and not services.redis.set(key, mine, nx=True, ex=max(1, settings["alerts.interval"])):
            out[name] = "sent recently"
            continue
        out[name] = _send(services, name, send, digest, None if test else key, mine)
    return out


def _send(services: Services, name: str, send: Any, digest: Any, key: str | None, mine: str) -> str:
    """Send on one channel; on failure log it (no secrets) and give the slot back for the next run."""
    try:
        send(digest)
    except (OSError, ValueError) as exc:  # smtplib, ssl and urllib errors are OSErrors
        if key and services.redis.get(key) in (mine, mine.encode()):  # still ours: give it back
            services.redis.delete(key)
        hidden = [services.settings["alerts.smtp_url"], services.settings["alerts.webhook_url"]]
        log.warning("alert not sent; retried next run", extra={"channel": name, "error": describe(exc, hidden)})
        return "failed"
    log.info("alert sent", extra={"channel": name, "held": digest.held, "comments": len(digest.comments)})
    return "sent"
