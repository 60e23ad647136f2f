"""RQ job functions. They stay thin: load rows, ask the decider, record through the store, hand over.

Scoring is idempotent: a comment is decided by a compare-and-set on its
``queued`` status, so a retried job, a duplicate id on the list, or two
workers racing can never decide one comment twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from rq import get_current_job

from moderation import metrics
from moderation.alerts.check import run_alerts
from moderation.decide.decider import Candidate, site_thresholds
from moderation.decide.rules import CommentInput
from moderation.decide.states import Decision, Status
from moderation.delivery.callbacks import AttemptResult, send, send_all
from moderation.delivery.queueing import (
    DELIVER_BATCH,
    enqueue_deliveries,
    enqueue_retry,
    ensure_callback_drain,
    ensure_drain,
    hand_over,
    restart_drains,
    submit_for_scoring,
)
from moderation.privacy import pseudonymize_expired
from moderation.store import callbacks as outbox
from moderation.store.comments import queued_comments, stale_queued_ids
from moderation.store.decisions import Event, record
from workers.context import get_context

log = logging.getLogger(__name__)

def drain_pending() -> int:
    """Score what is on the pending list, batch by batch; returns how many comments were decided."""
    ctx = get_context()
    redis, names, settings = ctx.redis, ctx.names, ctx.settings
    # Clear the flag first: anything pushed from now on enqueues a fresh drain job.
    redis.delete(names.drain_flag)
    decided = 0
    for _ in range(settings["scoring.max_batches_per_job"]):
        raw: list[bytes] | None = redis.lpop(names.pending, settings["scoring.batch_size"])  # type: ignore[assignment]
        if not raw:
            return decided
        decided += score_comments([r.decode() for r in raw])
    if redis.llen(names.pending):
        ensure_drain(redis, names)  # hand the rest to a fresh job so other queues get a turn
    return decided


def score_comments(comment_ids: Sequence[str]) -> int:
    """Decide the still-queued comments among these ids; returns how many this call decided."""
    ctx = get_context()
    started = time.perf_counter()
    with ctx.db.session() as session:
        pairs = queued_comments(session, comment_ids)
    if not pairs:
        return 0
    decisions = ctx.decider.decide([Candidate(c.id, site.id, CommentInput.of(c), site_thresholds(site))
                                    for c, site in pairs])
    received = {comment.id: comment.received_at for comment, _ in pairs}
    with ctx.db.session() as session:
        recorded = record(session, decisions, Status.QUEUED, event=Event.DECIDED)
    for decision in recorded.applied:
        _count(decision, received[decision.comment_id])
    metrics.SCORING_SECONDS.observe(time.perf_counter() - started)
    hand_over(ctx.redis, ctx.names, recorded.delivery_ids)
    return len(decisions)


def _count(decision: Decision, received_at: datetime) -> None:
    """Metrics for one decision."""
    metrics.DECISIONS.labels(decision.status.value, decision.actor).inc()
    if decision.actor == "rule":
        metrics.RULE_HITS.labels(decision.reasons[0]["code"]).inc()
    metrics.observe_latency(received_at.timestamp())


def _retryable(result: AttemptResult) -> bool:
    """Retry on no answer, 5xx, 408 and 429; any other answer is final."""
    return result.status_code is None or result.status_code >= 500 or result.status_code in (408, 429)


def drain_callbacks() -> int:
    """Send one batch from the pending-callbacks list; returns how many were delivered.

    One batch per job: a fresh job takes the rest, and workers take scoring jobs first, so a long
    backlog of callbacks never holds decisions back.
    """
    ctx = get_context()
    redis, names = ctx.redis, ctx.names
    redis.delete(names.callback_flag)  # anything pushed from now on enqueues a fresh drain job
    raw: list[bytes] | None = redis.lpop(names.pending_callbacks, DELIVER_BATCH)  # type: ignore[assignment]
    if not raw:
        return 0
    delivered = deliver_callbacks([int(r) for r in raw])
    if redis.llen(names.pending_callbacks):
        ensure_callback_drain(redis, names)
    return delivered


def deliver_callbacks(delivery_ids: Sequence[int]) -> int:
    """First attempt at a batch of deliveries; a failed one is handed to RQ Retry. Returns how many succeeded."""
    ctx = get_context()
    intervals = ctx.settings["callbacks.retry_intervals"]
    with ctx.db.session() as session:
        ready, _ = outbox.outgoing(session, delivery_ids)
    results = send_all(ctx.callbacks, ready, ctx.settings["callbacks.concurrency"])
    attempts = [_attempt(out.delivery_id, result, intervals[0] if intervals else None)
                for out, result in zip(ready, results, strict=True)]
    with ctx.db.session() as session:
        outbox.record_attempts(session, attempts)
    for attempt in attempts:
        if attempt.outcome == outbox.PENDING:
            enqueue_retry(ctx.redis, ctx.names, attempt.delivery_id, intervals, intervals[0])
    return sum(1 for a in attempts if a.outcome == outbox.DELIVERED)


def _attempt(delivery_id: int, result: AttemptResult, retry_in: int | None) -> outbox.Attempt:
    """Where one HTTP result leaves a delivery: delivered, retry due in ``retry_in`` seconds, or failed."""
    if result.ok:
        outcome, due = outbox.DELIVERED, None
    elif _retryable(result) and retry_in is not None:
        outcome, due = outbox.PENDING, datetime.now(UTC) + timedelta(seconds=retry_in)
    else:
        outcome, due = outbox.FAILED, None
    return outbox.Attempt(delivery_id, result.status_code, result.error, result.duration_ms, outcome, due)


class CallbackFailed(RuntimeError):
    """Raised so that RQ schedules the next retry of a delivery."""


def deliver_callback(delivery_id: int) -> bool:
    """One attempt at one delivery; raises while RQ has retries left, marks it failed after the last."""
    ctx = get_context()
    job = get_current_job()
    with ctx.db.session() as session:
        ready, _ = outbox.outgoing(session, [delivery_id])
    if not ready:
        return True  # delivered meanwhile, or the site no longer has a callback URL
    result = send(ctx.callbacks, ready[0])
    retry_in = job.get_retry_interval() if job is not None and job.retries_left else None
    attempt = _attempt(delivery_id, result, retry_in)
    with ctx.db.session() as session:
        outbox.record_attempts(session, [attempt])
    if attempt.outcome == outbox.PENDING:
        raise CallbackFailed(f"delivery {delivery_id}: {result.error}")
    return result.ok


def sweep() -> dict[str, int]:
    """Re-enqueue comments queued too long and callbacks whose job was lost (run periodically)."""
    ctx = get_context()
    stale = timedelta(seconds=ctx.settings["sweeper.stale_after"])
    with ctx.db.session() as session:
        comment_ids = stale_queued_ids(session, stale)
        delivery_ids = outbox.stale_pending_ids(session, stale)
        outbox.touch(session, delivery_ids)
    if comment_ids:
        submit_for_scoring(ctx.redis, ctx.names, comment_ids)
    enqueue_deliveries(ctx.redis, ctx.names, delivery_ids)
    restart_drains(ctx.redis, ctx.names)
    if comment_ids or delivery_ids:
        log.info("sweeper re-enqueued", extra={"comments": len(comment_ids), "callbacks": len(delivery_ids)})
    return {"comments": len(comment_ids), "callbacks": len(delivery_ids)}


def privacy_retention() -> int:
    """Replace raw IPs and e-mails older than privacy.retain_days by keyed hashes (run periodically)."""
    ctx = get_context()
    return pseudonymize_expired(ctx.db, ctx.settings)


def send_alerts() -> dict[str, str]:
    """Send the held-queue digest where one is due (run periodically; see moderation.alerts.check)."""
    return run_alerts(get_context())


def retry_failed_callbacks(delivery_ids: Sequence[int] | None = None) -> list[int]:
    """Reopen failed deliveries (all, or the given ones) and enqueue them again."""
    ctx = get_context()
    with ctx.db.session() as session:
        ids = outbox.reopen(session, delivery_ids)
    enqueue_deliveries(ctx.redis, ctx.names, ids)
    return ids
