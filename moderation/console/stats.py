"""Figures for the stats page: comments per day by decision, spam and hold rates, hold queue, moderators, models.

No Flask here (except the chart titles, which are read in the reader's language). Time windows on
comments are id ranges (ids are time-ordered), so they use the primary key. Days are the days of a
time zone (the sites'), cut at local midnight: SQL counts per UTC hour (shifted by the zone's part-hour
offset, for zones such as Asia/Kolkata), and each hour is given to the local date it falls on, so a
day is right across daylight-saving changes too.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, literal_column, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from moderation.console import svg
from moderation.decide.states import Status
from moderation.services import Services
from moderation.store.models import Comment, DecisionEvent
from moderation.store.review import window_start_id
from moderation.ttlcache import TtlCache

STATUS_ORDER = ("approved", "held", "spam", "rejected", "queued")


def _days(n: int, today: date) -> list[str]:
    """The last ``n`` dates up to ``today`` as YYYY-MM-DD, oldest first."""
    return [(today - timedelta(days=n - 1 - i)).isoformat() for i in range(n)]


def _part_hour(zone: ZoneInfo) -> int:
    """The zone's offset minutes past a whole hour (30 for Asia/Kolkata, 45 for Asia/Kathmandu, else 0)."""
    offset = datetime.now(UTC).astimezone(zone).utcoffset() or timedelta(0)
    return int(offset.total_seconds() // 60) % 60


def _hour(session: Session, column: Any, shift: int) -> ColumnElement[str]:
    """The UTC hour of a timestamp column as 'YYYY-MM-DD HH', after adding ``shift`` minutes."""
    if session.get_bind().dialect.name == "sqlite":
        return func.strftime("%Y-%m-%d %H", column, f"{int(shift):+d} minutes")
    shifted = func.timezone("UTC", column) + literal_column(f"interval '{int(shift)} minutes'")
    return func.to_char(shifted, "YYYY-MM-DD HH24")


def _local_day(hour: Any, shift: int, zone: ZoneInfo) -> str:
    """The local date an hour bucket falls on (the whole bucket lies within one local hour)."""
    start = datetime.strptime(str(hour)[:13], "%Y-%m-%d %H").replace(tzinfo=UTC) - timedelta(minutes=shift)
    return start.astimezone(zone).date().isoformat()


def _grid(rows: list[tuple[Any, Any, Any]], days: list[str]) -> dict[str, list[float]]:
    """(day, key, count) rows as one series per key over the days (missing days are 0)."""
    index = {d: i for i, d in enumerate(days)}
    series: dict[str, list[float]] = defaultdict(lambda: [0.0] * len(days))
    for day, key, n in rows:
        if day in index:
            series[str(key)][index[day]] += float(n)
    return dict(series)


def figures(session: Session, days: int = 30, time_zone: str = "UTC") -> dict[str, Any]:
    """Every figure of the stats page, as plain JSON-able data, with days cut at midnight in ``time_zone``."""
    zone = ZoneInfo(time_zone)
    shift = _part_hour(zone)
    labels = _days(days, datetime.now(zone).date())
    since_id = window_start_id(days * 24 + 24)
    since = datetime.now(UTC) - timedelta(days=days + 1)
    # One pass over the window's comments serves two charts (by status, and by model version).
    hour = _hour(session, Comment.received_at, shift)
    grouped = session.execute(select(hour, Comment.status, Comment.model_version, func.count())
                              .where(Comment.id >= since_id)
                              .group_by(hour, Comment.status, Comment.model_version)).all()
    per_status = [(_local_day(h, shift, zone), status, n) for h, status, _, n in grouped]
    per_model = [(_local_day(h, shift, zone), version or "(rules only)", n) for h, status, version, n in grouped
                 if status != Status.QUEUED.value]
    event_hour = _hour(session, DecisionEvent.created_at, shift)
    first = [(_local_day(h, shift, zone), status, n) for h, status, n in session.execute(
        select(event_hour, DecisionEvent.to_status, func.count())
        .where(DecisionEvent.created_at >= since, DecisionEvent.from_status == Status.QUEUED.value)
        .group_by(event_hour, DecisionEvent.to_status))]
    by_moderator = [(_local_day(h, shift, zone), actor, n) for h, actor, n in session.execute(
        select(event_hour, DecisionEvent.actor, func.count())
        .where(DecisionEvent.created_at >= since, DecisionEvent.actor.like("moderator:%"))
        .group_by(event_hour, DecisionEvent.actor))]
    held, oldest = session.execute(select(func.count(), func.min(Comment.id))
                                   .where(Comment.status == Status.HELD.value)).one()
    decided = _grid(first, labels)
    totals = [sum(s[i] for s in decided.values()) for i in range(len(labels))]
    rate = {name: [decided.get(status, [0.0] * len(labels))[i] / totals[i] if totals[i] else None
                   for i in range(len(labels))] for name, status in (("spam rate", "spam"), ("hold rate", "held"))}
    status_series = _grid(per_status, labels)
    return {
        "days": labels,
        "comments_by_status": {k: status_series[k] for k in STATUS_ORDER if k in status_series},
        "first_decision_rates": rate,
        "moderator_actions": {actor.split(":", 1)[1]: v for actor, v in
                              _grid(by_moderator, labels).items()},
        "model_versions": _grid(per_model, labels),
        "held_now": int(held or 0),
        "oldest_held_seconds": _age_seconds(oldest),
        "time_zone": time_zone,
    }


CACHE_SECONDS = 30.0
"""The stats page and its four charts share one computation; figures a few seconds old are fine."""

_figures: TtlCache[tuple[str, int, str], dict[str, Any]] = TtlCache(CACHE_SECONDS)


def cached_figures(services: Services, days: int, time_zone: str = "UTC") -> dict[str, Any]:
    """:func:`figures`, computed at most once per CACHE_SECONDS per database, window and zone."""

    def load() -> dict[str, Any]:
        with services.db.read() as session:
            return figures(session, days, time_zone)

    return _figures.get((services.settings["database_url"], days, time_zone), load)


def _age_seconds(comment_id: str | None) -> float | None:
    """Age of a comment from its time-ordered id (the first 12 hex digits are milliseconds)."""
    if not comment_id:
        return None
    try:
        return max(0.0, datetime.now(UTC).timestamp() - int(comment_id[:12], 16) / 1000)
    except ValueError:
        return None


CHARTS = ("comments", "rates", "moderators", "models")


def chart_titles() -> dict[str, str]:
    """Each chart's title in the reader's language."""
    from flask_babel import gettext as _

    return {"comments": _("Comments per day by current decision"),
            "rates": _("Spam and hold rates (first decision)"),
            "moderators": _("Moderator actions per day"),
            "models": _("Comments decided per day by model version")}


def chart(name: str, data: dict[str, Any]) -> str:
    """One chart of the stats page as SVG text, labelled in the reader's language."""
    from flask_babel import gettext as _

    from moderation.console.i18n import day, status_word

    labels = [day(d) for d in data["days"]]
    titles = chart_titles()
    if name == "comments":
        series = {status_word(k): v for k, v in data["comments_by_status"].items()}
        return svg.stacked_bars(titles[name], labels, series)
    if name == "rates":
        words = {"spam rate": _("spam rate"), "hold rate": _("hold rate")}
        rates = {words.get(k, k): v for k, v in data["first_decision_rates"].items()}
        return svg.lines(titles[name], labels, rates, percent=True)
    if name == "moderators":
        return svg.stacked_bars(titles[name], labels, data["moderator_actions"], data_names=True)
    if name == "models":
        versions = {(_("(rules only)") if k == "(rules only)" else k): v for k, v in data["model_versions"].items()}
        return svg.stacked_bars(titles[name], labels, versions, data_names=True)
    raise KeyError(name)
