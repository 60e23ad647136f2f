"""Cheap checks in front of the model; each returns (verdict, reason) or passes.

Lists come from ``config/lists/`` (global) and the database (per site). A rule
that fires decides the comment without the model; a reason code says which.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from moderation.decide.states import Status
from moderation.reading.text import normalize
from moderation.ttlcache import TtlCache

ACTIONS = ("allow", "deny")
"""An allow entry approves without the model; a deny entry marks spam."""

KINDS = ("word", "domain", "email", "ip", "name")
"""What a list entry matches (name: the author's display name, see :func:`name_key`)."""

URL_HOST = re.compile(r"(?:https?://|www\.)?((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24})\b", re.I)
"""Host names in text, with or without a scheme (link spam often drops it)."""


@dataclass(frozen=True)
class CommentInput:
    """The fields rules and the scorer look at."""

    content: str
    author_name: str | None = None
    author_email: str | None = None
    author_url: str | None = None
    author_ip: str | None = None
    author_verified: bool = False
    """The site vouches for who wrote it (a logged-in user): only then do allow rules read typed fields."""
    author_email_hash: str | None = None
    """The e-mail's keyed hash: list entries of an erased person are kept as hashes and still match."""
    author_user_id: str | None = None
    """The site's own user id for the author: earned trust is kept under it (else under the e-mail)."""

    @classmethod
    def of(cls, row: Any) -> CommentInput:
        """Build from any object with the comment's attributes (an ORM row, say)."""
        return cls(row.content, row.author_name, row.author_email, row.author_url, row.author_ip,
                   bool(getattr(row, "author_verified", False)), author_user_id=getattr(row, "author_user_id", None))


Outcome = tuple[Status, dict[str, str]] | None
"""A rule's verdict: the status it forces and the reason, or None to pass."""


def name_key(name: str) -> str:
    """An author name as lists compare it: runs of whitespace made one space, trimmed, case-folded."""
    return " ".join(name.split()).casefold()


@dataclass
class Lists:
    """Allow/deny values by (action, kind), lower-cased."""

    entries: dict[tuple[str, str], set[str]] = field(default_factory=dict)

    def add(self, action: str, kind: str, value: str) -> None:
        """Add one entry, refusing unknown actions or kinds."""
        if action not in ACTIONS or kind not in KINDS:
            raise ValueError(f"unknown list {action}/{kind}")
        cleaned = name_key(value) if kind == "name" else value.strip().lower()
        if cleaned:
            self.entries.setdefault((action, kind), set()).add(cleaned)

    def get(self, action: str, kind: str) -> frozenset[str]:
        """The values of one list."""
        return frozenset(self.entries.get((action, kind), ()))

    def merged(self, other: Lists) -> Lists:
        """A new Lists holding both sets of entries."""
        out = Lists({k: set(v) for k, v in self.entries.items()})
        for key, values in other.entries.items():
            out.entries.setdefault(key, set()).update(values)
        return out


def load_list_dir(folder: Path) -> Lists:
    """Read ``{allow,deny}_{words,domains,emails,ips,names}.txt`` (one value per line, # comments)."""
    lists = Lists()
    for action in ACTIONS:
        for kind in KINDS:
            path = folder / f"{action}_{kind}s.txt"
            if path.exists():
                for line in path.read_text(encoding="utf-8").splitlines():
                    value = line.split("#", 1)[0]
                    lists.add(action, kind, normalize(value) if kind == "word" else value)
    return lists


LISTS_RELOAD_SECONDS = 10.0
"""How often a process re-reads the list files in config/ (edits apply without a restart)."""

_list_files: TtlCache[str, Lists] = TtlCache(LISTS_RELOAD_SECONDS)


def config_lists(folder: str) -> Lists:
    """The list files of ``folder`` (``lists.dir``), re-read at most every LISTS_RELOAD_SECONDS per process."""
    return _list_files.get(folder, lambda: load_list_dir(Path(folder)))


@lru_cache(maxsize=256)
def _phrase_pattern(words: frozenset[str]) -> re.Pattern[str] | None:
    """One regex matching any listed phrase on word boundaries (cached per list)."""
    if not words:
        return None
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


def _hosts(comment: CommentInput) -> set[str]:
    """Every host name in the content and the author's URL."""
    text = f"{comment.content} {comment.author_url or ''}"
    return {m.group(1).lower().rstrip(".") for m in URL_HOST.finditer(text)}


def _domain_hit(hosts: Iterable[str], domains: frozenset[str]) -> str | None:
    """The first host that is a listed domain or under one."""
    for host in hosts:
        parts = host.split(".")
        for i in range(len(parts) - 1):
            if ".".join(parts[i:]) in domains:
                return host
    return None


def ip_in_any(ip: str | None, listed: Iterable[str]) -> str | None:
    """The listed address or network that contains this IP."""
    if not ip or not listed:
        return None
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return None
    for entry in listed:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return entry
        except ValueError:
            continue
    return None


Rule = Callable[[CommentInput, Lists], "str | None"]
"""A check returning a human-readable detail when it fires."""


def _verified(rule: Rule) -> Rule:
    """An allow rule on a field the commenter types (e-mail, website, name): it counts only for an author the
    site vouches for, since anyone can type a trusted address, a trusted site's URL or a trusted name."""
    def guarded(comment: CommentInput, lists: Lists) -> str | None:
        return rule(comment, lists) if comment.author_verified else None
    return guarded


def _email_rule(action: str) -> Rule:
    """The author's e-mail is on the list."""
    def rule(comment: CommentInput, lists: Lists) -> str | None:
        email = (comment.author_email or "").strip().lower()
        listed = lists.get(action, "email")
        hit = email and (email in listed or (comment.author_email_hash or "") in listed)
        return "author e-mail is listed" if hit else None
    return rule


def _ip_rule(action: str) -> Rule:
    """The author's IP is a listed address or inside a listed network."""
    def rule(comment: CommentInput, lists: Lists) -> str | None:
        hit = ip_in_any(comment.author_ip, lists.get(action, "ip"))
        return f"author IP in {hit}" if hit else None
    return rule


def _name_rule(action: str) -> Rule:
    """The author's name, compared by :func:`name_key`, is on the list."""
    def rule(comment: CommentInput, lists: Lists) -> str | None:
        name = name_key(comment.author_name or "")
        return "author name is listed" if name and name in lists.get(action, "name") else None
    return rule


def _author_domain_allowed(comment: CommentInput, lists: Lists) -> str | None:
    """The author's own website is on the allow list (a link in the text proves nothing about the author)."""
    hosts = {m.group(1).lower() for m in URL_HOST.finditer(comment.author_url or "")}
    host = _domain_hit(hosts, lists.get("allow", "domain"))
    return f"author site {host}" if host else None


def _linked_domain_denied(comment: CommentInput, lists: Lists) -> str | None:
    """The text or the author's URL links to a denied domain."""
    host = _domain_hit(_hosts(comment), lists.get("deny", "domain"))
    return f"link to {host}" if host else None


def _denied_phrase(comment: CommentInput, lists: Lists) -> str | None:
    """The normalised text contains a denied word or phrase."""
    pattern = _phrase_pattern(lists.get("deny", "word"))
    match = pattern.search(normalize(comment.content)) if pattern else None
    return f"contains {match.group(0)!r}" if match else None


CHAIN: tuple[tuple[str, Status, Rule], ...] = (
    ("rule.deny.email", Status.SPAM, _email_rule("deny")),
    ("rule.deny.ip", Status.SPAM, _ip_rule("deny")),
    ("rule.deny.name", Status.SPAM, _name_rule("deny")),
    ("rule.deny.domain", Status.SPAM, _linked_domain_denied),
    ("rule.deny.word", Status.SPAM, _denied_phrase),
    ("rule.allow.ip", Status.APPROVED, _ip_rule("allow")),
    ("rule.allow.email", Status.APPROVED, _verified(_email_rule("allow"))),
    ("rule.allow.domain", Status.APPROVED, _verified(_author_domain_allowed)),
    ("rule.allow.name", Status.APPROVED, _verified(_name_rule("allow"))),
)
"""The rules in order: deny lists first, then trusted authors; the first that fires decides.

No allow rule ever outranks a deny rule. The commenter's IP comes from the site's own connection, so a
trusted IP approves a clean comment; a trusted e-mail, website or name is typed by the commenter and
approves only when the site marks the author verified (``author.verified``: a logged-in user)."""


def check(comment: CommentInput, lists: Lists) -> Outcome:
    """Run the chain; None means ask the model."""
    for code, status, rule in CHAIN:
        detail = rule(comment, lists)
        if detail:
            return status, {"code": code, "detail": detail}
    return None


def lists_from_rows(rows: Iterable[Mapping[str, str]]) -> Lists:
    """Build Lists from database rows with action, kind and value."""
    lists = Lists()
    for row in rows:
        lists.add(row["action"], row["kind"], normalize(row["value"]) if row["kind"] == "word" else row["value"])
    return lists
