"""Queue queries for the moderators' console: filtered, keyset-paginated, index-backed.

Service ids are time-ordered (milliseconds first), so ordering by ``id`` is
arrival order and a window of time is a range of ids on the primary key.
Pages never use OFFSET: a cursor names the last row seen and the next page
starts after it, so page 2,000 costs what page 1 costs.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import math
import re
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, Text, cast, func, or_, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from moderation.decide.states import Status
from moderation.store.models import MAX_ID, Comment, DecisionEvent, Flag, Site

QUEUES: dict[str, Status] = {
    "held": Status.HELD, "reported": Status.APPROVED, "spam": Status.SPAM,
    "approved": Status.APPROVED, "rejected": Status.REJECTED,
}
"""Each console queue and the status its comments are in (reported = published and flagged)."""

SORTS = ("oldest", "newest", "score", "score_asc", "reports")
"""oldest/newest by arrival; score = most spam-like first; reports = most reported first."""

DEFAULT_SORT = {"held": "oldest", "reported": "reports", "spam": "newest", "approved": "newest", "rejected": "newest"}
"""Held comments wait in arrival order; the other queues show the latest first."""

REASON_RE = re.compile(r"^[a-z0-9_.]{1,64}$")
FLAG_REASONS = ("spam", "abusive", "other")


class FilterError(ValueError):
    """A queue filter or cursor that cannot be used."""


@dataclass(frozen=True)
class QueueFilter:
    """Which comments a queue page shows."""

    queue: str = "held"
    site_id: int | None = None
    scope: tuple[int, ...] | None = None
    """The sites the viewer acts on (a scoped moderator); None: all."""
    reason: str | None = None
    lang: str | None = None
    post: str | None = None
    q: str | None = None
    sort: str = ""
    reported_after: int = 1

    def __post_init__(self) -> None:
        if self.queue not in QUEUES:
            raise FilterError(f"queue must be one of {', '.join(QUEUES)}")
        if self.sort and self.sort not in SORTS:
            raise FilterError(f"sort must be one of {', '.join(SORTS)}")
        if self.sort == "reports" and self.queue != "reported":
            raise FilterError("sort=reports is for the reported queue")
        if self.reason and not REASON_RE.match(self.reason):
            raise FilterError("reason is a reason code such as policy.uncertain or rule.deny")

    @property
    def status(self) -> Status:
        """The status of this queue's comments."""
        return QUEUES[self.queue]

    @property
    def order(self) -> str:
        """The sort in effect."""
        return self.sort or DEFAULT_SORT[self.queue]


@dataclass
class Page:
    """One page of a queue."""

    rows: list[tuple[Comment, str, int]]  # (comment, site slug, open reports)
    next_cursor: str | None
    total: int
    total_capped: bool


def encode_cursor(values: list[Any]) -> str:
    """An opaque cursor for the row after which the next page starts."""
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> list[Any] | None:
    """The cursor's values, or FilterError when it was not made by :func:`encode_cursor`."""
    if not cursor:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:
        raise FilterError("bad cursor") from None
    if not isinstance(values, list) or len(values) != 3 or not _is_id_text(values[2]):
        raise FilterError("bad cursor")
    return values


def _is_id_text(value: Any) -> bool:
    """A service id as a cursor may carry it (text the database can compare: short, no NUL)."""
    return isinstance(value, str) and len(value) <= 64 and "\x00" not in value


def _check_cursor(values: list[Any], order: str) -> None:
    """FilterError unless the cursor's mark fits the sort (a hand-made or stale cursor must not reach SQL)."""
    phase, mark = values[0], values[1]
    if order == "reports":
        ok = phase == "reports" and isinstance(mark, int) and not isinstance(mark, bool) and 0 <= mark <= MAX_ID
    elif order in ("score", "score_asc"):
        ok = (phase == "null" and mark is None) or (
            phase == "scored" and isinstance(mark, int | float) and not isinstance(mark, bool) and math.isfinite(mark))
    else:
        ok = phase == "id"
    if not ok:
        raise FilterError("bad cursor (made for another sort?)")


def _like(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, with LIKE's wildcards taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _search(stmt: Select[Any], q: str, sqlite: bool) -> Select[Any]:
    """Exact index lookups for an IP or an e-mail; otherwise substring search over text, name, e-mail, IP."""
    try:
        ipaddress.ip_address(q)
        return stmt.where(Comment.author_ip == q)
    except ValueError:
        pass
    if re.fullmatch(r"[^@\s]+@[^@\s]+", q):
        return stmt.where(Comment.author_email.in_({q, q.lower()}))
    pattern = _like(q)
    # SQLite's LIKE already ignores ASCII case; its ILIKE rendering (lower(x) LIKE lower(y)) costs a copy per row.
    columns = (Comment.content, Comment.author_name, Comment.author_email, Comment.author_ip)
    if sqlite:
        return stmt.where(or_(*(c.like(pattern, escape="\\") for c in columns)))
    return stmt.where(or_(*(c.ilike(pattern, escape="\\") for c in columns)))


def _filtered(stmt: Select[Any], f: QueueFilter, sqlite: bool = True) -> Select[Any]:
    """Apply the status and every filter that is set."""
    stmt = stmt.where(Comment.status == f.status.value)
    if f.site_id is not None:
        stmt = stmt.where(Comment.site_id == f.site_id)
    if f.scope is not None:
        stmt = stmt.where(Comment.site_id.in_(f.scope))
    if f.lang:
        stmt = stmt.where(Comment.lang == f.lang)
    if f.post:
        stmt = stmt.where(Comment.post_id == f.post)
    if f.reason:
        # Reasons are a JSON list; both backends keep the text json.dumps wrote, so a prefix match on
        # '"code": "<reason>' finds the code without dialect-specific JSON operators.
        stmt = stmt.where(cast(Comment.reasons, Text).like(_like(f'"code": "{f.reason}'), escape="\\"))
    if f.q:
        stmt = _search(stmt, f.q.strip(), sqlite)
    return stmt


def _is_sqlite(session: Session) -> bool:
    """Whether the session talks to SQLite (its LIKE is case-insensitive already)."""
    return session.get_bind().dialect.name == "sqlite"


def _open_flags() -> Any:
    """Per comment, how many unresolved reader reports it has."""
    return (select(Flag.comment_id, func.count().label("n")).where(Flag.resolved_at.is_(None))
            .group_by(Flag.comment_id).subquery())


def _base(f: QueueFilter, sqlite: bool = True) -> tuple[Select[Any], Any]:
    """The filtered SELECT of (comment, slug, reports) and the reports column."""
    flags = _open_flags()
    reports = func.coalesce(flags.c.n, 0)
    stmt = select(Comment, Site.slug, reports).join(Site, Site.id == Comment.site_id)
    if f.queue == "reported":
        stmt = stmt.join(flags, flags.c.comment_id == Comment.id).where(flags.c.n >= f.reported_after)
    else:
        stmt = stmt.outerjoin(flags, flags.c.comment_id == Comment.id)
    return _filtered(stmt, f, sqlite), reports


def _keyset(stmt: Select[Any], f: QueueFilter, reports: Any, after: list[Any] | None, phase: str) -> Select[Any]:
    """Order the statement for the sort and start it after the cursor's row."""
    order, last_id = f.order, after[2] if after else None
    if order in ("oldest", "newest"):
        asc = order == "oldest"
        if last_id:
            stmt = stmt.where(Comment.id > last_id if asc else Comment.id < last_id)
        return stmt.order_by(Comment.id.asc() if asc else Comment.id.desc())
    if order == "reports":
        if after:
            stmt = stmt.where(tuple_(reports, Comment.id) < tuple_(int(after[1]), last_id))
        return stmt.order_by(reports.desc(), Comment.id.desc())
    asc = order == "score_asc"
    if phase == "null":
        # Rule-decided comments have no score: they come after every scored one, in arrival order.
        stmt = stmt.where(Comment.spam_score.is_(None))
        if after and after[0] == "null":
            stmt = stmt.where(Comment.id > last_id if asc else Comment.id < last_id)
        return stmt.order_by(Comment.id.asc() if asc else Comment.id.desc())
    stmt = stmt.where(Comment.spam_score.is_not(None))
    if after:
        key, mark = tuple_(Comment.spam_score, Comment.id), tuple_(float(after[1]), last_id)
        stmt = stmt.where(key > mark if asc else key < mark)
    if asc:
        return stmt.order_by(Comment.spam_score.asc(), Comment.id.asc())
    return stmt.order_by(Comment.spam_score.desc(), Comment.id.desc())


def _cursor_for(f: QueueFilter, comment: Comment, reports: int, phase: str) -> str:
    """The cursor that starts the next page after this row."""
    if f.order == "reports":
        return encode_cursor(["reports", reports, comment.id])
    if f.order in ("score", "score_asc"):
        return encode_cursor([phase, comment.spam_score if phase == "scored" else None, comment.id])
    return encode_cursor(["id", None, comment.id])


def count_matching(session: Session, f: QueueFilter, cap: int) -> tuple[int, bool]:
    """How many comments match (counting at most ``cap + 1``), and whether the count was capped."""
    stmt, _ = _base(f, _is_sqlite(session))
    inner = stmt.with_only_columns(Comment.id).limit(cap + 1).subquery()
    n = int(session.scalar(select(func.count()).select_from(inner)) or 0)
    return min(n, cap), n > cap


def queue_page(session: Session, f: QueueFilter, limit: int, cursor: str | None = None, cap: int = 1000,
               count: bool = True) -> Page:
    """One page of the queue after ``cursor`` (the first page without one), with a count up to ``cap``."""
    after = decode_cursor(cursor)
    if after is not None:
        _check_cursor(after, f.order)
    phase = "null" if after and after[0] == "null" else "scored"
    base, reports = _base(f, _is_sqlite(session))
    first = session.execute(_keyset(base, f, reports, after, phase).limit(limit + 1))
    rows = [(c, slug, int(n)) for c, slug, n in first]
    phases = [phase] * len(rows)
    if f.order in ("score", "score_asc") and phase == "scored" and len(rows) <= limit:
        extra = session.execute(_keyset(base, f, reports, None, "null").limit(limit + 1 - len(rows)))
        tail = [(c, slug, int(n)) for c, slug, n in extra]
        rows += tail
        phases += ["null"] * len(tail)
    more = len(rows) > limit
    rows, phases = rows[:limit], phases[:limit]
    next_cursor = _cursor_for(f, rows[-1][0], rows[-1][2], phases[-1]) if more and rows else None
    total, capped = count_matching(session, f, cap) if count else (len(rows), bool(next_cursor))
    return Page(rows, next_cursor, total, capped)


def matching_ids(session: Session, f: QueueFilter, cap: int) -> list[str]:
    """Ids of every comment matching the filter, up to ``cap`` (for 'select all matching')."""
    stmt, _ = _base(f, _is_sqlite(session))
    return list(session.scalars(stmt.with_only_columns(Comment.id).order_by(Comment.id).limit(cap)))


def window_start_id(hours: float, now: float | None = None) -> str:
    """The smallest service id a comment received within the last ``hours`` can have."""
    moment = (time.time() if now is None else now) - hours * 3600
    return f"{int(max(moment, 0) * 1000):012x}"


def _shape(text: str) -> str:
    """How identical texts are compared in Python (mirrors lower(trim()) in SQL for ASCII)."""
    return text.strip(" ").lower()


def identical_counts(session: Session, comments: list[Comment], hours: float) -> dict[str, int]:
    """Per comment, how many other comments of its site arrived in the window with the same text (ignoring case)."""
    if not comments:
        return {}
    shapes = {_shape(c.content) for c in comments}
    key = func.lower(func.trim(Comment.content))
    stmt = (select(Comment.site_id, key, func.count())
            .where(Comment.id >= window_start_id(hours), Comment.site_id.in_({c.site_id for c in comments}),
                   key.in_(shapes))
            .group_by(Comment.site_id, key))
    found = {(site_id, shape): int(n) for site_id, shape, n in session.execute(stmt)}
    recent = window_start_id(hours)
    return {c.id: max(found.get((c.site_id, _shape(c.content)), 0) - (1 if c.id >= recent else 0), 0)
            for c in comments}


def get_comment(session: Session, comment_id: str) -> tuple[Comment, str] | None:
    """A comment with its site's slug."""
    row = session.execute(select(Comment, Site.slug).join(Site, Site.id == Comment.site_id)
                          .where(Comment.id == comment_id)).first()
    return (row[0], row[1]) if row else None


def author_history(session: Session, comment: Comment, limit: int = 20) -> tuple[list[Comment], dict[str, int]]:
    """Earlier comments of the same site by the same e-mail or IP (newest first), and their count per status."""
    who = [c for c in (Comment.author_email == comment.author_email if comment.author_email else None,
                       Comment.author_ip == comment.author_ip if comment.author_ip else None) if c is not None]
    if not who:
        return [], {}
    scope = (Comment.site_id == comment.site_id, Comment.id != comment.id, or_(*who))
    rows = list(session.scalars(select(Comment).where(*scope).order_by(Comment.id.desc()).limit(limit)))
    counts = {status: int(n) for status, n in
              session.execute(select(Comment.status, func.count()).where(*scope).group_by(Comment.status))}
    return rows, counts


def events_for(session: Session, comment_id: str) -> list[DecisionEvent]:
    """The comment's audit trail, oldest first."""
    return list(session.scalars(select(DecisionEvent).where(DecisionEvent.comment_id == comment_id)
                                .order_by(DecisionEvent.id)))


def flags_for(session: Session, comment_id: str) -> list[Flag]:
    """Every reader report of a comment, oldest first."""
    return list(session.scalars(select(Flag).where(Flag.comment_id == comment_id).order_by(Flag.id)))


def add_flag(session: Session, comment: Comment, reason: str, reporter: str, note: str | None) -> bool:
    """Record a reader's report; False when this reporter had already reported this comment."""
    if reason not in FLAG_REASONS:
        raise ValueError(f"reason must be one of {', '.join(FLAG_REASONS)}")
    exists = select(Flag.id).where(Flag.comment_id == comment.id, Flag.reporter == reporter)
    if session.scalar(exists) is not None:
        return False
    try:
        with session.begin_nested():  # a concurrent identical report loses the unique race quietly
            session.add(Flag(comment_id=comment.id, site_id=comment.site_id, reason=reason, reporter=reporter,
                             note=note, created_at=datetime.now(UTC)))
    except IntegrityError:
        return False
    return True


def resolve_flags(session: Session, comment_ids: list[str], actor: str) -> list[int]:
    """Close the open reports of these comments (a moderator has looked); returns the flag ids closed."""
    if not comment_ids:
        return []
    ids = list(session.scalars(select(Flag.id).where(Flag.comment_id.in_(comment_ids), Flag.resolved_at.is_(None))))
    if ids:
        session.execute(update(Flag).where(Flag.id.in_(ids)).values(resolved_at=datetime.now(UTC), resolved_by=actor))
    return ids


def reopen_flags(session: Session, flag_ids: list[int]) -> None:
    """Open reports again (undo of the action that closed them)."""
    if flag_ids:
        session.execute(update(Flag).where(Flag.id.in_(flag_ids)).values(resolved_at=None, resolved_by=None))


def with_queue(f: QueueFilter, queue: str) -> QueueFilter:
    """The same filters on another queue (its default sort)."""
    return replace(f, queue=queue, sort="")
