"""Sending a digest: an e-mail (text and HTML parts) over SMTP, and a JSON POST to a chat webhook.

Both have a timeout on every network step, so a dead server costs one run a few
seconds at most. Errors are described without the URLs or credentials
(:func:`describe`), since both settings are secret.
"""

from __future__ import annotations

import json
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape

from moderation.alerts.digest import EXCERPT_CHARS, Digest, duration, links_note, subject, text_body, webhook_body
from moderation.delivery.posting import CallbackClient
from moderation.store.alerts import SiteRecipients

TIMEOUT = 10.0
"""Seconds any one network step of sending may take."""

SMTP_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}

_templates = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                         autoescape=select_autoescape(default=True, default_for_string=True))


def excerpt(text: str) -> str:
    """A comment cut to the length an alert quotes (escaped later by the template)."""
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1].rstrip() + "…"


def html_body(digest: Digest) -> str:
    """The HTML part of the e-mail (every commenter value escaped by autoescape)."""
    return _templates.get_template("digest_mail.html").render(
        d=digest, subject=subject(digest), duration=duration, excerpt=excerpt, note=links_note(digest))


def email_message(digest: Digest, sender: str, recipients: list[str]) -> EmailMessage:
    """The alert as a multipart/alternative e-mail."""
    msg = EmailMessage()
    msg["Subject"] = subject(digest)
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text_body(digest))
    msg.add_alternative(html_body(digest), subtype="html")
    return msg


def send_email(smtp_url: str, msg: EmailMessage) -> None:
    """Send through the SMTP server the URL names (smtp://, smtp+starttls://, smtps://; user:pass@ logs in)."""
    parts = urlsplit(smtp_url)
    if parts.scheme not in SMTP_PORTS or not parts.hostname:
        raise ValueError("alerts.smtp_url must be smtp://, smtp+starttls:// or smtps://HOST[:PORT]")
    port = parts.port or SMTP_PORTS[parts.scheme]
    context = ssl.create_default_context()
    if parts.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(parts.hostname, port, timeout=TIMEOUT, context=context)
    else:
        client = smtplib.SMTP(parts.hostname, port, timeout=TIMEOUT)
    with client:
        if parts.scheme == "smtp+starttls":
            client.starttls(context=context)
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
        client.send_message(msg)


class WebhookRefused(OSError):
    """The webhook answered with an error status, or could not be reached (the reason names no URL)."""


def post_webhook(url: str, digest: Digest, block_private: bool = False) -> int:
    """POST the digest's JSON to the chat webhook; returns the HTTP status (an answer of 400 or more raises).

    Sent as callbacks are (``moderation.delivery.posting``): the host's address is checked on every send, not
    only when the URL is set (link-local and cloud metadata addresses always refused, private and loopback ones
    with ``block_private``), a total deadline, and no redirect followed."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError("alerts.webhook_url must be http:// or https://")
    body = json.dumps(webhook_body(digest), ensure_ascii=False).encode()
    client = CallbackClient(TIMEOUT, block_private)
    try:
        answer = client.post(url, body, {"Content-Type": "application/json; charset=utf-8",
                                         "User-Agent": "moderation-alerts/1"})
    finally:
        client.close()
    if answer.status is None:
        raise WebhookRefused(f"the webhook could not be reached ({answer.error})")
    if answer.status >= 400:
        raise WebhookRefused(f"the webhook answered {answer.status}")
    return answer.status


def describe(exc: BaseException, secrets: list[str]) -> str:
    """An error as it may be logged: its kind and message, with any secret value cut out."""
    text = f"{type(exc).__name__}: {exc}"
    for secret in secrets:
        for piece in _pieces(secret):
            text = text.replace(piece, "***")
    return text[:300]


def _pieces(secret: str) -> list[str]:
    """The secret parts of a URL a message might quote: the whole URL, its password, its path and query."""
    if not secret:
        return []
    parts = urlsplit(secret)
    found = [secret, parts.password or "", unquote(parts.password or ""), parts.path if len(parts.path) > 1 else "",
             parts.query]
    return sorted({p for p in found if p}, key=len, reverse=True)


def channels(settings: Any) -> dict[str, Any]:
    """The service's global channels (every site's held queue), each a function sending one digest."""
    out: dict[str, Any] = {}
    if settings["alerts.smtp_url"] and settings["alerts.email_to"]:
        out["email"] = lambda d: send_email(settings["alerts.smtp_url"], email_message(
            d, settings["alerts.email_from"], settings["alerts.email_to"]))
    if settings["alerts.webhook_url"]:
        out["webhook"] = lambda d: post_webhook(settings["alerts.webhook_url"], d)
    return out


def site_channels(settings: Any, site: SiteRecipients) -> dict[str, Any]:
    """A site's own channels ("email", "webhook"), each a function sending one digest; the e-mail one is None while
    the service has no SMTP server (alerts.smtp_url), which every site's e-mail goes through."""
    out: dict[str, Any] = {}
    if site.emails:
        out["email"] = (lambda d: send_email(settings["alerts.smtp_url"], email_message(
            d, settings["alerts.email_from"], list(site.emails)))) if settings["alerts.smtp_url"] else None
    if site.webhook_url:
        url, block = site.webhook_url, settings["callbacks.block_private"]
        out["webhook"] = lambda d: post_webhook(url, d, block)  # an admin's URL: checked like a site's callbacks
    return out
