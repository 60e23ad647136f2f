"""Leader/follower batching: concurrent callers in one process share one expensive step.

A durable commit costs one fsync, and scoring one comment costs almost as
much sklearn overhead as scoring fifty; so when several request threads want
the same step at once, the first to arrive becomes the leader, takes every
item queued so far, runs the step once for all of them and wakes the others.
Items that arrive meanwhile form the next group. Nobody waits on a timer, so
a lone request is not slowed down. Intake's group commit and the Akismet
comment-check both use it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

MAX_GROUP = 256
"""Most items one leader takes at once (bounds the step's size and the followers' wait)."""


@dataclass
class _Slot(Generic[T]):
    """One caller's item, and what became of it."""

    item: T
    done: bool = False
    result: Any = None
    error: BaseException | None = None


class Batcher(Generic[T, R]):
    """Run ``step`` over groups of concurrently submitted items; each caller gets its own item's result."""

    def __init__(self, step: Callable[[list[T]], Sequence[R | BaseException]], max_group: int = MAX_GROUP):
        """``step`` answers one result per item, in order; an exception instance fails only that item."""
        self.step = step
        self.max_group = max_group
        self._cond = threading.Condition()
        self._queue: list[_Slot[T]] = []
        self._busy = False

    def submit(self, item: T) -> R:
        """Run the step for ``item`` (alone or with others) and return its result; raises its error."""
        mine: _Slot[T] = _Slot(item)
        with self._cond:
            self._queue.append(mine)
            while not mine.done:
                if self._busy:
                    self._cond.wait()
                    continue
                self._busy = True
                group, self._queue = self._queue[:self.max_group], self._queue[self.max_group:]
                self._cond.release()
                try:
                    self._run(group)
                finally:
                    self._cond.acquire()
                    self._busy = False
                    self._cond.notify_all()
        if mine.error is not None:
            raise mine.error
        return mine.result  # type: ignore[no-any-return]

    def _run(self, group: list[_Slot[T]]) -> None:
        """One step for the group; a step that raises fails every item of it (each waiter must learn)."""
        try:
            results = self.step([slot.item for slot in group])
            if len(results) != len(group):
                raise RuntimeError(f"batch step answered {len(results)} results for {len(group)} items")
        except BaseException as exc:  # noqa: BLE001 - handed to every waiter, re-raised in each
            results = [exc] * len(group)
        for slot, result in zip(group, results, strict=True):
            if isinstance(result, BaseException):
                slot.error = result
            else:
                slot.result = result
            slot.done = True
