"""The cold-start guard: a cap on the share of one site's comments the model holds as uncertain.

A new site's traffic differs from anything the shared model learnt, so on its
first day the model may hold a large share of it and flood two moderators.
With ``policy.max_held_share`` set, a comment the model would hold *only*
because its spam score is uncertain is decided by the 0.5 line instead while
the site's held share over the last hour is at the cap. Comments held for
abuse, by a rule or by a flood are never touched: those need a person.

Counts live in Redis, one hash per site and clock hour, so every worker sees
the same share; a Redis failure leaves decisions as they are.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import replace

from redis import Redis
from redis.exceptions import RedisError

from moderation.decide.states import Decision, Status

log = logging.getLogger(__name__)

MIN_DECISIONS = 20
"""Decisions a site needs in the window before its share is trusted enough to cap."""

WINDOW_SECONDS = 3600
"""Length of one counting bucket; the share is read over this bucket and the previous one."""

UNCERTAIN = "policy.uncertain"


class HeldCap:
    """Keeps each site's share of model-held comments at or under ``max_share``."""

    def __init__(self, redis: Redis, prefix: str, max_share: float) -> None:
        """Counts go under ``{prefix}:held-share:{site}:{bucket}``; a max_share of 0 disables the cap."""
        self.redis = redis
        self.prefix = prefix
        self.max_share = max_share

    def settle(self, decisions: Sequence[Decision], now: float | None = None) -> list[Decision]:
        """The decisions, with uncertain holds over the cap decided by the 0.5 line; counts every decision."""
        if self.max_share <= 0:
            return list(decisions)
        bucket = int((now if now is not None else time.time()) // WINDOW_SECONDS)
        out = []
        try:
            shares = {site: self._share(site, bucket) for site in {d.site_id for d in decisions}}
            for d in decisions:
                held, total = shares[d.site_id]
                if self._capped(d, held, total):
                    d = _settled(d, held / total)
                held, total = held + int(d.status == Status.HELD), total + 1
                shares[d.site_id] = (held, total)
                out.append(d)
            self._count(bucket, decisions, out)
        except RedisError:
            log.warning("held-share counts unavailable; decisions left as the policy made them", exc_info=True)
            return list(decisions)
        return out

    def _capped(self, d: Decision, held: int, total: int) -> bool:
        """True when this is an uncertain model hold and the site is at its cap."""
        uncertain = d.status == Status.HELD and d.actor == "model" and d.reasons and d.reasons[0]["code"] == UNCERTAIN
        return bool(uncertain) and total >= MIN_DECISIONS and held / total >= self.max_share

    def _key(self, site_id: int, bucket: int) -> str:
        """The Redis hash of one site's counts in one bucket."""
        return f"{self.prefix}:held-share:{site_id}:{bucket}"

    def _share(self, site_id: int, bucket: int) -> tuple[int, int]:
        """(held, total) of the site over this bucket and the previous one."""
        pipe = self.redis.pipeline(transaction=False)
        for b in (bucket - 1, bucket):
            pipe.hmget(self._key(site_id, b), "held", "total")
        rows = pipe.execute()
        return sum(int(r[0] or 0) for r in rows), sum(int(r[1] or 0) for r in rows)

    def _count(self, bucket: int, before: Sequence[Decision], after: Sequence[Decision]) -> None:
        """Add this batch's decisions to their sites' current bucket."""
        pipe = self.redis.pipeline(transaction=False)
        for d in after:
            key = self._key(d.site_id, bucket)
            pipe.hincrby(key, "total", 1)
            if d.status == Status.HELD:
                pipe.hincrby(key, "held", 1)
            pipe.expire(key, 2 * WINDOW_SECONDS + 60)
        pipe.execute()


def _settled(d: Decision, share: float) -> Decision:
    """An uncertain hold decided by the 0.5 line, saying why."""
    status = Status.SPAM if (d.spam or 0.0) >= 0.5 else Status.APPROVED
    reason = {"code": "policy.held_cap",
              "detail": f"held share {share:.0%} at the cap: spam {d.spam or 0.0:.3f} decided by the 0.5 line"}
    return replace(d, status=status, reasons=[reason, *d.reasons])
