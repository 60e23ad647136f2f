"""Flood detection on real Redis: near-duplicates counted per site in a sliding window raise the spam score."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from redis import Redis
from sqlalchemy import select

from moderation.decide.flood import REASON_CODE, FloodDetector, band_keys, raise_score
from moderation.services import Services
from moderation.store.models import Comment
from tests.support import Site, signed_request

CAMPAIGN = "Warga {n} jangan percaya berita ini, semua bohong, sebarkan ke grup WA keluarga sekarang juga"


def _detector(redis: Redis, threshold: int = 5, window: int = 600) -> FloodDetector:
    """A detector under a fresh key prefix."""
    return FloodDetector(redis, f"t{uuid.uuid4().hex[:8]}", window, threshold)


def test_near_duplicates_share_bands_and_different_texts_do_not() -> None:
    """A campaign that changes one word keeps most bands; an unrelated comment shares none; short texts have none."""
    a, b = band_keys(CAMPAIGN.format(n="Makassar")), band_keys(CAMPAIGN.format(n="Gowa"))
    other = band_keys("Pemerintah daerah harus segera memperbaiki jalan rusak di kecamatan kami yang sudah lama")
    assert len(a) == 16 and sum(x == y for x, y in zip(a, b, strict=True)) >= 1
    assert not set(a) & set(other)
    assert band_keys("Mantap min, setuju") == []


def test_counts_in_a_sliding_window_per_site_without_double_counting(redis_client: Redis) -> None:
    """Counts grow with near-duplicates, a retried comment id counts once, other sites and old ones are apart."""
    flood = _detector(redis_client, window=600)
    now = time.time()
    counts = flood.record([(f"c{i}", 1, CAMPAIGN.format(n=n)) for i, n in enumerate(["A", "B", "C", "D"])], now=now)
    assert counts == [1, 2, 3, 4]
    assert flood.record([("c3", 1, CAMPAIGN.format(n="D"))], now=now) == [4]  # the same comment, retried
    assert flood.record([("x1", 2, CAMPAIGN.format(n="E"))], now=now) == [1]  # site 2 sees only its own
    assert flood.record([("late", 1, CAMPAIGN.format(n="F"))], now=now + 601) == [1]  # the window moved on
    assert flood.record([("short", 1, "Setuju")], now=now) == [0]


def test_redis_down_means_no_flood_signal(tmp_path: Any) -> None:
    """Flood detection fails open: scoring goes on without it."""
    dead = Redis.from_url(f"unix://{tmp_path}/none.sock", socket_connect_timeout=0.2)
    assert FloodDetector(dead, "x", 600, 5).record([("c", 1, CAMPAIGN.format(n="A"))]) == [0]


def test_raise_score_grows_with_the_count() -> None:
    """Below the threshold nothing moves; at it, half the way to 1; at twice it, 95 %."""
    assert raise_score(0.1, 4, 5) == (0.1, None)
    at, reason = raise_score(0.1, 5, 5)
    assert abs(at - 0.55) < 1e-9 and reason is not None and reason["code"] == REASON_CODE and reason["count"] == 5
    assert abs(raise_score(0.1, 10, 5)[0] - 0.955) < 1e-9
    assert raise_score(0.1, 50, 0) == (0.1, None)


def test_a_flood_through_intake_and_workers_is_held_then_spam(client: Any, site: Site, services: Services,
                                                              run_worker: Callable[[], bool]) -> None:
    """Twelve near-identical, individually clean comments: the first four approved, then held, then spam."""
    for i in range(12):
        signed_request(client, site, "POST", "/api/v1/comments", {"id": f"f{i}", "content": CAMPAIGN.format(n=i)})
        run_worker()  # one at a time, so the order of arrival is the order of counting
    with services.db.session() as session:
        rows = list(session.scalars(select(Comment).order_by(Comment.external_id.cast(Comment.external_id.type))))
    by_ext = {r.external_id: r for r in rows}
    first, fifth, last = by_ext["f0"], by_ext["f4"], by_ext["f11"]
    assert first.status == "approved" and not any(r["code"] == REASON_CODE for r in first.reasons)
    flood_reason = next(r for r in fifth.reasons if r["code"] == REASON_CODE)
    assert flood_reason["count"] >= 5 and fifth.status in ("held", "spam")
    assert last.status == "spam" and fifth.spam_score > first.spam_score


def test_akismet_check_sees_the_same_flood(client: Any, site: Site) -> None:
    """comment-check uses the same detector: the campaign turns from false to true."""
    answers = [client.post("/1.1/comment-check", data={"api_key": site.api_key, "user_ip": f"198.51.100.{i}",
                                                       "comment_content": CAMPAIGN.format(n=i)}).get_data(as_text=True)
               for i in range(8)]
    assert answers[0] == "false" and answers[-1] == "true"
