"""A site's own alert recipients as admins set and see them: e-mail addresses and a chat webhook URL.

No Flask here. Both the admin page and the review API's site PATCH go through
:func:`apply`, which checks every value before it changes anything. The webhook
URL is a secret (a chat webhook's path is its credential): it is shown only
masked (:func:`mask_webhook`, as ``moderation settings`` shows alerts.webhook_url)
and sending it back in its masked form changes nothing, so a client may PATCH
back what it read.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l

from moderation.console.actions import ActionError, refuse_nul
from moderation.delivery.posting import METADATA_HOSTS, refused_literal
from moderation.store.models import Site
from moderation.store.sites import ALERT_EMAIL_CHARS, ALERT_EMAILS_MAX, ALERT_WEBHOOK_CHARS

FIELDS = ("alert_emails", "alert_webhook_url")
"""The site fields this module owns (the review API's names)."""


_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
EMAIL_RE = re.compile(rf"^(?P<local>{_ATOM}(?:\.{_ATOM})*)@"
                      r"(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})$")
"""A plain ASCII address (no quotes, comments, brackets, commas or spaces: nothing that could break a To header)."""


def mask_webhook(url: str | None) -> str | None:
    """A webhook URL as it may be shown: scheme and host only, the rest (path, query, any password) as ``***``."""
    if not url:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    port = f":{parts.port}" if _port(url) else ""
    return f"{parts.scheme}://{host}{port}/***"


def _port(url: str) -> int | None:
    """The URL's explicit port, None when it has none or an invalid one."""
    try:
        return urlsplit(url).port
    except ValueError:
        return None


def split_addresses(text: str | None) -> list[str]:
    """The addresses typed into the admin form (separated by commas, semicolons, spaces or lines)."""
    return [a for a in re.split(r"[\s,;]+", text or "") if a]


def clean_emails(value: Any) -> list[str] | None:
    """The site's recipients from a JSON list (null or [] for none); ActionError names the first bad address."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
        raise ActionError(_l("alert_emails must be a list of e-mail addresses, or null"))
    if len(value) > ALERT_EMAILS_MAX:
        raise ActionError(_l("alert_emails takes at most %(count)s addresses", count=ALERT_EMAILS_MAX))
    out: list[str] = []
    for raw in value:
        refuse_nul(alert_emails=raw)
        match = EMAIL_RE.match(raw.strip()) if len(raw) <= ALERT_EMAIL_CHARS else None
        if match is None or len(match["local"]) > 64:
            raise ActionError(_l("alert_emails: %(address)s is not an e-mail address", address=repr(raw[:80])))
        address = f"{match['local']}@{match['domain'].lower()}"
        if address.lower() not in {a.lower() for a in out}:
            out.append(address)
    return out or None


def clean_webhook(value: Any, current: str | None, block_private: bool) -> str | None:
    """The site's webhook URL (http or https; null or '' for none); its masked form sent back keeps ``current``."""
    if value is not None and (not isinstance(value, str) or len(value) > ALERT_WEBHOOK_CHARS):
        raise ActionError(_l("alert_webhook_url must be an http(s) URL, or empty"))
    refuse_nul(alert_webhook_url=value)
    url = (value or "").strip()
    if not url:
        return None
    if current and url == mask_webhook(current):
        return current
    host = _http_host(url)
    if host is None:
        raise ActionError(_l("alert_webhook_url must be an http(s) URL, or empty"))
    if host in METADATA_HOSTS or refused_literal(host, block_private):
        if block_private:
            raise ActionError(_l("alert_webhook_url may not point at a cloud metadata service, or a link-local, "
                                 "private or loopback address"))
        raise ActionError(_l("alert_webhook_url may not point at a cloud metadata service or a link-local address"))
    return url


def _http_host(url: str) -> str | None:
    """The host of a well-formed http(s) URL in ASCII with no spaces or control characters; None for anything else."""
    if not url.isascii() or re.search(r"[\s\x00-\x1f\x7f]", url):
        return None
    try:
        parts = urlsplit(url)
        _ = parts.port  # a port that is not a number from 0 to 65535 raises ValueError
    except ValueError:
        return None
    host = (parts.hostname or "").rstrip(".").lower()
    return host if parts.scheme in ("http", "https") and host else None


def apply(site: Site, changes: dict[str, Any], block_private: bool) -> None:
    """Set whichever of the two fields ``changes`` names, after checking both (nothing changes when one is bad)."""
    emails = clean_emails(changes["alert_emails"]) if "alert_emails" in changes else site.alert_emails
    webhook = (clean_webhook(changes["alert_webhook_url"], site.alert_webhook_url, block_private)
               if "alert_webhook_url" in changes else site.alert_webhook_url)
    site.alert_emails, site.alert_webhook_url = emails, webhook


def view(site: Site) -> dict[str, Any]:
    """The two fields as admins see them: the addresses, and the webhook URL masked."""
    return {"alert_emails": list(site.alert_emails or []), "alert_webhook_url": mask_webhook(site.alert_webhook_url)}
