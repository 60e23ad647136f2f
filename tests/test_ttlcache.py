"""The per-process TTL cache behind site secrets, Akismet keys and the stats page."""

from __future__ import annotations

import time
from collections.abc import Callable

from moderation.ttlcache import TtlCache


def _counting_loader(calls: list[str], value: str) -> Callable[[], str]:
    """A loader that records each call."""
    def load() -> str:
        calls.append(value)
        return value
    return load


def test_a_fresh_entry_is_served_without_loading_again() -> None:
    """Within the TTL the loader runs once; after it, the value is loaded afresh."""
    cache: TtlCache[str, str] = TtlCache(0.2)
    calls: list[str] = []
    assert cache.get("k", _counting_loader(calls, "v1")) == "v1"
    assert cache.get("k", _counting_loader(calls, "v2")) == "v1"
    time.sleep(0.25)
    assert cache.get("k", _counting_loader(calls, "v3")) == "v3"
    assert calls == ["v1", "v3"]


def test_none_is_cached_too() -> None:
    """An unknown key's None is remembered, so guessing keys does not cost a query each."""
    cache: TtlCache[str, str | None] = TtlCache(60)
    calls: list[int] = []

    def unknown() -> None:
        calls.append(1)

    for _ in range(3):
        assert cache.get("guess", unknown) is None
    assert calls == [1]


def test_forget_drops_only_matching_keys() -> None:
    """forget() reloads the matching entries and keeps the others."""
    cache: TtlCache[tuple[str, str], str] = TtlCache(60)
    cache.get(("db", "a"), lambda: "a1")
    cache.get(("db", "b"), lambda: "b1")
    cache.forget(lambda key: key[1] == "a")
    assert cache.get(("db", "a"), lambda: "a2") == "a2"
    assert cache.get(("db", "b"), lambda: "b2") == "b1"


def test_the_cache_cannot_grow_without_bound() -> None:
    """Past max_entries it starts afresh instead of growing."""
    cache: TtlCache[int, int] = TtlCache(60, max_entries=10)
    for n in range(25):
        cache.get(n, lambda n=n: n)  # type: ignore[misc]
    assert len(cache._entries) <= 10
