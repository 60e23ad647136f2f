"""HMAC-SHA256 signatures for site requests and for our callbacks: one piece of code, both directions.

The signed bytes are ``TIMESTAMP + "." + METHOD + "." + PATH_WITH_QUERY + "." + RAW_BODY``
(see the contract); the header value is ``sha256=<lower-case hex>``.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

SITE_HEADER = "X-Moderation-Site"
"""Names the site (its slug)."""

TIMESTAMP_HEADER = "X-Moderation-Timestamp"
"""Unix seconds when the request was signed."""

SIGNATURE_HEADER = "X-Moderation-Signature"
"""``sha256=HEX`` over the signed bytes."""

SCHEME = "sha256="
"""The only signature scheme we issue or accept."""


def signed_bytes(timestamp: str, method: str, path_with_query: str, body: bytes) -> bytes:
    """The exact bytes a signature covers."""
    head = f"{timestamp}.{method.upper()}.{path_with_query}.".encode()
    return head + body


def sign(secret: str, timestamp: str, method: str, path_with_query: str, body: bytes) -> str:
    """The signature header value for one request."""
    mac = hmac.new(secret.encode(), signed_bytes(timestamp, method, path_with_query, body), hashlib.sha256)
    return SCHEME + mac.hexdigest()


def signed_headers(
    site: str, secret: str, method: str, path_with_query: str, body: bytes, now: float | None = None
) -> dict[str, str]:
    """All three authentication headers for a request signed now."""
    timestamp = str(int(time.time() if now is None else now))
    return {
        SITE_HEADER: site,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(secret, timestamp, method, path_with_query, body),
    }


@dataclass(frozen=True)
class Verdict:
    """Outcome of a signature check; ``reason`` is safe to show the caller."""

    ok: bool
    reason: str = ""


def verify(
    secrets: list[str],
    timestamp: str | None,
    signature: str | None,
    method: str,
    path_with_query: str,
    body: bytes,
    max_age: int,
    now: float | None = None,
) -> Verdict:
    """Check the timestamp window, then the signature in constant time against each secret."""
    if not timestamp or not signature:
        return Verdict(False, "missing signature headers")
    try:
        stamp = int(timestamp)
    except ValueError:
        return Verdict(False, "timestamp is not unix seconds")
    if abs((time.time() if now is None else now) - stamp) > max_age:
        return Verdict(False, "timestamp outside the allowed window")
    # Compare against every valid secret without stopping early, so timing
    # reveals neither which secret matched nor how much of the digest did.
    matched = False
    for secret in secrets:
        expected = sign(secret, timestamp, method, path_with_query, body)
        matched |= hmac.compare_digest(expected.encode(), signature.strip().encode())
    return Verdict(True) if matched else Verdict(False, "signature does not match")
