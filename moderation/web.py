"""``moderation web``: the Flask app under gunicorn (gthread workers, keep-alive for busy sites)."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from moderation.settings import Settings


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    """Gunicorn configured from our settings instead of its own CLI."""

    def __init__(self, options: dict[str, Any]):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        """Apply our options to gunicorn's config."""
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        """Build the app in each worker process (no connection is shared across a fork)."""
        from moderation.app import create_app

        return create_app()


def gunicorn_options(settings: Settings, host: str | None = None, port: int | None = None) -> dict[str, Any]:
    """The options `serve` and `web` share (the benchmark's baseline uses the very same)."""
    return {
        "bind": f"{host or settings['serve.host']}:{port or settings['serve.port']}",
        "workers": settings["serve.web_processes"],
        "threads": settings["serve.web_threads"],
        "worker_class": "gthread",
        "keepalive": 5,
        "backlog": 2048,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "graceful_timeout": 10,
    }


def run_web(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    """Serve the app until stopped."""
    _Gunicorn(gunicorn_options(settings, host, port)).run()
