"""Commenters' personal data: keyed hashes after ``privacy.retain_days``, and erasure of one person on request.

IPs and e-mails are replaced by ``h:`` + HMAC-SHA256 (40 hex digits) under a
server key. The same input always gives the same hash, so "every comment by
this author" and e-mail/IP rules keep working on old rows (hash the new value
and compare), while a database dump no longer reveals who wrote what. The key
must be the same on every machine (``privacy.hash_key``); without it a file
under the data directory is generated once, which suits a single machine.

Erasure (``moderation privacy purge --email``) goes further: it removes the
person's comments' content as well as name, e-mail, URL, IP and user agent,
strips quotes of the text from the reasons (on the comment, in its audit
events, in the reasons remembered for undo and in callback payloads), clears
readers' report notes, replaces the address in allow/deny lists by its keyed
hash (rules still match it), and deletes their training labels.
The content goes too because a comment is the person's own words and often
names them; the row itself stays (status, scores, audit who/when) so the
site's ids, callbacks already sent and the audit trail still resolve.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from moderation.store import privacy as store

log = logging.getLogger(__name__)

PREFIX = "h:"
"""Marks a pseudonymised value (raw IPs and e-mails never start with it)."""

BATCH = 1000
"""Rows per transaction in the retention job (bounds lock time on a large backlog)."""


def hash_key(settings: Any) -> bytes:
    """The configured key, or one generated once (mode 600) under the data directory."""
    if settings["privacy.hash_key"]:
        return str(settings["privacy.hash_key"]).encode()
    path = Path(settings.data_dir) / "privacy_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32))
    return path.read_text().strip().encode()


def canonical(kind: str, value: str) -> str:
    """The form that is hashed: e-mails case-folded, IPs in their standard notation."""
    value = value.strip()
    if kind == "ip":
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            return value.lower()
    return value.lower()


def is_pseudonym(value: str | None) -> bool:
    """Whether a stored value is already a keyed hash."""
    return bool(value) and str(value).startswith(PREFIX)


@dataclass(frozen=True)
class Pseudonymizer:
    """Keyed, deterministic hashes of personal values."""

    key: bytes

    @classmethod
    def from_settings(cls, settings: Any) -> Pseudonymizer:
        """Built from ``privacy.hash_key`` (or the generated key file)."""
        return cls(hash_key(settings))

    def hash(self, kind: str, value: str | None) -> str | None:
        """``h:`` + 40 hex digits of HMAC-SHA256(kind:value); None and hashes pass through unchanged."""
        if not value or is_pseudonym(value):
            return value
        mac = hmac.new(self.key, f"{kind}:{canonical(kind, value)}".encode(), hashlib.sha256)
        return PREFIX + mac.hexdigest()[:40]

    def forms(self, kind: str, value: str) -> list[str]:
        """Every form a value may be stored in: as given, canonical, and hashed."""
        return list(dict.fromkeys([value, canonical(kind, value), self.hash(kind, value) or value]))


def pseudonymize_expired(db: Any, settings: Any, now: datetime | None = None) -> int:
    """Replace raw IPs and e-mails older than ``privacy.retain_days`` by keyed hashes; returns rows changed."""
    retain = settings["privacy.retain_days"]
    if retain <= 0:
        return 0
    cutoff = (now or datetime.now(UTC)) - timedelta(days=retain)
    hasher = Pseudonymizer.from_settings(settings)
    done = 0
    while True:
        with db.session() as session:
            rows = store.raw_personal_data(session, cutoff, BATCH)
            store.store_pseudonyms(session, [(cid, hasher.hash("ip", ip), hasher.hash("email", email))
                                             for cid, ip, email in rows])
        done += len(rows)
        if len(rows) < BATCH:
            break
    if done:
        log.info("pseudonymised personal data", extra={"comments": done, "retain_days": retain})
    return done


@dataclass(frozen=True)
class Erasure:
    """What one erasure request removed."""

    comments: int
    labels: int
    email_hash: str


def forget_trust_events(session: Any, email: str) -> None:
    """Moderators' trust revocations kept under this address go too (their key is the address itself)."""
    from moderation.store.trust import forget_author

    forget_author(session, f"email:{email.strip().lower()}")


def purge_email(db: Any, settings: Any, email: str) -> Erasure:
    """Erase every comment written under this e-mail address (raw or already hashed), in one transaction."""
    if "@" not in email or len(email) > 320:
        raise ValueError("give one e-mail address")
    hasher = Pseudonymizer.from_settings(settings)
    with db.session() as session:
        ids = store.comment_ids_by_email(session, hasher.forms("email", email))
        comments, labels = store.erase_comments(session, ids)
        email_hash = hasher.hash("email", email) or ""
        store.hash_listed_emails(session, hasher.forms("email", email), email_hash)
        store.record_erasure(session, email_hash, comments, labels)
        forget_trust_events(session, email)
    # The address itself is never logged; its keyed hash identifies the request in the audit table.
    log.info("erased one person's data", extra={"comments": comments, "labels": labels, "request": email_hash})
    return Erasure(comments, labels, email_hash)
