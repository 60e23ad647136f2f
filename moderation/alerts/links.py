"""Signed one-tap links: approve or mark spam ONE held comment without a login, for a bounded time.

A token is ``base64url(payload).base64url(HMAC-SHA256)``; the payload names the
comment, the action, the expiry (Unix seconds) and a random nonce. The key is
derived from the service's secret key for this purpose only. The token itself
authorises the action (it is the capability), so the page needs no session or
CSRF cookie; the nonce is recorded when the link is used, so it works once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any

from moderation.keys import derived_key

ACTIONS = ("approve", "spam")
"""What a one-tap link may do."""

PURPOSE = "alert-links/v1"
"""The key derivation label (a new one invalidates every link sent before)."""


class LinkInvalid(ValueError):
    """A token that is malformed or whose signature does not verify (tampered, or signed by another key)."""


class LinkExpired(ValueError):
    """A genuine token past its expiry."""


@dataclass(frozen=True)
class Link:
    """What a verified token allows: one action on one comment until ``expires``; ``nonce`` makes it single-use."""

    comment_id: str
    action: str
    expires: int
    nonce: str


def link_key(settings: Any) -> bytes:
    """The key that signs one-tap links (derived from the service's secret key)."""
    return derived_key(settings, PURPOSE)


def _b64(data: bytes) -> str:
    """URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    """Inverse of :func:`_b64`; raises LinkInvalid on anything that is not base64url."""
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise LinkInvalid("not a link token") from None


def _mac(key: bytes, body: str) -> str:
    """The signature of a token's body."""
    return _b64(hmac.new(key, body.encode(), hashlib.sha256).digest())


def make_token(key: bytes, comment_id: str, action: str, expires: int) -> str:
    """A fresh single-use token allowing ``action`` on ``comment_id`` until ``expires`` (Unix seconds)."""
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {', '.join(ACTIONS)}")
    body = _b64(json.dumps({"c": comment_id, "a": action, "e": int(expires), "n": secrets.token_hex(16)},
                           separators=(",", ":")).encode())
    return f"{body}.{_mac(key, body)}"


def read_token(key: bytes, token: str, now: float) -> Link:
    """Verify a token's signature, then its shape and expiry; raises LinkInvalid or LinkExpired."""
    body, dot, mac = token.partition(".")
    if not dot or len(token) > 1024 or not hmac.compare_digest(_mac(key, body).encode(), mac.encode()):
        raise LinkInvalid("this link is not valid (it was changed or cut short)")
    try:
        data = json.loads(_unb64(body))
        link = Link(str(data["c"]), str(data["a"]), int(data["e"]), str(data["n"]))
    except (ValueError, KeyError, TypeError):
        raise LinkInvalid("this link is not valid") from None
    if link.action not in ACTIONS:
        raise LinkInvalid("this link is not valid")
    if now >= link.expires:
        raise LinkExpired("this link has expired")
    return link


def link_url(public_url: str, token: str) -> str:
    """The absolute address of a one-tap link under the console's public base URL."""
    return f"{public_url.rstrip('/')}/alert/{token}"
