"""What a worker process holds for its whole life: settings, DB, Redis and the loaded model.

Built lazily on first use (never at import), once per process, so the model is
loaded once per worker and not per job.
"""

from __future__ import annotations

import threading
from functools import cached_property

import requests
from requests.adapters import HTTPAdapter

from moderation.services import Services
from moderation.settings import load_settings


class WorkerContext(Services):
    """Services (the decider among them: rules, model, flood, thresholds) plus an HTTP session for callbacks."""

    @cached_property
    def http(self) -> requests.Session:
        """Keep-alive connections to the sites' callback endpoints, enough per site for concurrent sends."""
        session = requests.Session()
        size = max(10, self.settings["callbacks.concurrency"])
        for scheme in ("http://", "https://"):
            session.mount(scheme, HTTPAdapter(pool_connections=size, pool_maxsize=size))
        return session


_context: WorkerContext | None = None
_lock = threading.Lock()


def get_context() -> WorkerContext:
    """This process's context, built from the environment on first use."""
    global _context
    with _lock:
        if _context is None:
            _context = WorkerContext(load_settings())
        return _context


def install(context: WorkerContext | None) -> None:
    """Use this context in this process (the CLI and tests build it from their own settings)."""
    global _context
    with _lock:
        _context = context
