"""The alert digest: whether the held queue calls for one, and what it says (counts, oldest comments, links).

Comment text and author names are the commenters' own, so each output escapes
them for where it goes: plain text strips control and direction characters and
keeps one line per comment, Slack-style text escapes ``& < >`` (so no ``<!channel>``
or fake link), and the HTML part escapes through Jinja's autoescape.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from sqlalchemy.orm import Session

from moderation.alerts.links import link_url, make_token
from moderation.store.alerts import HeldComment, SiteHeld, SiteRecipients, held_by_site, oldest_held

EXCERPT_CHARS = 400
"""Most characters of a comment an alert quotes."""


@dataclass(frozen=True)
class DigestComment:
    """One held comment in the digest, with how long it has waited and its one-tap links (None without a base URL)."""

    comment: HeldComment
    waiting: int
    approve_url: str | None
    spam_url: str | None


@dataclass
class Digest:
    """What one alert says (``site``: the slug of the one site it is about; None: every site)."""

    held: int
    oldest_waiting: int
    triggers: list[str]
    sites: list[tuple[SiteHeld, int]] = field(default_factory=list)
    comments: list[DigestComment] = field(default_factory=list)
    links_expire: datetime | None = None
    console_url: str | None = None
    site: str | None = None


def triggers(held: int, oldest_waiting: int, settings: Any) -> list[str]:
    """Which thresholds the held queue is past (empty: no alert is due)."""
    out = []
    if held > settings["alerts.held_over"]:
        out.append(f"{held} comments held (alert above {settings['alerts.held_over']})")
    if held and oldest_waiting > settings["alerts.oldest_over"]:
        limit = duration(settings["alerts.oldest_over"])
        out.append(f"the oldest has waited {duration(oldest_waiting)} (alert after {limit})")
    return out


TEST_TRIGGER = "a test sent with `moderation alerts check --test`"


def build(session: Session, settings: Any, key: bytes, now: datetime, test: bool = False,
          site: SiteRecipients | None = None) -> Digest | None:
    """The digest the held queue calls for now, with fresh one-tap links; None while no threshold is passed
    (``test``: the digest of the queue as it is, thresholds or not). With ``site``, of that site's queue only."""
    site_id = site.site_id if site else None
    sites = held_by_site(session, site_id)
    held = sum(s.held for s in sites)
    oldest = max((_seconds(now - s.oldest_received) for s in sites), default=0)
    why = triggers(held, oldest, settings) or ([TEST_TRIGGER] if test else [])
    if not why:
        return None
    base = settings["alerts.public_url"]
    expires = now + timedelta(seconds=settings["alerts.link_lifetime"])
    digest = Digest(held, oldest, why, [(s, _seconds(now - s.oldest_received)) for s in sites],
                    links_expire=expires if base else None, console_url=_console_url(base, site),
                    site=site.slug if site else None)
    for comment in oldest_held(session, settings["alerts.digest_comments"], site_id):
        urls = [link_url(base, make_token(key, comment.id, action, int(expires.timestamp())))
                if base else None for action in ("approve", "spam")]
        digest.comments.append(DigestComment(comment, _seconds(now - comment.received_at), urls[0], urls[1]))
    return digest


def _console_url(base: str, site: SiteRecipients | None) -> str | None:
    """The console's address (its held queue filtered to the site, for one site's digest); None without a base."""
    if not base:
        return None
    return base.rstrip("/") + "/" + (f"?site={quote(site.slug, safe='')}" if site else "")


def _seconds(delta: timedelta) -> int:
    """Whole seconds, never negative (clocks of two machines may disagree a little)."""
    return max(0, int(delta.total_seconds()))


def duration(seconds: int) -> str:
    """A wait as people say it: '2 h 05 min', '7 min', '40 s', '3 d 4 h'."""
    if seconds < 60:
        return f"{seconds} s"
    minutes, hours, days = seconds // 60 % 60, seconds // 3600 % 24, seconds // 86400
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def plain(text: str | None, limit: int = EXCERPT_CHARS) -> str:
    """Attacker text made safe for one line of plain text: control/format characters out, whitespace folded, cut."""
    kept = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text or "")
    folded = " ".join(kept.split())
    return folded if len(folded) <= limit else folded[: limit - 1].rstrip() + "…"


def slack_escape(text: str) -> str:
    """Escape the three characters Slack's text format gives meaning to (links, mentions)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def subject(digest: Digest) -> str:
    """The e-mail subject (counts only, after the site's slug for one site's digest: no commenter text in a header)."""
    site = f"{digest.site}: " if digest.site else ""
    return f"[moderation] {site}{digest.held} comments held, oldest waiting {duration(digest.oldest_waiting)}"


def text_body(digest: Digest) -> str:
    """The plain-text part of the e-mail."""
    lines = [subject(digest).removeprefix("[moderation] ") + ".", "Why now: " + "; ".join(digest.triggers) + ".", "",
             "Per site:"]
    lines += [f"  {site.slug}: {site.held} held, oldest {duration(wait)}" for site, wait in digest.sites]
    lines += ["", f"The {len(digest.comments)} that waited longest:"]
    for n, item in enumerate(digest.comments, 1):
        c = item.comment
        author = plain(c.author_name, 80) or "anonymous"
        lines += ["", f"{n}. [{c.site_slug}] {author}, waiting {duration(item.waiting)}",
                  f"   \"{plain(c.content)}\""]
        if item.approve_url and item.spam_url:
            lines += [f"   Approve: {item.approve_url}", f"   Spam:    {item.spam_url}"]
    lines += ["", links_note(digest)]
    return "\n".join(lines) + "\n"


def links_note(digest: Digest) -> str:
    """What the links can do, and until when."""
    if digest.links_expire is None:
        return "Set alerts.public_url to get one-tap links in alerts."
    until = digest.links_expire.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (f"Each link opens a page showing the comment with a confirm button; it works once, until {until}. "
            f"Everything else: {digest.console_url}")


def webhook_body(digest: Digest) -> dict[str, Any]:
    """The chat webhook's JSON: Slack-compatible ``text`` plus the same facts as structured ``alert`` fields.

    The ``alert`` fields carry the commenters' text raw (JSON-escaped only): a relay
    that renders them (a Telegram bot in HTML mode) must escape them for its format.
    """
    lines = [f"*{slack_escape(subject(digest).removeprefix('[moderation] '))}*",
             slack_escape("; ".join(digest.triggers)),
             " · ".join(f"{slack_escape(s.slug)}: {s.held}" for s, _ in digest.sites)]
    for item in digest.comments:
        c = item.comment
        line = (f"• [{slack_escape(c.site_slug)}] {slack_escape(plain(c.author_name, 80) or 'anonymous')} "
                f"({duration(item.waiting)}): {slack_escape(plain(c.content, 200))}")
        if item.approve_url and item.spam_url:
            line += f" <{item.approve_url}|Approve> · <{item.spam_url}|Spam>"
        lines.append(line)
    return {"text": "\n".join(lines), "alert": _structured(digest)}


def _structured(digest: Digest) -> dict[str, Any]:
    """The digest as plain data (for relays that build their own message); ``site`` names one site's digest."""
    out = {
        "held": digest.held, "oldest_waiting_seconds": digest.oldest_waiting, "triggers": digest.triggers,
        "sites": [{"site": s.slug, "held": s.held, "oldest_waiting_seconds": wait} for s, wait in digest.sites],
        "comments": [{"id": i.comment.id, "site": i.comment.site_slug, "author_name": i.comment.author_name,
                      "content": i.comment.content[:EXCERPT_CHARS], "post_title": i.comment.post_title,
                      "waiting_seconds": i.waiting, "spam_score": i.comment.spam_score,
                      "approve_url": i.approve_url, "spam_url": i.spam_url} for i in digest.comments],
        "links_expire_at": digest.links_expire.isoformat() if digest.links_expire else None,
        "console_url": digest.console_url,
    }
    return out | ({"site": digest.site} if digest.site else {})
