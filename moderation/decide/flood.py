"""Near-duplicate flood detection: many near-identical comments to one site within minutes.

Each comment's normalised text becomes word 2-gram shingles, then a 64-value
MinHash signature cut into 16 bands of 4. Two texts share a band with
probability 1 - (1 - J^4)^16 for Jaccard similarity J: 0.99 at J = 0.7
(a campaign that changes a phone number or a couple of words), 0.12 at
J = 0.3 and 0.002 at J = 0.1; a comment's count is the union of the comments sharing any of its
bands. Each band is a Redis sorted set of comment ids scored by arrival
time, trimmed to the window and expiring with it, so the count is a sliding
window, a retried job (same comment id) is not counted twice, and nothing is
kept after the window. Keys hold only hashes: no comment text goes to Redis.

Short texts are left out on purpose: "Setuju", "Mantap min" and "Aamiin" are
repeated by thousands of genuine readers, so a flood needs ``MIN_TOKENS`` words.
Sites are counted separately: one site never learns what another receives.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from redis import Redis
from redis.exceptions import RedisError

from moderation.reading.text import normalize

log = logging.getLogger(__name__)

REASON_CODE = "flood.near_duplicate"
"""The reason code a flood adds to a decision."""

MIN_TOKENS = 6
"""Texts with fewer words never count as a flood (short praise is repeated honestly)."""

MAX_COUNT = 100
"""Counts never go past this (bounds what one comment reads from Redis)."""

BANDS, ROWS = 16, 4
"""MinHash bands and rows per band (64 hash functions)."""

_rng = np.random.default_rng(20261127)  # fixed: every process must compute the same signatures
_A = _rng.integers(1, 2**63, size=BANDS * ROWS, dtype=np.uint64) | np.uint64(1)
_B = _rng.integers(0, 2**63, size=BANDS * ROWS, dtype=np.uint64)


RECORD = """
local moment, window, cap = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local oldest = moment - window
local counts, touched, k, a = {}, {}, 1, 4
while a <= #ARGV do
  local id, nbands = ARGV[a], tonumber(ARGV[a + 1])
  local seen, n = {}, 0
  for _ = 1, nbands do
    local key = KEYS[k]
    redis.call('ZADD', key, moment, id)
    touched[key] = true
    for _, member in ipairs(redis.call('ZREVRANGEBYSCORE', key, '+inf', '(' .. oldest, 'LIMIT', 0, cap)) do
      if not seen[member] then seen[member] = true; n = n + 1 end
    end
    k = k + 1
  end
  counts[#counts + 1] = math.min(n, cap)
  a = a + 2
end
for key in pairs(touched) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', oldest)
  redis.call('EXPIRE', key, window)
end
return counts
"""
"""Per comment: add it to each band, then count the union of the bands' members inside the window.

A near-duplicate may share any one band, not the same one, hence the union;
members are read newest first and capped. Each band touched is trimmed to the window and its expiry renewed
once per call, not once per comment (half the Redis calls on a flood)."""


Entry = tuple[str, int, str]
"""(comment id, site id, text) of one comment being decided."""


def _shingle_hashes(text: str) -> np.ndarray | None:
    """64-bit hashes of the word 2-grams of the normalised text; None when the text is too short."""
    tokens = normalize(text).split()
    if len(tokens) < MIN_TOKENS:
        return None
    shingles = {f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)}
    return np.fromiter(
        (int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest(), "little") for s in shingles),
        dtype=np.uint64, count=len(shingles),
    )


def band_keys(text: str) -> list[str]:
    """The LSH band digests of a text (empty for texts too short to count)."""
    hashes = _shingle_hashes(text)
    if hashes is None:
        return []
    # Multiply-shift hashing: (a*x + b) mod 2^64 wraps in uint64 on purpose.
    with np.errstate(over="ignore"):
        mixed = _A[:, None] * hashes[None, :] + _B[:, None]
    signature = (mixed >> np.uint64(32)).min(axis=1)
    return [hashlib.blake2b(signature[b * ROWS:(b + 1) * ROWS].tobytes(), digest_size=8).hexdigest()
            for b in range(BANDS)]


def raise_score(spam: float, count: int, threshold: int) -> tuple[float, dict[str, Any] | None]:
    """The spam score after a flood of ``count`` near-duplicates, and the reason (None below the threshold).

    At the threshold the remaining distance to 1 is halved (a clean comment
    lands in the review band); at twice the threshold it shrinks by 95 %
    (spam). Between, it grows linearly; the model's own view still counts.
    """
    if threshold <= 0 or count < threshold:
        return spam, None
    weight = min(0.95, 0.5 + 0.45 * (count - threshold) / threshold)
    raised = spam + (1.0 - spam) * weight
    reason = {"code": REASON_CODE, "detail": f"{count} near-identical comments in the flood window",
              "count": count}
    return raised, reason


class FloodDetector:
    """Counts near-duplicates per site in Redis (sliding window); fails open when Redis is down."""

    def __init__(self, redis: Redis, prefix: str, window: int, threshold: int):
        self.redis = redis
        self.prefix = prefix
        self.window = window
        self.threshold = threshold

    @classmethod
    def from_settings(cls, redis: Redis, settings: Any) -> FloodDetector:
        """A detector configured by ``flood.*`` and ``queue.prefix``."""
        return cls(redis, settings["queue.prefix"], settings["flood.window"], settings["flood.threshold"])

    def record(self, items: Sequence[Entry], now: float | None = None) -> list[int]:
        """Add each comment to its bands; per comment, how many comments share a band with it (itself included).

        One Lua call for the whole batch (the union is counted inside Redis, so
        only one number per comment comes back); comments earlier in the batch
        count for later ones. 0 means "too short to count" or "Redis unavailable".
        """
        if self.threshold <= 0 or not items:
            return [0] * len(items)
        moment = time.time() if now is None else now
        keys = [band_keys(text) for _, _, text in items]
        if not any(keys):
            return [0] * len(items)
        flat = [f"{self.prefix}:flood:{site_id}:{band}:{digest}"
                for (_, site_id, _), bands in zip(items, keys, strict=True) for band, digest in enumerate(bands)]
        # Past twice the threshold the score is raised all it will be (raise_score), so reading more
        # members only costs time; a real flood fills every band, which made this the worker's hot spot.
        args: list[Any] = [moment, self.window, min(MAX_COUNT, max(2 * self.threshold, 20))]
        for (comment_id, _, _), bands in zip(items, keys, strict=True):
            args += [comment_id, len(bands)]
        try:
            return [int(c) for c in self._script(self.redis)(keys=flat, args=args)]
        except RedisError as exc:
            log.warning("flood detection skipped, Redis unavailable: %s", exc.__class__.__name__)
            return [0] * len(items)

    def _script(self, redis: Redis) -> Any:
        """The registered RECORD script (redis-py sends EVALSHA and falls back to EVAL once per server)."""
        script = self.__dict__.get("_record")
        if script is None:
            script = self.__dict__["_record"] = redis.register_script(RECORD)
        return script
