"""Callbacks: retried with back-off through RQ Retry, every attempt recorded, failures listed and re-sent."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from click.testing import CliRunner
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from moderation.cli import main
from moderation.services import Services
from moderation.store.models import CallbackAttempt, CallbackDelivery
from tests.support import Receiver, Site, signed_request
from workers.jobs import sweep

HAM = "Terima kasih infonya, semoga jalan provinsi segera diperbaiki"


def deliveries(services: Services) -> list[CallbackDelivery]:
    """Every delivery row."""
    with services.db.session() as session:
        return list(session.scalars(select(CallbackDelivery)))


def attempts(services: Services) -> list[CallbackAttempt]:
    """Every attempt row, oldest first."""
    with services.db.session() as session:
        return list(session.scalars(select(CallbackAttempt).order_by(CallbackAttempt.id)))


def test_500_twice_then_200_is_delivered_once_with_three_attempts(
    client: Any, site: Site, receiver: Receiver, run_worker: Callable[[], bool], services: Services
) -> None:
    """The receiver answers 500, 500, 200: the event arrives, is acknowledged once, and three attempts are stored."""
    receiver.script = [500, 500]
    signed_request(client, site, "POST", "/api/v1/comments", {"id": "c1", "content": HAM})
    run_worker()
    assert [r["answered"] for r in receiver.requests] == [500, 500, 200]
    (delivery,) = deliveries(services)
    assert delivery.status == "delivered" and delivery.attempts == 3 and delivery.delivered_at
    assert [a.status_code for a in attempts(services)] == [500, 500, 200]
    # Every attempt carried the same event id, so the site can de-duplicate.
    assert len({r["headers"]["X-Moderation-Event-Id"] for r in receiver.requests}) == 1


def test_refused_connection_is_retried_and_recorded(
    client: Any, make_site: Callable[..., Site], run_worker: Callable[[], bool], services: Services
) -> None:
    """A site that does not answer at all: every attempt is recorded, then the delivery is failed and listed."""
    dead = make_site("dead", "http://127.0.0.1:9/hook")  # discard port: connection refused
    signed_request(client, dead, "POST", "/api/v1/comments", {"id": "d1", "content": HAM})
    run_worker()
    (delivery,) = deliveries(services)
    assert delivery.status == "failed" and delivery.attempts == 3  # first try + 2 retries (intervals "0,0")
    assert all(a.status_code is None and a.error for a in attempts(services))


def test_failed_deliveries_are_listed_and_resent(
    config: dict[str, Any], client: Any, site: Site, receiver: Receiver, run_worker: Callable[[], bool],
    services: Services, monkeypatch: Any
) -> None:
    """`moderation callbacks list` shows exhausted deliveries; `callbacks retry` sends them again."""
    receiver.script = [503, 503, 503]
    signed_request(client, site, "POST", "/api/v1/comments", {"id": "f1", "content": HAM})
    run_worker()
    assert deliveries(services)[0].status == "failed"
    for name, value in config.items():
        monkeypatch.setenv("MODERATION_" + name.upper().replace(".", "_"), str(value))
    runner = CliRunner()
    listed = runner.invoke(main, ["callbacks", "list"])
    assert listed.exit_code == 0, listed.output
    row = json.loads(listed.output.splitlines()[0])
    assert row["status"] == "failed" and row["attempts"] == 3 and row["last_status_code"] == 503
    retried = runner.invoke(main, ["callbacks", "retry"])
    assert retried.exit_code == 0 and json.loads(retried.output)["requeued"] == [row["id"]]
    run_worker()
    assert deliveries(services)[0].status == "delivered"
    assert [r["answered"] for r in receiver.requests] == [503, 503, 503, 200]


def test_retries_are_scheduled_with_backoff(
    config: dict[str, Any], client: Any, site: Site, receiver: Receiver, services: Services
) -> None:
    """With real intervals a failed first attempt is scheduled for later in RQ's scheduler, not retried at once."""
    from moderation.settings import load_settings
    from workers.context import WorkerContext, install
    from workers.worker import make_worker

    ctx = WorkerContext(load_settings(overrides={**config, "callbacks.retry_intervals": "30,120,600"}))
    install(ctx)
    receiver.script = [500]
    signed_request(client, site, "POST", "/api/v1/comments", {"id": "b1", "content": HAM})
    make_worker(ctx).work(burst=True, logging_level="WARNING")
    install(None)
    assert len(receiver.requests) == 1
    registry = ScheduledJobRegistry(ctx.names.callback_queue, connection=ctx.redis)
    assert registry.count == 1
    (delivery,) = deliveries(services)
    assert delivery.status == "pending" and delivery.next_attempt_at is not None
    wait = (delivery.next_attempt_at - delivery.updated_at).total_seconds()
    assert 29 <= wait <= 31
    # The sweeper leaves a delivery alone while its retry is merely waiting for its time.
    assert ctx.settings["sweeper.stale_after"] == 0
    install(ctx)
    assert sweep()["callbacks"] == 0
    install(None)
    ctx.db.dispose()


def test_site_without_callback_url_gets_no_delivery(
    client: Any, make_site: Callable[..., Site], run_worker: Callable[[], bool], services: Services
) -> None:
    """A site with no callback URL learns decisions by reading; no outbox row is made."""
    quiet = make_site("quiet")
    posted = signed_request(client, quiet, "POST", "/api/v1/comments", {"id": "q", "content": HAM}).get_json()
    run_worker()
    assert deliveries(services) == []
    assert signed_request(client, quiet, "GET", f"/api/v1/comments/{posted['id']}").get_json()["status"] != "queued"


def test_a_batch_of_callbacks_is_sent_concurrently(
    client: Any, site: Site, receiver: Receiver, run_worker: Callable[[], bool], services: Services
) -> None:
    """Four decisions in one batch reach a site together: its endpoint only answers once all four are in flight."""
    import threading

    receiver.together = threading.Barrier(4, timeout=5)  # sent one after another, the first waits alone: 503
    batch = {"comments": [{"id": f"b{n}", "content": f"{HAM} ({n})"} for n in range(4)]}
    assert signed_request(client, site, "POST", "/api/v1/comments/batch", batch).status_code == 202
    run_worker()
    assert [d.status for d in deliveries(services)] == ["delivered"] * 4
    assert [r["answered"] for r in receiver.requests] == [200] * 4
