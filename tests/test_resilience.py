"""No comment answered 202 is lost and none is decided twice: Redis down, workers killed, jobs retried."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import joblib
from rq import Queue
from sqlalchemy import func, select

from moderation.model.registry import MODEL_FILE, active_version, read_card, save_model
from moderation.serve import redis_server_argv
from moderation.services import Services, get_services
from moderation.settings import load_settings
from moderation.store.models import CallbackDelivery, Comment, DecisionEvent
from tests.slowmodel import SlowModel
from tests.support import Receiver, Site, signed_request
from workers.jobs import score_comments, sweep

HAM = "Semoga banjir cepat surut, terima kasih tim SAR yang sudah bekerja keras"


def status_of(services: Services, comment_id: str) -> str:
    """The comment's status in the database."""
    with services.db.session() as session:
        return session.get(Comment, comment_id).status  # type: ignore[union-attr]


def event_count(services: Services, comment_id: str) -> int:
    """How many decision events the comment has."""
    with services.db.session() as session:
        stmt = select(func.count()).select_from(DecisionEvent).where(DecisionEvent.comment_id == comment_id)
        return int(session.scalar(stmt) or 0)


def wait_until(check: Callable[[], bool], timeout: float = 15.0) -> None:
    """Poll until the check holds, or fail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def start_redis(tmp_path: Path, socket: Path) -> subprocess.Popen[bytes]:
    """A real redis-server of our own on a unix socket, which the test can stop and start."""
    settings = load_settings(overrides={"data_dir": str(tmp_path), "redis_url": ""})
    argv = redis_server_argv(settings)
    argv[argv.index("--unixsocket") + 1] = str(socket)
    proc = subprocess.Popen(argv)
    wait_until(socket.exists)
    return proc


def test_redis_down_at_intake_then_back_then_swept(
    tmp_path: Path, config: dict[str, Any], make_site: Callable[..., Site], receiver: Receiver
) -> None:
    """Redis stops: intake still answers 202; Redis returns; the sweeper queues the comment and it is decided."""
    from moderation.app import create_app
    from workers.context import WorkerContext, install
    from workers.worker import make_worker

    socket = tmp_path / "own-redis.sock"
    redis_proc = start_redis(tmp_path, socket)
    own = {**config, "redis_url": f"unix://{socket}"}
    app = create_app(own)
    services = get_services(app)
    site = make_site("news", receiver.url + "/hook")
    redis_proc.terminate()
    redis_proc.wait()
    posted = signed_request(app.test_client(), site, "POST", "/api/v1/comments", {"id": "r1", "content": HAM})
    assert posted.status_code == 202
    comment_id = posted.get_json()["id"]
    assert status_of(services, comment_id) == "queued"
    redis_proc = start_redis(tmp_path, socket)
    try:
        ctx = WorkerContext(load_settings(overrides=own))
        install(ctx)
        assert sweep()["comments"] == 1
        make_worker(ctx).work(burst=True, logging_level="WARNING")
        assert status_of(services, comment_id) == "approved"
        assert [b["comment"]["id"] for b in receiver.bodies()] == [comment_id]
    finally:
        install(None)
        redis_proc.terminate()
        redis_proc.wait()
        services.db.dispose()


def _slow_model_dir(seed_model_dir: Path, tmp_path: Path) -> Path:
    """A registry whose active model sleeps while scoring."""
    version = active_version(seed_model_dir)
    assert version
    model = joblib.load(seed_model_dir / version / MODEL_FILE)
    card = read_card(seed_model_dir, version)
    slow_dir = tmp_path / "slow-models"
    save_model(SlowModel.wrapping(model), {k: v for k, v in card.items() if k not in ("version", "sha256")},
               slow_dir, activate=True)
    return slow_dir


def _env_for(config: dict[str, Any], **extra: str) -> dict[str, str]:
    """A subprocess environment carrying the test's settings."""
    env = dict(os.environ)
    for name, value in {**config, **extra}.items():
        env["MODERATION_" + name.upper().replace(".", "_")] = str(value)
    return env


def test_worker_killed_mid_job_is_rescored_once(
    tmp_path: Path, config: dict[str, Any], client: Any, site: Site, services: Services, seed_model_dir: Path,
    run_worker: Callable[[], bool], receiver: Receiver
) -> None:
    """A real worker process is SIGKILLed while scoring: the comment stays queued, the sweeper re-queues it,
    another worker decides it exactly once, and re-running the job afterwards changes nothing."""
    slow_dir = _slow_model_dir(seed_model_dir, tmp_path)
    posted = signed_request(client, site, "POST", "/api/v1/comments", {"id": "k1", "content": HAM}).get_json()
    worker = subprocess.Popen([sys.executable, "-m", "moderation.cli", "worker", "--burst"],
                              env=_env_for(config, model_dir=str(slow_dir)), cwd=Path(__file__).parent.parent)
    try:
        # Once the id has left the pending list the worker is inside the (slow) scoring call.
        wait_until(lambda: services.redis.llen(services.names.pending) == 0 and
                   services.redis.exists(services.names.drain_flag) == 0, timeout=30)
        time.sleep(0.5)
        assert worker.poll() is None
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    assert status_of(services, posted["id"]) == "queued" and event_count(services, posted["id"]) == 0
    assert sweep()["comments"] == 1
    run_worker()
    assert status_of(services, posted["id"]) == "approved" and event_count(services, posted["id"]) == 1
    # The killed job's work, retried now, finds nothing left to decide.
    assert score_comments([posted["id"]]) == 0
    assert event_count(services, posted["id"]) == 1
    assert len(receiver.requests) == 1


def test_scoring_the_same_ids_twice_decides_once(
    client: Any, site: Site, services: Services, worker_context: Any
) -> None:
    """A retried or duplicated scoring job is a no-op for comments already decided."""
    posted = signed_request(client, site, "POST", "/api/v1/comments", {"id": "t1", "content": HAM}).get_json()
    assert score_comments([posted["id"], posted["id"]]) == 1
    assert score_comments([posted["id"]]) == 0
    assert event_count(services, posted["id"]) == 1
    with services.db.session() as session:
        assert session.scalar(select(func.count()).select_from(CallbackDelivery)) == 1


def test_lost_callback_job_is_swept_and_delivered(
    client: Any, site: Site, services: Services, worker_context: Any, run_worker: Callable[[], bool], receiver: Receiver
) -> None:
    """A decision committed whose callback job vanished from Redis is re-enqueued by the sweeper and delivered."""
    posted = signed_request(client, site, "POST", "/api/v1/comments", {"id": "l1", "content": HAM}).get_json()
    score_comments([posted["id"]])
    Queue(services.names.callback_queue, connection=services.redis).empty()  # the job is lost
    assert receiver.requests == []
    assert sweep()["callbacks"] == 1
    run_worker()
    assert [b["comment"]["id"] for b in receiver.bodies()] == [posted["id"]]


def test_lost_drain_job_is_restarted_by_the_sweeper(
    client: Any, site: Site, services: Services, worker_context: Any, run_worker: Callable[[], bool]
) -> None:
    """The scoring drain job vanished while its 'waiting' flag lives on: the next sweep enqueues a fresh one."""
    posted = signed_request(client, site, "POST", "/api/v1/comments", {"id": "d1", "content": HAM}).get_json()
    Queue(services.names.score_queue, connection=services.redis).empty()  # the drain job is lost, the flag stays
    assert services.redis.exists(services.names.drain_flag) == 1
    run_worker()
    assert status_of(services, posted["id"]) == "queued"  # nothing to run: the id waits on the list
    sweep()
    run_worker()
    assert status_of(services, posted["id"]) == "approved"


def test_a_worker_stops_its_command_listener_without_waiting_out_a_minute(worker_context: Any) -> None:
    """Stopping a worker ends its pub/sub command listener at once (RQ's own listener waited up to 60 s)."""
    from workers.worker import COMMAND_POLL, make_worker

    worker = make_worker(worker_context)
    worker.subscribe()
    listener = worker.pubsub_thread
    assert listener.is_alive() and listener.sleep_time == COMMAND_POLL
    worker.unsubscribe()  # RQ's own teardown: stop the listener, then give it 1 s to end
    assert not listener.is_alive()
