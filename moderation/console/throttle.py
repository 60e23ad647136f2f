"""Failed console logins, slowed per account and per caller address (the real client behind trusted proxies).

Per account, whatever the address: past ``console.login_max_failures`` failures in ``console.login_window``
each attempt on that name waits a back-off that doubles per failure, capped at ACCOUNT_BACKOFF_CAP seconds.
Spraying one name from many addresses is slowed, and nobody can lock a colleague out for longer than the cap.
Per address, whatever the name: ADDRESS_FACTOR times as many failures in the window lock that address for
the rest of the window (only the caller's own address). Names are user input, so keys hold digests.
No Redis, no login: the counters fail closed.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time

from redis.exceptions import RedisError

from moderation.services import Services

log = logging.getLogger(__name__)

ACCOUNT_BACKOFF_CAP = 60
"""Longest wait in seconds one account's back-off imposes between attempts."""

ADDRESS_FACTOR = 4
"""An address may fail this many times console.login_max_failures (over any names) before it is locked."""

CLOSED_WAIT = 60
"""Seconds a caller is told to wait when Redis cannot count attempts."""


def _key(services: Services, scope: str, ident: str) -> str:
    """Redis key of one counter (hashed: names and addresses are caller input)."""
    digest = hashlib.sha256(ident.lower().encode()).hexdigest()[:32]
    return f"{services.settings['queue.prefix']}:login-fail:{scope}:{digest}"


def login_blocked(services: Services, name: str, ip: str) -> int:
    """Seconds until this caller may try this name again (0: go ahead)."""
    limit = services.settings["console.login_max_failures"]
    try:
        redis = services.redis
        address = _key(services, "addr", ip)
        if int(redis.get(address) or 0) >= limit * ADDRESS_FACTOR:
            return max(int(redis.ttl(address)), 1)
        failures, last = redis.mget(_key(services, "acct", name), _key(services, "acct-last", name))
    except RedisError as exc:
        log.warning("login refused, Redis unavailable for the attempt counters: %s", exc.__class__.__name__)
        return CLOSED_WAIT
    over = int(failures or 0) - limit
    if over < 0:
        return 0
    wait = min(2 ** over, ACCOUNT_BACKOFF_CAP) - (time.time() - float(last or 0))
    return math.ceil(wait) if wait > 0 else 0


def login_failed(services: Services, name: str, ip: str) -> None:
    """Count a failed login for the account and for the address (each window starts at its first failure)."""
    window = services.settings["console.login_window"]
    try:
        pipe = services.redis.pipeline()
        for scope, ident in (("acct", name), ("addr", ip)):
            key = _key(services, scope, ident)
            pipe.set(key, 0, nx=True, ex=window)  # INCR keeps this TTL
            pipe.incr(key)
        pipe.set(_key(services, "acct-last", name), time.time(), ex=window)
        pipe.execute()
    except RedisError:
        pass


def login_succeeded(services: Services, name: str, ip: str) -> None:
    """Forget the account's failures after a good login (the address keeps its count for the window)."""
    try:
        services.redis.delete(_key(services, "acct", name), _key(services, "acct-last", name))
    except RedisError:
        pass
