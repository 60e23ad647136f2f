"""Rate limits on real Redis: per site, per commenter IP, 429 with Retry-After, fail-open when Redis is down."""

from __future__ import annotations

import time
from typing import Any

from redis import Redis
from sqlalchemy import func, select

from moderation.app import create_app
from moderation.limits import RateLimiter, commenter_ip
from moderation.services import Services, get_services
from moderation.store.models import Comment
from moderation.store.sites import create_site
from tests.support import Site, signed_request


def _comment(i: int, ip: str | None = None) -> dict[str, Any]:
    """A small intake item, optionally from a commenter IP."""
    return {"id": f"c{i}", "content": f"komentar nomor {i}", **({"author": {"ip": ip}} if ip else {})}


def _stored(services: Services) -> int:
    """Comments in the database."""
    with services.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(Comment)) or 0)


def test_gcra_allows_the_burst_then_refuses_with_the_exact_wait(redis_client: Redis) -> None:
    """N per minute: N at once pass, the next waits 60/N seconds, and passes once that time has gone."""
    limiter = RateLimiter(redis_client, f"t{time.time_ns()}")
    now = 1_000_000.0
    assert all(limiter.hit("site", "1", 6, now=now).allowed for _ in range(6))
    refused = limiter.hit("site", "1", 6, now=now)
    assert not refused.allowed and refused.retry_after == 10 and refused.headers()["Retry-After"] == "10"
    assert limiter.blocked_for("site", "1", 6, now=now) == 10
    assert not limiter.hit("site", "1", 6, now=now + 9.9).allowed
    assert limiter.hit("site", "1", 6, now=now + 10.0).allowed
    # Another identity has its own budget.
    assert limiter.hit("site", "2", 6, now=now).allowed


def test_several_limits_in_one_call_are_all_or_none(redis_client: Redis) -> None:
    """hit_all counts against every limit or none: a refused commenter IP does not use up the site's allowance."""
    limiter = RateLimiter(redis_client, f"t{time.time_ns()}")
    now = 1_000_000.0
    both = [("site", "1", 10), ("ip", "1:203.0.113.9", 2)]
    assert [limiter.hit_all(both, now=now).allowed for _ in range(3)] == [True, True, False]
    refused = limiter.hit_all(both, now=now)
    assert refused.limit == 2 and refused.retry_after == 30  # the IP's limit refused, with the IP's wait
    allowed = limiter.hit("site", "1", 10, now=now)
    assert allowed.allowed and allowed.remaining == 7  # 10 - 2 passed - this one; the refusals took nothing


def test_limiter_fails_open_without_redis(tmp_path: Any) -> None:
    """An unreachable Redis lets requests through instead of refusing everyone."""
    dead = Redis.from_url(f"unix://{tmp_path}/none.sock", socket_connect_timeout=0.2)
    limiter = RateLimiter(dead, "x")
    assert limiter.hit("site", "1", 1).allowed and limiter.hit("site", "1", 1).allowed
    assert limiter.blocked_for("site", "1", 1) == 0


def test_commenter_ip_is_read_leniently() -> None:
    """Only a string author.ip counts; malformed bodies are left to the handler to refuse."""
    assert commenter_ip(b'{"author": {"ip": " 203.0.113.7 "}}') == "203.0.113.7"
    assert commenter_ip(b"{not json") is None and commenter_ip(b"[1]") is None
    assert commenter_ip(b'{"author": {"ip": 5}}') is None


def test_per_commenter_ip_limit_is_429_and_per_site(config: dict[str, Any]) -> None:
    """One IP over its limit gets 429 + Retry-After; another IP, and the same IP on another site, still pass."""
    app = create_app({**config, "intake.ip_rate_limit_per_minute": "3"})
    client, services = app.test_client(), get_services(app)
    with services.db.session() as session:
        raw = [create_site(session, slug) for slug in ("a-news", "b-news")]
        a, b = (Site(s.id, s.slug, s.secret, s.api_key) for s in raw)
    codes = [signed_request(client, a, "POST", "/api/v1/comments", _comment(i, "203.0.113.7")).status_code
             for i in range(4)]
    assert codes == [202, 202, 202, 429]
    refused = signed_request(client, a, "POST", "/api/v1/comments", _comment(9, "203.0.113.7"))
    assert int(refused.headers["Retry-After"]) >= 1 and refused.get_json()["error"]["code"] == "rate_limited"
    assert signed_request(client, a, "POST", "/api/v1/comments", _comment(10, "198.51.100.1")).status_code == 202
    assert signed_request(client, b, "POST", "/api/v1/comments", _comment(11, "203.0.113.7")).status_code == 202
    assert _stored(services) == 5
    services.db.dispose()


def test_batch_items_meet_the_per_commenter_ip_limit(config: dict[str, Any]) -> None:
    """A batch is no way around the IP limit: items over it are refused in their slots (429); all over -> 429."""
    app = create_app({**config, "intake.ip_rate_limit_per_minute": "2"})
    client, services = app.test_client(), get_services(app)
    with services.db.session() as session:
        raw = create_site(session, "batch-news")
        site = Site(raw.id, raw.slug, raw.secret, raw.api_key)
    flood = [_comment(i, "203.0.113.7") for i in range(3)] + [_comment(3, "198.51.100.1"), _comment(4)]
    mixed = signed_request(client, site, "POST", "/api/v1/comments/batch", {"comments": flood})
    assert mixed.status_code == 207
    assert [r["code"] for r in mixed.get_json()["results"]] == [202, 202, 429, 202, 202]
    assert mixed.get_json()["results"][2]["error"]["code"] == "rate_limited"
    again = signed_request(client, site, "POST", "/api/v1/comments/batch",
                           {"comments": [_comment(i, "203.0.113.7") for i in range(10, 12)]})
    assert again.status_code == 429 and int(again.headers["Retry-After"]) >= 1
    assert {r["code"] for r in again.get_json()["results"]} == {429}
    assert _stored(services) == 4
    services.db.dispose()


def test_akismet_check_is_limited_per_commenter_ip(config: dict[str, Any]) -> None:
    """comment-check obeys the same per-IP limit, in Akismet's plain-text style."""
    app = create_app({**config, "intake.ip_rate_limit_per_minute": "2"})
    client, services = app.test_client(), get_services(app)
    with services.db.session() as session:
        key = create_site(session, "ak-news").api_key
    form = {"api_key": key, "user_ip": "203.0.113.7", "comment_content": "Setuju sekali dengan berita ini"}
    codes = [client.post("/1.1/comment-check", data=form).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert _stored(services) == 2
    services.db.dispose()


def test_guessing_api_keys_is_braked(client: Any, site: Site) -> None:
    """After 30 invalid keys from one address a minute, even a valid key must wait (429), so keys cannot be guessed."""
    answers = [client.post("/1.1/verify-key", data={"key": f"guess{i}"}).get_data(as_text=True) for i in range(30)]
    assert set(answers) == {"invalid"}
    resp = client.post("/1.1/verify-key", data={"key": site.api_key})
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) >= 1


def test_site_limit_still_429_with_redis_up_and_202_with_redis_down(config: dict[str, Any], site: Site,
                                                                    tmp_path: Any) -> None:
    """The per-site limit refuses with Retry-After; with Redis gone the same request is accepted (fail-open)."""
    app = create_app({**config, "intake.rate_limit_per_minute": "1"})
    client = app.test_client()
    assert signed_request(client, site, "POST", "/api/v1/comments", _comment(1)).status_code == 202
    refused = signed_request(client, site, "POST", "/api/v1/comments", _comment(2))
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
    down = create_app({**config, "intake.rate_limit_per_minute": "1",
                       "redis_url": f"unix://{tmp_path}/nothing.sock"})
    assert signed_request(down.test_client(), site, "POST", "/api/v1/comments", _comment(3)).status_code == 202
    for each in (app, down):
        get_services(each).db.dispose()
