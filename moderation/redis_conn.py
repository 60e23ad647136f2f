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


def connect(settings: Settings) -> Redis:
    """A client for the service's Redis (connects lazily, on first command)."""
    return Redis.from_url(redis_url(settings), socket_timeout=SOCKET_TIMEOUT, socket_connect_timeout=2.0)
