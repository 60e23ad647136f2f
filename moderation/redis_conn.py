"""Redis connections: the configured URL, or the embedded redis-server under the data directory."""

from __future__ import annotations

from pathlib import Path

from redis import Redis

from moderation.settings import Settings

SOCKET_NAME = "redis.sock"
"""Unix socket of the embedded Redis, inside the data directory."""

SOCKET_TIMEOUT = 5.0
"""Seconds a Redis call may block before we treat Redis as unreachable."""


def embedded_socket(settings: Settings) -> Path:
    """Where the embedded Redis listens when no URL is configured."""
    return settings.data_dir / SOCKET_NAME


def redis_url(settings: Settings) -> str:
    """The Redis URL every process of this deployment uses."""
    return settings["redis_url"] or f"unix://{embedded_socket(settings)}"


SENTINEL_SCHEME = "redis+sentinel://"
"""``redis+sentinel://HOST:PORT[,HOST:PORT...]/SERVICE[/DB]`` follows the master that Sentinel names."""


def _sentinel(url: str) -> Redis:
    """A client that asks Sentinel for the current master of a service (fail-over without restarts)."""
    from redis.sentinel import Sentinel

    hosts_part, _, rest = url[len(SENTINEL_SCHEME):].partition("/")
    service, _, db = rest.partition("/")
    if not hosts_part or not service:
        raise ValueError("sentinel URL needs hosts and a service name: redis+sentinel://h1:26379,h2:26379/mymaster/0")
    hosts = [(h.rsplit(":", 1)[0], int(h.rsplit(":", 1)[1]) if ":" in h else 26379) for h in hosts_part.split(",")]
    sentinel = Sentinel(hosts, socket_timeout=SOCKET_TIMEOUT)
    return sentinel.master_for(service, db=int(db or 0), socket_timeout=SOCKET_TIMEOUT)


def connect(settings: Settings) -> Redis:
    """A client for the service's Redis (connects lazily, on first command)."""
    url = redis_url(settings)
    if url.startswith(SENTINEL_SCHEME):
        return _sentinel(url)
    return Redis.from_url(url, socket_timeout=SOCKET_TIMEOUT, socket_connect_timeout=2.0)
