"""Figures for the stats page: comments per day by decision, spam and hold rates, hold queue, moderators, models.

No Flask here. Time windows on comments are id ranges (ids are time-ordered),
so they use the primary key; day buckets are UTC dates.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from moderation.console import svg
from moderation.decide.states import Status
from moderation.services import Services
from moderation.store.models import Comment, DecisionEvent
from moderation.store.review import window_start_id
from moderation.ttlcache import TtlCache

STATUS_ORDER = ("approved", "held", "spam", "rejected", "queued")


def _days(n: int, today: date | None = None) -> list[str]:
    """The last ``n`` UTC dates as YYYY-MM-DD, oldest first."""
    end = today or datetime.now(UTC).date()
    return [(end - timedelta(days=n - 1 - i)).isoformat() for i in range(n)]


def _day(value: Any) -> str:
    """A date from SQL (a string on SQLite, a date on PostgreSQL) as YYYY-MM-DD."""
    return str(value)[:10]


def _grid(rows: list[tuple[Any, Any, Any]], days: list[str]) -> dict[str, list[float]]:
    """(day, key, count) rows as one series per key over the days (missing days are 0)."""
    index = {d: i for i, d in enumerate(days)}
    series: dict[str, list[float]] = defaultdict(lambda: [0.0] * len(days))
    for day, key, n in rows:
        if _day(day) in index:
            series[str(key)][index[_day(day)]] += float(n)
    return dict(series)


def figures(session: Session, days: int = 30) -> dict[str, Any]:
    """Every figure of the stats page, as plain JSON-able data."""
    labels = _days(days)
    since_id = window_start_id(days * 24 + 24)
    since = datetime.now(UTC) - timedelta(days=days + 1)
    # One pass over the window's comments serves two charts (by status, and by model version).
    day = func.date(Comment.received_at)
    grouped = session.execute(select(day, Comment.status, Comment.model_version, func.count())
                              .where(Comment.id >= since_id).group_by(day, Comment.status, Comment.model_version)).all()
    per_status = [(d, status, n) for d, status, _, n in grouped]
    per_model = [(d, version or "(rules only)", n) for d, status, version, n in grouped
                 if status != Status.QUEUED.value]
    first = session.execute(
        select(func.date(DecisionEvent.created_at), DecisionEvent.to_status, func.count())
        .where(DecisionEvent.created_at >= since, DecisionEvent.from_status == Status.QUEUED.value)
        .group_by(func.date(DecisionEvent.created_at), DecisionEvent.to_status)).all()
    by_moderator = session.execute(
        select(func.date(DecisionEvent.created_at), DecisionEvent.actor, func.count())
        .where(DecisionEvent.created_at >= since, DecisionEvent.actor.like("moderator:%"))
        .group_by(func.date(DecisionEvent.created_at), DecisionEvent.actor)).all()
    held, oldest = session.execute(select(func.count(), func.min(Comment.id))
                                   .where(Comment.status == Status.HELD.value)).one()
    decided = _grid([tuple(r) for r in first], labels)
    totals = [sum(s[i] for s in decided.values()) for i in range(len(labels))]
    rate = {name: [decided.get(status, [0.0] * len(labels))[i] / totals[i] if totals[i] else None
                   for i in range(len(labels))] for name, status in (("spam rate", "spam"), ("hold rate", "held"))}
    status_series = _grid(per_status, labels)
    return {
        "days": labels,
        "comments_by_status": {k: status_series[k] for k in STATUS_ORDER if k in status_series},
        "first_decision_rates": rate,
        "moderator_actions": {actor.split(":", 1)[1]: v for actor, v in
                              _grid([tuple(r) for r in by_moderator], labels).items()},
        "model_versions": _grid(per_model, labels),
        "held_now": int(held or 0),
        "oldest_held_seconds": _age_seconds(oldest),
    }


CACHE_SECONDS = 30.0
"""The stats page and its four charts share one computation; figures a few seconds old are fine."""

_figures: TtlCache[tuple[str, int], dict[str, Any]] = TtlCache(CACHE_SECONDS)


def cached_figures(services: Services, days: int) -> dict[str, Any]:
    """:func:`figures`, computed at most once per CACHE_SECONDS per database and window."""

    def load() -> dict[str, Any]:
        with services.db.read() as session:
            return figures(session, days)

    return _figures.get((services.settings["database_url"], days), load)


def _age_seconds(comment_id: str | None) -> float | None:
    """Age of a comment from its time-ordered id (the first 12 hex digits are milliseconds)."""
    if not comment_id:
        return None
    try:
        return max(0.0, datetime.now(UTC).timestamp() - int(comment_id[:12], 16) / 1000)
    except ValueError:
        return None


CHARTS = ("comments", "rates", "moderators", "models")


def chart(name: str, data: dict[str, Any]) -> str:
    """One chart of the stats page as SVG text."""
    labels = [d[5:] for d in data["days"]]
    if name == "comments":
        return svg.stacked_bars("Comments per day by current decision", labels, data["comments_by_status"])
    if name == "rates":
        return svg.lines("Spam and hold rates (first decision)", labels, data["first_decision_rates"], percent=True)
    if name == "moderators":
        return svg.stacked_bars("Moderator actions per day", labels, data["moderator_actions"])
    if name == "models":
        return svg.stacked_bars("Comments decided per day by model version", labels, data["model_versions"])
    raise KeyError(name)
