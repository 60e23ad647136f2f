"""The one small module through which the web side hands work to the workers.

Jobs are named by dotted path, so ``moderation`` never imports ``workers``.
Comments are not one RQ job each: their ids go on a Redis list, and a drain
job (enqueued only when none is waiting) scores them in batches. The database
stays the source of truth: a comment whose id is lost from Redis is still
``queued`` there, and the sweeper pushes it again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry

log = logging.getLogger(__name__)

DRAIN_JOB = "workers.jobs.drain_pending"
"""Scores whatever is on the pending list, batch by batch."""

DELIVER_DRAIN_JOB = "workers.jobs.drain_callbacks"
"""First attempts at whatever deliveries are on the pending-callbacks list, batch by batch."""

DELIVER_BATCH = 200
"""Most deliveries one batch sends (concurrently, callbacks.concurrency at a time) and records in one commit."""

DELIVER_ONE_JOB = "workers.jobs.deliver_callback"
"""One delivery, retried by RQ with back-off."""

DRAIN_FLAG_TTL = 60
"""Seconds the 'drain job waiting' flag lives, so a lost job cannot block scoring for long."""


class Names:
    """Queue names and Redis keys under one prefix."""

    def __init__(self, prefix: str):
        self.score_queue = f"{prefix}-score"
        self.callback_queue = f"{prefix}-callbacks"
        self.maintenance_queue = f"{prefix}-maintenance"
        self.retrain_queue = f"{prefix}-retrain"  # only the retraining worker listens: scoring never waits on it
        self.pending = f"{prefix}:pending"
        self.drain_flag = f"{prefix}:drain-waiting"
        self.pending_callbacks = f"{prefix}:callbacks-pending"
        self.callback_flag = f"{prefix}:callbacks-waiting"

    @property
    def queues(self) -> list[str]:
        """Every queue a worker listens on, most urgent first."""
        return [self.score_queue, self.callback_queue, self.maintenance_queue]


def _push(redis: Redis, pending: str, flag: str, ids: Sequence[str] | Sequence[int]) -> bool:
    """Append ids to a pending list and take its 'drain job waiting' flag, in one round trip.

    True when the flag was free: the caller must then enqueue the drain job.
    """
    pipe = redis.pipeline(transaction=False)
    pipe.rpush(pending, *ids)
    pipe.set(flag, b"1", nx=True, ex=DRAIN_FLAG_TTL)
    _, flag_was_free = pipe.execute()
    return bool(flag_was_free)


def submit_for_scoring(redis: Redis, names: Names, comment_ids: Sequence[str]) -> bool:
    """Push ids for scoring and make sure a drain job is waiting; False when Redis is unreachable."""
    if not comment_ids:
        return True
    try:
        if _push(redis, names.pending, names.drain_flag, comment_ids):
            _enqueue_drain(redis, names)
        return True
    except RedisError as exc:
        # Intake has already committed the comment; the sweeper will find it.
        log.warning("redis unreachable while queueing %d comment(s): %s", len(comment_ids), exc.__class__.__name__)
        return False


def _enqueue_drain(redis: Redis, names: Names) -> None:
    """Enqueue one drain job (the caller has just taken the flag)."""
    Queue(names.score_queue, connection=redis).enqueue(DRAIN_JOB, result_ttl=0, failure_ttl=86400)


def ensure_drain(redis: Redis, names: Names) -> None:
    """Make sure a drain job is waiting (used when items remain after a job's share)."""
    if redis.set(names.drain_flag, b"1", nx=True, ex=DRAIN_FLAG_TTL):
        _enqueue_drain(redis, names)


def enqueue_deliveries(redis: Redis, names: Names, delivery_ids: Sequence[int]) -> None:
    """Push deliveries for their first attempt and make sure a callbacks drain job is waiting.

    Like scoring, one drain job sends everything pending in big batches: one RQ job and one commit per
    batch instead of per scoring batch, so callbacks keep up with a steady stream of small decisions.
    """
    if delivery_ids and _push(redis, names.pending_callbacks, names.callback_flag, delivery_ids):
        _enqueue_callback_drain(redis, names)


def hand_over(redis: Redis, names: Names, delivery_ids: Sequence[int]) -> None:
    """After a decision's commit: enqueue its callbacks; if Redis is down the sweeper sends them later.

    The one after-commit hand-over of every writer (workers, Akismet, console actions and undo): the outbox
    rows are already durable, so a Redis failure here only delays delivery, it never loses a callback.
    """
    if not delivery_ids:
        return
    try:
        enqueue_deliveries(redis, names, delivery_ids)
    except RedisError as exc:
        log.warning("callbacks left for the sweeper, Redis unavailable: %s", exc.__class__.__name__)


def _enqueue_callback_drain(redis: Redis, names: Names) -> None:
    """Enqueue one callbacks drain job (the caller has just taken the flag)."""
    Queue(names.callback_queue, connection=redis).enqueue(DELIVER_DRAIN_JOB, result_ttl=0, failure_ttl=86400)


def restart_drains(redis: Redis, names: Names) -> None:
    """Enqueue a drain job for each non-empty list even if its flag says one waits (the sweeper's call).

    A flag outlives a drain job lost from Redis by up to DRAIN_FLAG_TTL; an extra drain job is harmless
    (LPOP hands each id to one job only), a stranded list is not.
    """
    pipe = redis.pipeline(transaction=False)
    pipe.llen(names.pending)
    pipe.llen(names.pending_callbacks)
    comments, callbacks = pipe.execute()
    if comments:
        redis.set(names.drain_flag, b"1", ex=DRAIN_FLAG_TTL)
        _enqueue_drain(redis, names)
    if callbacks:
        redis.set(names.callback_flag, b"1", ex=DRAIN_FLAG_TTL)
        _enqueue_callback_drain(redis, names)


def ensure_callback_drain(redis: Redis, names: Names) -> None:
    """Make sure a callbacks drain job is waiting (used when deliveries remain after a job's share)."""
    if redis.set(names.callback_flag, b"1", nx=True, ex=DRAIN_FLAG_TTL):
        _enqueue_callback_drain(redis, names)


def enqueue_retry(redis: Redis, names: Names, delivery_id: int, intervals: Sequence[int], delay: int) -> Any:
    """Hand one delivery to RQ's Retry (with the scheduler) after a failed first attempt."""
    queue = Queue(names.callback_queue, connection=redis)
    retry = Retry(max=len(intervals) - 1, interval=list(intervals[1:])) if len(intervals) > 1 else None
    kwargs: dict[str, Any] = {"result_ttl": 0, "failure_ttl": 7 * 86400, "retry": retry}
    if delay > 0:
        return queue.enqueue_in(timedelta(seconds=delay), DELIVER_ONE_JOB, delivery_id, **kwargs)
    return queue.enqueue(DELIVER_ONE_JOB, delivery_id, **kwargs)
