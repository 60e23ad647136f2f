"""What a worker process holds for its whole life: settings, DB, Redis and the loaded model.

Built lazily on first use (never at import), once per process, so the model is
loaded once per worker and not per job.
"""

from __future__ import annotations

import threading
from functools import cached_property

from moderation.delivery.posting import CallbackClient
from moderation.services import Services
from moderation.settings import load_settings


class WorkerContext(Services):
    """Services (the decider among them: rules, model, flood, thresholds) plus the callback client."""

    @cached_property
    def callbacks(self) -> CallbackClient:
        """Keep-alive connections to the sites' callback endpoints, each POST bound by callbacks.timeout in all."""
        return CallbackClient(self.settings["callbacks.timeout"], self.settings["callbacks.block_private"])


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
