"""What reading authors' standing costs one scoring batch (prints figures, asserts nothing).

    .venv/bin/python bench/trust_standing.py [--comments 200000] [--batch 256] [--runs 7]

One site with --comments decided comments from 20,000 authors (half of them with a user id) in a fresh
SQLite file; then the decider's standing read (``moderation.store.trust.standings``) for one batch of --batch
authors, keyed by user id (indexed) and by e-mail (case-insensitive: the site's rows are scanned), medians of
--runs. Baseline from the same run: the lists read every batch already does (``store.lists.entries_for``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    """Fill the database, then time the reads."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--comments", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    from sqlalchemy import insert

    from moderation.store.comments import new_comment_id
    from moderation.store.db import Database
    from moderation.store.lists import entries_for
    from moderation.store.migrate import upgrade
    from moderation.store.models import Comment
    from moderation.store.sites import create_site
    from moderation.store.trust import standings

    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='trust-bench-')) / 'bench.db'}"
    upgrade(url)
    db = Database(url, "NORMAL")
    now = datetime.now(UTC)
    with db.session() as session:
        site_id = create_site(session, "bench").id
    statuses = ("approved",) * 8 + ("held", "spam")
    for start in range(0, args.comments, 10_000):
        rows = [{"id": new_comment_id() + f"{i:04x}"[-4:], "site_id": site_id, "external_id": str(i),
                 "content": "komentar", "author_email": f"Reader{i % 20_000}@example.id",
                 "author_user_id": str(i % 20_000) if i % 2 == 0 else None,
                 "received_at": now - timedelta(minutes=i % 100_000),
                 "status": statuses[i % len(statuses)]} for i in range(start, min(start + 10_000, args.comments))]
        with db.session() as session:
            session.execute(insert(Comment), [{**r, "id": r["id"][:32]} for r in rows])
    # Even authors are logged-in users (the site sends their id), odd ones are known by e-mail only.
    keys = {"user id": [(site_id, f"user:{i * 14 % 20_000}") for i in range(args.batch)],
            "e-mail": [(site_id, f"email:reader{(i * 14 + 1) % 20_000}@example.id") for i in range(args.batch)]}

    def timed(read: object) -> float:
        """Median milliseconds of one read."""
        samples = []
        for _ in range(args.runs):
            with db.read() as session:
                started = time.perf_counter()
                read(session)  # type: ignore[operator]
                samples.append((time.perf_counter() - started) * 1000)
        return statistics.median(samples)

    print(f"{args.comments} decided comments on one site, {args.batch} authors per batch, median of {args.runs}")
    print(f"  baseline: the lists read of every batch     {timed(lambda s: entries_for(s, [site_id])):8.1f} ms")
    for name, pairs in keys.items():
        found = None

        def read(session: object, pairs: list[tuple[int, str]] = pairs) -> None:
            nonlocal found
            found = standings(session, pairs, 90)  # type: ignore[arg-type]

        ms = timed(read)
        print(f"  standing by {name:<8} ({len(found or {})} authors found)   {ms:8.1f} ms")


if __name__ == "__main__":
    main()
