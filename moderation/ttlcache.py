"""A small per-process cache whose entries expire: site secrets, Akismet keys and stats figures use it.

Each web process keeps its own copy, so a change made elsewhere (a rotated
secret, a new list entry) shows within ``seconds``; that bound is why a TTL,
not an LRU, is the right shape here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

MAX_ENTRIES = 10_000
"""Past this many entries the cache starts afresh, so a flood of guessed keys cannot grow memory without bound."""


class TtlCache(Generic[K, V]):
    """Values loaded on a miss and trusted for ``seconds``; safe to share between threads."""

    def __init__(self, seconds: float, max_entries: int = MAX_ENTRIES) -> None:
        """An empty cache whose entries live ``seconds``."""
        self.seconds = seconds
        self.max_entries = max_entries
        self._entries: dict[K, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get(self, key: K, load: Callable[[], V]) -> V:
        """The cached value of ``key``, or ``load()``'s (stored) when missing or older than ``seconds``."""
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(key)
        if hit is not None and now - hit[0] < self.seconds:
            return hit[1]
        # Loaded outside the lock: two threads may both load on a miss, which is cheaper than serialising loads.
        value = load()
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = (now, value)
        return value

    def forget(self, matches: Callable[[K], bool]) -> None:
        """Drop every entry whose key ``matches``."""
        with self._lock:
            for key in [k for k in self._entries if matches(k)]:
                del self._entries[key]

    def clear(self) -> None:
        """Drop every entry."""
        with self._lock:
            self._entries.clear()
