"""What a worker process holds for its whole life: settings, DB, Redis and the loaded model.

Built lazily on first use (never at import), once per process, so the model is
loaded once per worker and not per job.
"""

from __future__ import annotations

import threading
from functools import cached_property

import requests
from requests.adapters import HTTPAdapter

from moderation.rules import Lists, config_lists
from moderation.scoring import ScorerCache
from moderation.services import Services
from moderation.settings import Settings, load_settings


class WorkerContext(Services):
    """Services plus the model cache, the list files and an HTTP session for callbacks."""

    def __init__(self, settings: Settings):
        super().__init__(settings)

    @cached_property
    def scorers(self) -> ScorerCache:
        """The active model, loaded once and swapped when ops promote another."""
        return ScorerCache(self.settings.model_dir)

    @cached_property
    def http(self) -> requests.Session:
        """Keep-alive connections to the sites' callback endpoints, enough per site for concurrent sends."""
        session = requests.Session()
        size = max(10, self.settings["callbacks.concurrency"])
        for scheme in ("http://", "https://"):
            session.mount(scheme, HTTPAdapter(pool_connections=size, pool_maxsize=size))
        return session

    def global_lists(self) -> Lists:
        """The lists from config/ (rules.config_lists: re-read at most every few seconds)."""
        return config_lists(self.settings["lists.dir"])


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
