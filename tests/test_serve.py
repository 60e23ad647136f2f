"""`moderation serve` as a user runs it: real processes, embedded Redis, restart on death, clean Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from moderation.delivery import signing
from tests.processes import alive
from tests.support import Receiver

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def descendants(pid: int) -> set[int]:
    """Every live process below pid (read from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def wait_for(check: Any, timeout: float = 30.0) -> Any:
    """Poll until check() is truthy; return its value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except (requests.RequestException, OSError):
            pass
        time.sleep(0.1)
    raise AssertionError("timed out")


@pytest.fixture
def serve_env(tmp_path: Path, seed_model_dir: Path) -> dict[str, str]:
    """Environment for a fresh deployment: its own data dir, the seed model, no outside Redis or database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODERATION_")}
    env.update(MODERATION_DATA_DIR=str(tmp_path / "var"), MODERATION_MODEL_DIR=str(seed_model_dir),
               MODERATION_SERVE_WEB_PROCESSES="1", MODERATION_SWEEPER_INTERVAL="1")
    return env


def cli(env: dict[str, str], *args: str) -> str:
    """Run the moderation command and return its standard output."""
    out = subprocess.run([sys.executable, "-m", "moderation.cli", *args], env=env, cwd=REPO, check=True,
                         capture_output=True, text=True)
    return out.stdout


def worker_pids(supervisor: int) -> set[int]:
    """The RQ worker processes the supervisor runs (its direct children; each forks a scheduler of its own)."""
    pids = set()
    for pid in descendants(supervisor):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if parent == supervisor and b"\x00worker" in Path(f"/proc/{pid}/cmdline").read_bytes():
                pids.add(pid)
        except OSError:
            continue
    return pids


def test_serve_runs_the_whole_walk_and_stops_cleanly(serve_env: dict[str, str], receiver: Receiver) -> None:
    """From an empty data dir: upgrade, register, serve; a signed POST comes back as a signed callback;
    a killed worker is restarted; Ctrl-C leaves no process behind."""
    port = free_port()
    cli(serve_env, "db", "upgrade")
    site = json.loads(cli(serve_env, "sites", "add", "news", "--callback-url", receiver.url + "/hook"))
    proc = subprocess.Popen([sys.executable, "-m", "moderation.cli", "serve", "--port", str(port), "--workers", "1"],
                            env=serve_env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: requests.get(base + "/readyz", timeout=1).status_code == 200)
        body = json.dumps({"id": "1", "content": "Semoga pelakunya cepat ditangkap polisi"}).encode()
        headers = signing.signed_headers(site["site"], site["secret"], "POST", "/api/v1/comments", body)
        resp = requests.post(base + "/api/v1/comments", data=body, timeout=5,
                             headers={**headers, "Content-Type": "application/json"})
        assert resp.status_code == 202
        wait_for(lambda: receiver.requests)
        assert receiver.bodies()[0]["comment"]["id"] == resp.json()["id"]
        (first,) = wait_for(lambda: worker_pids(proc.pid))
        os.kill(first, signal.SIGKILL)
        replacement = wait_for(lambda: worker_pids(proc.pid) - {first})
        assert replacement and first not in worker_pids(proc.pid)
        everything = descendants(proc.pid)
        assert len(everything) >= 4  # redis, web (+ its gunicorn worker), worker, cron
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    wait_for(lambda: not any(alive(pid) for pid in everything), timeout=15)


def test_serve_on_a_fresh_data_dir_migrates_trains_a_model_and_becomes_ready(tmp_path: Path) -> None:
    """No `db upgrade`, no model: serve applies the migrations, trains the seed model, and answers /readyz 200;
    the site API then works on the database it made."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODERATION_")}
    env.update(MODERATION_DATA_DIR=str(tmp_path / "var"), MODERATION_SERVE_WEB_PROCESSES="1")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moderation.cli", "serve", "--port", str(port), "--workers", "1"],
                            env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: requests.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200, timeout=120)
        assert (tmp_path / "var" / "models" / "ACTIVE").exists()
        site = json.loads(cli(env, "sites", "add", "news"))
        body = json.dumps({"id": "1", "content": "Semoga jembatan cepat selesai"}).encode()
        headers = signing.signed_headers(site["site"], site["secret"], "POST", "/api/v1/comments", body)
        resp = requests.post(f"http://127.0.0.1:{port}/api/v1/comments", data=body, timeout=5,
                             headers={**headers, "Content-Type": "application/json"})
        assert resp.status_code == 202
    finally:
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "preparing the embedded database" in output and "training a first one" in output
    assert "no such table" not in output


def test_serve_refuses_an_external_database_that_is_not_migrated(tmp_path: Path, seed_model_dir: Path) -> None:
    """A configured database without our schema: serve stops at once naming `moderation db upgrade`, starts
    nothing and leaves the database untouched."""
    external = tmp_path / "elsewhere" / "shared.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODERATION_")}
    env.update(MODERATION_DATA_DIR=str(tmp_path / "var"), MODERATION_MODEL_DIR=str(seed_model_dir),
               MODERATION_DATABASE_URL=f"sqlite:///{external}")
    started = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "moderation.cli", "serve", "--port", str(free_port())], env=env,
                         cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and time.monotonic() - started < 30
    assert "moderation db upgrade" in out.stderr
    assert "Traceback" not in out.stderr and "serving on" not in out.stdout
    import sqlite3

    with sqlite3.connect(external) as db:  # nothing created in it
        assert db.execute("select count(*) from sqlite_master").fetchone() == (0,)
