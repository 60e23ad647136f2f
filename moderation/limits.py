"""Rate limits in Redis: per site, per commenter IP, and per caller address for failed API keys.

GCRA (the generic cell rate algorithm) in one Lua script: each key holds one
number, the "theoretical arrival time", so a limit of N per window allows a
burst of N and then one every window/N seconds, and the exact wait (for
``Retry-After``) falls out of the same arithmetic. We use the service's own
Redis client (unix sockets, Sentinel, timeouts already configured) rather than
flask-limiter's separate storage layer, and fail open: when Redis is down a
comment must still be accepted (the database, not Redis, is the source of truth).
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass

from redis import Redis
from redis.exceptions import RedisError

from moderation.services import Services

log = logging.getLogger(__name__)

WINDOW_SECONDS = 60
"""Every limit in the settings is "per minute"."""

_GCRA = """
local now = tonumber(ARGV[1])
local tats = {}
for i, key in ipairs(KEYS) do
  local interval, burst = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
  local tat = tonumber(redis.call('GET', key) or '0')
  if tat < now then tat = now end
  local allow_at = tat + interval - burst
  if allow_at > now then
    return {0, allow_at - now, i}
  end
  tats[i] = tat + interval
end
for i, key in ipairs(KEYS) do
  redis.call('SET', key, tats[i], 'PX', math.ceil(tats[i] - now) + 1)
end
return {1, 0, math.floor((tonumber(ARGV[3]) - (tats[1] - now)) / tonumber(ARGV[2]))}
"""
"""Consume one request from every limit in KEYS if all allow it (all or none, so a refused commenter does not
use up the site's allowance); returns {1, 0, remaining of the first} or {0, wait_ms, index of the refusing key}.
ARGV: now, then (interval, burst) per key. Times are in milliseconds."""

_PEEK = """
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local now = tonumber(ARGV[1])
if tat < now then tat = now end
return math.max(0, tat + tonumber(ARGV[2]) - tonumber(ARGV[3]) - now)
"""
"""How many milliseconds until one more request would be allowed (0: allowed now); consumes nothing."""


@dataclass(frozen=True)
class RateDecision:
    """Whether a request may pass, and if not, how long to wait."""

    allowed: bool
    limit: int
    remaining: int = 0
    retry_after: int = 0

    def headers(self) -> dict[str, str]:
        """The HTTP headers that tell the caller when to come back."""
        out = {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(self.remaining)}
        if not self.allowed:
            out["Retry-After"] = str(self.retry_after)
        return out


class RateLimiter:
    """GCRA limits keyed by (scope, identity) under the service's Redis prefix; fails open."""

    def __init__(self, redis: Redis, prefix: str, window: int = WINDOW_SECONDS):
        self.redis = redis
        self.prefix = prefix
        self.window = window
        self._hit = redis.register_script(_GCRA)
        self._peek = redis.register_script(_PEEK)

    def _key(self, scope: str, ident: str) -> str:
        """The Redis key of one limit (the identity may be attacker-chosen: it is only ever a key suffix)."""
        return f"{self.prefix}:rl:{scope}:{ident}"

    def _params(self, limit: int) -> tuple[float, int]:
        """(interval ms, burst ms) for a limit of ``limit`` per window."""
        return self.window * 1000 / limit, self.window * 1000

    def hit(self, scope: str, ident: str, limit: int, now: float | None = None) -> RateDecision:
        """Count one request; refused (with the wait in whole seconds) when over ``limit`` per window."""
        return self.hit_all([(scope, ident, limit)], now)

    def hit_all(self, limits: list[tuple[str, str, int]], now: float | None = None) -> RateDecision:
        """Count one request against every (scope, identity, limit) in one round trip; the first refusal wins.

        The decision of an allowed request describes the first limit (its remaining allowance).
        """
        active = [(scope, ident, limit) for scope, ident, limit in limits if limit > 0]
        if not active:
            return RateDecision(True, 0, 0)
        args: list[float] = [int((time.time() if now is None else now) * 1000)]
        for _, _, limit in active:
            args += self._params(limit)
        try:
            allowed, wait_ms, detail = self._hit(keys=[self._key(s, i) for s, i, _ in active], args=args)
        except RedisError as exc:
            log.warning("rate limiter unavailable, letting the request through: %s", exc.__class__.__name__)
            return RateDecision(True, active[0][2], active[0][2])
        if allowed:
            return RateDecision(True, active[0][2], max(0, int(detail)))
        return RateDecision(False, active[int(detail) - 1][2], 0, max(1, math.ceil(float(wait_ms) / 1000)))

    def hit_each(self, scope: str, idents: list[str], limit: int) -> list[RateDecision]:
        """Count one request for each identity (repeats count once each), pipelined in one round trip."""
        if limit <= 0 or not idents:
            return [RateDecision(True, 0, 0)] * len(idents)
        now_ms = int(time.time() * 1000)
        pipe = self.redis.pipeline(transaction=False)
        for ident in idents:
            self._hit(keys=[self._key(scope, ident)], args=[now_ms, *self._params(limit)], client=pipe)
        try:
            replies = pipe.execute()
        except RedisError as exc:
            log.warning("rate limiter unavailable, letting the requests through: %s", exc.__class__.__name__)
            return [RateDecision(True, limit, limit)] * len(idents)
        return [RateDecision(True, limit, max(0, int(detail))) if allowed
                else RateDecision(False, limit, 0, max(1, math.ceil(float(wait_ms) / 1000)))
                for allowed, wait_ms, detail in replies]

    def blocked_for(self, scope: str, ident: str, limit: int, now: float | None = None) -> int:
        """Seconds until this identity may try again (0 when it may now); consumes nothing, fails open."""
        if limit <= 0:
            return 0
        now_ms = int((time.time() if now is None else now) * 1000)
        interval, burst = self._params(limit)
        try:
            wait_ms = self._peek(keys=[self._key(scope, ident)], args=[now_ms, interval, burst])
        except RedisError:
            return 0
        return math.ceil(float(wait_ms) / 1000)


def check_commenters(services: Services, site_id: int, ips: list[str]) -> list[RateDecision]:
    """The per-(site, commenter IP) limit for each comment of a batch, in one round trip."""
    limit = services.settings["intake.ip_rate_limit_per_minute"]
    return limiter_for(services).hit_each("ip", [f"{site_id}:{ip}" for ip in ips], limit)


def limiter_for(services: Services) -> RateLimiter:
    """The process's limiter for these services (made on first use, never at import)."""
    limiter = services.__dict__.get("_rate_limiter")
    if limiter is None:
        limiter = RateLimiter(services.redis, services.settings["queue.prefix"])
        services.__dict__["_rate_limiter"] = limiter
    return limiter  # type: ignore[no-any-return]


def commenter_ip(body: bytes) -> str | None:
    """``author.ip`` of a single-comment intake body, or None (a malformed body is the handler's to refuse)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    author = data.get("author") if isinstance(data, dict) else None
    ip = author.get("ip") if isinstance(author, dict) else None
    return ip.strip()[:64] if isinstance(ip, str) and ip.strip() else None


def check_site_request(services: Services, site_id: int, commenter: str | None = None) -> RateDecision:
    """The per-site and per-(site, commenter IP) limits in one Redis round trip; the first refusal wins."""
    settings = services.settings
    checks = [("site", str(site_id), settings["intake.rate_limit_per_minute"])]
    if commenter:
        # Keyed by site too: one site's flooder must not get another site's readers refused.
        checks.append(("ip", f"{site_id}:{commenter}", settings["intake.ip_rate_limit_per_minute"]))
    return limiter_for(services).hit_all(checks)
