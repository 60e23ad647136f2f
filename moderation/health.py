"""Liveness, readiness and the scrape-time figures behind /metrics."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request
from sqlalchemy import func, select, text

from moderation import metrics
from moderation.decide.rules import ip_in_any
from moderation.decide.states import Status
from moderation.model.registry import ModelNotFound, active_version, read_card
from moderation.reading.fingerprint import UNKNOWN, reading_status
from moderation.services import Services, get_services
from moderation.settings import Settings
from moderation.store.models import Comment

bp = Blueprint("health", __name__)


def _services() -> Services:
    """The app's shared resources."""
    return get_services()


def live_figures(services: Services) -> dict[str, Any]:
    """Queue depth and age from the database and Redis, and the active model; missing parts are left out."""
    model_dir = services.settings.model_dir
    version = active_version(model_dir)
    figures: dict[str, Any] = {"model_version": version, "model_reading": _reading(model_dir, version)}
    try:
        with services.db.session() as session:
            count, oldest = session.execute(
                select(func.count(), func.min(Comment.received_at)).where(Comment.status == Status.QUEUED.value)
            ).one()
        figures["queued_in_db"] = float(count)
        if oldest is not None:
            if oldest.tzinfo is None:
                oldest = oldest.replace(tzinfo=UTC)
            figures["oldest_queued_seconds"] = (datetime.now(UTC) - oldest).total_seconds()
    except Exception:  # noqa: BLE001 - a scrape must not fail because one part is down
        pass
    try:
        figures["pending_in_redis"] = float(services.redis.llen(services.names.pending))
    except Exception:  # noqa: BLE001
        pass
    return figures


def _reading(model_dir: Any, version: str | None) -> str:
    """Whether the active model reads text as this code does (current / stale / unknown)."""
    if version is None:
        return UNKNOWN
    try:
        return reading_status(read_card(model_dir, version).get("reading"))
    except (ModelNotFound, OSError, ValueError):
        return UNKNOWN


def readiness(services: Services) -> dict[str, str]:
    """What is not usable right now (empty when ready)."""
    missing: dict[str, str] = {}
    try:
        with services.db.session() as session:
            session.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001
        missing["database"] = exc.__class__.__name__
    try:
        services.redis.ping()
    except Exception as exc:  # noqa: BLE001
        missing["redis"] = exc.__class__.__name__
    if active_version(services.settings.model_dir) is None:
        missing["model"] = "no active model"
    return missing


@bp.get("/healthz")
def healthz() -> Response:
    """200 while the web process runs."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """200 only when the database, Redis and an active model are usable."""
    missing = readiness(_services())
    if missing:
        return jsonify(status="unavailable", missing=missing), 503
    return jsonify(status="ready"), 200


def _may_read_metrics(settings: Settings) -> bool:
    """From an allowed address, or with the configured bearer token (compared in constant time)."""
    token = str(settings["metrics.token"])
    offered = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(offered.encode(), f"Bearer {token}".encode()):
        return True
    return ip_in_any(request.remote_addr, settings["metrics.allow"]) is not None


@bp.get("/metrics")
def metrics_view() -> Response:
    """Prometheus exposition, for metrics.allow addresses or the metrics.token bearer (it names every site)."""
    services = _services()
    if not _may_read_metrics(services.settings):
        return Response("forbidden: /metrics is open to metrics.allow addresses or the metrics.token bearer\n",
                        status=403, mimetype="text/plain")
    body, content_type = metrics.render(services)
    return Response(body, content_type=content_type)


def init_app(app: Flask) -> None:
    """Register /livez, /readyz and /metrics."""
    app.register_blueprint(bp)
