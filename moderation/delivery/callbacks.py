"""Sending one signed callback to a site; the outbox and retries live in the store and the jobs."""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from moderation import metrics
from moderation.delivery import signing
from moderation.delivery.posting import CallbackClient, path_with_query
from moderation.store.callbacks import Outgoing

EVENT_HEADER = "X-Moderation-Event-Id"
"""The delivery's id, so a site can ignore an event it already applied (delivery is at-least-once)."""

USER_AGENT = "moderation-callbacks/1"
"""Sent with every callback."""


@dataclass(frozen=True)
class AttemptResult:
    """What one HTTP attempt gave."""

    status_code: int | None
    error: str | None
    duration_ms: float

    @property
    def ok(self) -> bool:
        """The site acknowledged the event (2xx)."""
        return self.status_code is not None and 200 <= self.status_code < 300


def send(client: CallbackClient, out: Outgoing) -> AttemptResult:
    """POST one event, signed with the site's secret, within the client's deadline; never raises."""
    headers = signing.signed_headers(out.site, out.secret, "POST", path_with_query(out.url), out.body)
    headers.update({"Content-Type": "application/json", EVENT_HEADER: str(out.delivery_id), "User-Agent": USER_AGENT})
    started = time.perf_counter()
    answer = client.post(out.url, out.body, headers)
    ok = answer.status is not None and 200 <= answer.status < 300
    error = answer.error if answer.status is None else (None if ok else f"HTTP {answer.status}")
    result = AttemptResult(answer.status, error, (time.perf_counter() - started) * 1000)
    metrics.CALLBACK_ATTEMPTS.labels("delivered" if result.ok else "failed").inc()
    return result


def send_all(client: CallbackClient, outs: Sequence[Outgoing], concurrency: int) -> list[AttemptResult]:
    """Send every event, up to ``concurrency`` comments at once; results in the order of ``outs``.

    Sent one after another, a batch is as slow as the sum of its sites' answers: one slow site would hold
    every other site's decisions back by the deadline each (and each send ends by that deadline). Events
    about one comment (spam, then an undo back to held) are still sent one after another, in order, so a
    site applying them ends where we did.
    """
    by_comment: dict[str, list[int]] = {}
    for n, out in enumerate(outs):
        by_comment.setdefault(out.comment_id or f"#{n}", []).append(n)
    results: dict[int, AttemptResult] = {}

    def send_in_order(positions: list[int]) -> None:
        for n in positions:
            results[n] = send(client, outs[n])

    if len(by_comment) <= 1 or concurrency <= 1:
        for positions in by_comment.values():
            send_in_order(positions)
    else:
        with ThreadPoolExecutor(min(concurrency, len(by_comment)), thread_name_prefix="callback") as pool:
            list(pool.map(send_in_order, by_comment.values()))
    return [results[n] for n in range(len(outs))]
