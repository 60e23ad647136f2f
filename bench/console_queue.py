"""Console queue-page server time with 100,000 comments in the database (goal: <= 200 ms per page).

Seeds a fresh database (SQLite under a temp dir, or BENCH_DATABASE_URL for PostgreSQL) with N comments
spread over 30 days (25 % held, 55 % approved, 15 % spam, 5 % rejected; two sites; reader reports on
500 published ones), then times whole requests through the WSGI app in-process (routing, session check,
queries, template rendering: what the server spends, without the network) and prints medians.

Baselines measured in the same run: GET /healthz (the app's fixed per-request cost) and the same deep
page fetched with OFFSET instead of a keyset cursor (why the console never uses OFFSET).

    .venv/bin/python bench/console_queue.py [--comments 100000] [--repeat 25]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402

from moderation.app import create_app  # noqa: E402
from moderation.services import get_services  # noqa: E402
from moderation.store.migrate import upgrade  # noqa: E402
from moderation.store.models import Comment, Flag  # noqa: E402
from moderation.store.review import QueueFilter  # noqa: E402
from moderation.store.sites import create_site  # noqa: E402
from moderation.store.users import create_user, get_account  # noqa: E402

WORDS = ("mantap berita semoga aman daerah harga cabai naik pemerintah warga jalan rusak banjir "
         "slot gacor daftar sekarang bonus wa pinjol cepat cair promo gratis link bio kota").split()
STATUSES = ["held"] * 25 + ["approved"] * 55 + ["spam"] * 15 + ["rejected"] * 5


def _rows(n: int, site_ids: list[int], rng: random.Random) -> list[dict[str, Any]]:
    """N comment rows with time-ordered ids over the last 30 days."""
    now = datetime.now(UTC)
    rows = []
    for i in range(n):
        moment = now - timedelta(seconds=rng.uniform(0, 30 * 86400))
        status = rng.choice(STATUSES)
        spam = round(rng.random(), 4) if rng.random() > 0.05 else None
        rows.append({
            "id": f"{int(moment.timestamp() * 1000):012x}{rng.getrandbits(64):016x}", "site_id": rng.choice(site_ids),
            "external_id": f"e{i}", "content": " ".join(rng.choices(WORDS, k=rng.randint(4, 40))),
            "author_name": f"pembaca{rng.randint(1, 5000)}", "author_email": f"u{rng.randint(1, 20000)}@example.id",
            "author_ip": f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
            "post_id": f"p{rng.randint(1, 2000)}", "post_title": "Berita", "lang": rng.choice(["id", "id", "en"]),
            "received_at": moment, "status": status, "spam_score": spam,
            "abusive_score": round(rng.random() / 3, 4), "model_version": "bench-model",
            "reasons": [{"code": "policy.uncertain" if status == "held" else "policy.approve_below", "detail": "x"},
                        {"code": "model.spam", "detail": "'slot gacor' +1.2", "feature": "slot gacor", "weight": 1.2}],
            "decided_by": "model", "decided_at": moment,
        })
    return rows


def seed(app: Any, n: int) -> tuple[int, str]:
    """Fill the database; returns (moderator id, a held comment id deep in the queue)."""
    services = get_services(app)
    rng = random.Random(4)
    with services.db.session() as session:
        sites = [create_site(session, "news").id, create_site(session, "sport").id]
        create_user(session, "bench", "moderator", "benchmark password")
    rows = _rows(n, sites, rng)
    for start in range(0, n, 5000):
        with services.db.session() as session:
            session.execute(insert(Comment), rows[start:start + 5000])
    published = [r for r in rows if r["status"] == "approved"][:500]
    with services.db.session() as session:
        session.execute(insert(Flag), [{"comment_id": r["id"], "site_id": r["site_id"], "reason": "spam",
                                        "reporter": f"r{k}", "created_at": datetime.now(UTC)}
                                       for i, r in enumerate(published) for k in range(1 + i % 3)])
        if services.db.engine.dialect.name == "sqlite":
            session.execute(select(1))  # ANALYZE below needs no open write
    with services.db.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    held = sorted(r["id"] for r in rows if r["status"] == "held")
    with services.db.session() as session:
        uid = session.scalar(select(Comment.id).where(Comment.id == held[len(held) // 2]))
        account = get_account(session, 1)
    assert account is not None and uid
    return account.id, uid


def _median_ms(client: Any, url: str, repeat: int) -> tuple[float, int]:
    """Median wall time of GET url in ms (after one warm-up), and the status code."""
    status = client.get(url).status_code
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        resp = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        status = resp.status_code
    return statistics.median(times), status


def _deep_cursor(client: Any, pages: int) -> str:
    """The cursor of page ``pages`` of the held queue (walked through the API)."""
    cursor = ""
    for _ in range(pages):
        cursor = client.get("/api/v1/review/queue?queue=held&limit=50" + (f"&cursor={cursor}" if cursor else "")
                            ).get_json()["next_cursor"]
    return cursor


def _offset_ms(app: Any, offset: int, repeat: int) -> float:
    """Baseline: the same held page fetched with OFFSET (what keyset pagination avoids)."""
    from moderation.store.review import _base

    services = get_services(app)
    stmt, _ = _base(QueueFilter(queue="held"))
    times = []
    for _ in range(repeat + 1):
        started = time.perf_counter()
        with services.db.session() as session:
            list(session.execute(stmt.order_by(Comment.id).offset(offset).limit(51)))
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times[1:])


def main() -> None:
    """Seed, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=25)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-console-"))
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp / 'bench.db'}"
    upgrade(url)
    app = create_app({"data_dir": str(tmp), "database_url": url, "redis_url": "redis://127.0.0.1:1/0",
                      "database.sqlite_synchronous": "NORMAL", "console.secure_cookies": "false"})
    started = time.perf_counter()
    uid, deep_id = seed(app, args.comments)
    print(f"seeded {args.comments} comments into {url.split('://')[0]} in {time.perf_counter() - started:.1f} s")
    client = app.test_client()
    with app.app_context(), get_services(app).db.session() as session:
        account = get_account(session, uid)
    with client.session_transaction() as sess:
        sess["uid"], sess["fp"] = uid, account.fingerprint  # type: ignore[union-attr]
    cursor = _deep_cursor(client, 200)
    cases = [
        ("baseline: GET /healthz", "/healthz"),
        ("held queue page 1 (default: oldest first)", "/"),
        ("held queue page 201 (keyset cursor)", f"/?cursor={cursor}"),
        ("held, sorted by score", "/?sort=score"),
        ("held, site=news, lang=id", "/?site=news&lang=id"),
        ("held, reason=policy.uncertain", "/?reason=policy.uncertain"),
        ("held, search text 'pinjol cepat'", "/?q=pinjol+cepat"),
        ("held, search text matching nothing (full scan)", "/?q=tidak+ada+di+mana"),
        ("held, search IP", "/?q=10.1.2.3"),
        ("spam queue, newest first", "/?queue=spam"),
        ("reported queue (most reported first)", "/?queue=reported"),
        ("JSON API: held page 1", "/api/v1/review/queue?queue=held"),
        ("JSON API: one comment's detail", f"/api/v1/review/comments/{deep_id}"),
        ("stats page figures (JSON)", "/api/v1/review/stats?days=30"),
    ]
    print(f"median server time over {args.repeat} requests each (in-process WSGI, no network):")
    for label, path in cases:
        ms, status = _median_ms(client, path, args.repeat)
        print(f"  {label:<48} {ms:8.1f} ms   (HTTP {status})")
    print(f"  {'baseline: held page 201 with OFFSET 10000':<48} {_offset_ms(app, 10_000, args.repeat):8.1f} ms"
          "   (query only)")
    get_services(app).db.dispose()


if __name__ == "__main__":
    main()
