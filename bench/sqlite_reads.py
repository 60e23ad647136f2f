"""Writer latency on SQLite while a page-sized read runs in a loop: reads on the writers' lock vs Database.read().

A console page or the stats figures read for tens of milliseconds; if that read took the single write
lock (BEGIN IMMEDIATE, as every session did before Database.read()), each intake insert queued behind
it.  Both variants run in the same process on the same file, one after the other; prints medians.

    .venv/bin/python bench/sqlite_reads.py [--rows 200000] [--writes 400]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from moderation.store.db import Database  # noqa: E402


def _seed(db: Database, rows: int) -> None:
    """One table of `rows` integers and a short text each (what a page query scans)."""
    with db.session() as session:
        session.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, body TEXT)"))
        session.execute(
            text("INSERT INTO t (n, body) VALUES (:n, :b)"),
            [{"n": i % 977, "b": f"komentar nomor {i}"} for i in range(rows)],
        )


def _writes(db: Database, count: int, reading: Callable[[], object] | None) -> tuple[list[float], int]:
    """Insert latencies (ms) of `count` one-row transactions while another thread reads in a loop (if any)."""
    stop, reads = threading.Event(), [0]

    def reader() -> None:
        while not stop.is_set():
            with reading() as session:  # type: ignore[attr-defined]
                session.execute(text("SELECT n, count(*), max(body) FROM t GROUP BY n")).all()
            reads[0] += 1

    thread = threading.Thread(target=reader)
    if reading is not None:
        thread.start()
    times = []
    try:
        for i in range(count):
            started = time.perf_counter()
            with db.session() as session:
                session.execute(text("INSERT INTO t (n, body) VALUES (:n, 'baru')"), {"n": i})
            times.append((time.perf_counter() - started) * 1000)
            time.sleep(0.002)  # an intake stream, not a tight loop
    finally:
        stop.set()
        if reading is not None:
            thread.join()
    return times, reads[0]


def main() -> None:
    """Seed, then time writes beside each kind of reader."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--writes", type=int, default=400)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/bench.db", "NORMAL")
        _seed(db, args.rows)
        with db.read() as session:
            started = time.perf_counter()
            session.execute(text("SELECT n, count(*), max(body) FROM t GROUP BY n")).all()
            print(f"one read alone: {(time.perf_counter() - started) * 1000:.1f} ms")
        readers: list[tuple[str, Callable[[], object] | None]] = [
            ("no reader (baseline)", None), ("reader on the write lock", db.session),
            ("reader on Database.read()", db.read),
        ]  # fmt: skip
        for name, reading in readers:
            times, reads = _writes(db, args.writes, reading)
            q = statistics.quantiles(times, n=100)
            print(f"{name:28s} insert median {statistics.median(times):6.2f} ms  p99 {q[98]:7.2f} ms"
                  f"  ({reads} reads meanwhile)")
        db.dispose()


if __name__ == "__main__":
    main()
