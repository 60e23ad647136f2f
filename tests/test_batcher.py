"""Leader/follower batching shared by intake's group commit and the Akismet comment-check."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from moderation.leader_follower import Batcher


def test_concurrent_callers_share_steps_and_each_gets_its_own_result() -> None:
    """Twenty threads arriving while a step runs are served in fewer steps, each with its own answer."""
    groups: list[list[int]] = []
    gate = threading.Event()

    def step(items: list[int]) -> list[int]:
        groups.append(items)
        gate.wait(5)  # the first step holds the door until everyone has queued
        return [n * n for n in items]

    batch: Batcher[int, int] = Batcher(step)
    with ThreadPoolExecutor(20) as pool:
        futures = [pool.submit(batch.submit, n) for n in range(20)]
        while sum(len(g) for g in groups) + len(batch._queue) < 20:
            threading.Event().wait(0.01)
        gate.set()
        assert [f.result(timeout=10) for f in futures] == [n * n for n in range(20)]
    assert len(groups) < 20 and sorted(n for g in groups for n in g) == list(range(20))


def test_an_item_error_fails_only_that_item() -> None:
    """An exception instance in the step's answer is raised in that caller alone."""
    batch: Batcher[int, int] = Batcher(lambda items: [ValueError(n) if n == 2 else n for n in items])
    assert batch.submit(1) == 1
    with pytest.raises(ValueError):
        batch.submit(2)


def test_a_step_that_raises_fails_the_whole_group_and_the_next_call_works() -> None:
    """A crashing step reaches every waiter; the batcher is not left busy."""
    calls: list[list[str]] = []

    def step(items: list[str]) -> list[str]:
        calls.append(items)
        if items == ["boom"]:
            raise RuntimeError("disk full")
        return items

    batch: Batcher[str, str] = Batcher(step)
    with pytest.raises(RuntimeError, match="disk full"):
        batch.submit("boom")
    assert batch.submit("ok") == "ok"


def test_groups_are_bounded() -> None:
    """No step sees more than max_group items."""
    sizes: list[int] = []
    gate = threading.Event()

    def step(items: list[int]) -> list[int]:
        sizes.append(len(items))
        gate.wait(5)
        return items

    batch: Batcher[int, int] = Batcher(step, max_group=3)
    with ThreadPoolExecutor(10) as pool:
        futures = [pool.submit(batch.submit, n) for n in range(10)]
        gate.set()
        assert sorted(f.result(timeout=10) for f in futures) == list(range(10))
    assert max(sizes) <= 3
