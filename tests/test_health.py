"""Health, readiness and Prometheus metrics."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moderation.app import create_app
from moderation.services import get_services
from tests.support import Site, signed_request


def test_healthz_answers_while_running(client: Any) -> None:
    """/healthz needs nothing but the process."""
    assert client.get("/healthz").status_code == 200


def test_readyz_with_everything_up(client: Any) -> None:
    """Database, Redis and an active model: ready."""
    resp = client.get("/readyz")
    assert resp.status_code == 200 and resp.get_json()["status"] == "ready"


def test_readyz_names_what_is_missing(config: dict[str, Any], tmp_path: Any) -> None:
    """No Redis and no model: 503 listing both, while the database is fine."""
    app = create_app({**config, "redis_url": f"unix://{tmp_path}/none.sock", "model_dir": str(tmp_path / "empty")})
    resp = app.test_client().get("/readyz")
    assert resp.status_code == 503
    assert set(resp.get_json()["missing"]) == {"redis", "model"}
    get_services(app).db.dispose()


def test_metrics_count_the_walk(client: Any, site: Site, run_worker: Callable[[], bool]) -> None:
    """After a comment is received and decided, /metrics shows intake, decisions, latency, queue and model."""
    signed_request(client, site, "POST", "/api/v1/comments", {"id": "m1", "content": "Informasi yang bermanfaat"})
    run_worker()
    text = client.get("/metrics").get_data(as_text=True)
    for name in ("moderation_comments_received_total", "moderation_decisions_total", "moderation_scoring_seconds",
                 "moderation_decision_latency_seconds", "moderation_callback_attempts_total",
                 "moderation_queue_depth", "moderation_queue_oldest_seconds", "moderation_active_model"):
        assert name in text, name
    assert 'moderation_queue_depth{where="database"} 0.0' in text
    assert 'reading="current"' in text  # the seed model was trained by this code


def test_unknown_api_route_is_json_404(client: Any) -> None:
    """Under /api, even Werkzeug's own errors use the contract's error shape."""
    resp = client.get("/api/v1/nothing-here")
    assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not_found"
