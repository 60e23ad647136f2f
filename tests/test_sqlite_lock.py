"""SQLite writers queue on a blocking flock instead of sleeping in busy retries (threads and processes)."""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from moderation.store.db import Database, make_engine, sqlite_file

WRITES = 40


def _engine_without_busy_retries(url: str) -> object:
    """Our engine, but with SQLite's busy handler off: any writer that is not queued fails at once."""
    engine = make_engine(url, "NORMAL")
    event.listen(engine, "connect", lambda dbapi, _record: dbapi.execute("PRAGMA busy_timeout = 0"))
    return engine


def _write(url: str, key: int, start: Any = None) -> None:
    """WRITES short transactions, each one insert (what intake and the workers do all day)."""
    engine = _engine_without_busy_retries(url)
    if start is not None:
        start.wait(60)  # every process begins together, so their transactions really overlap
    for n in range(WRITES):
        with engine.begin() as conn:  # type: ignore[attr-defined]
            conn.execute(text("INSERT INTO t (n) VALUES (:n)"), {"n": key * 1000 + n})
    engine.dispose()  # type: ignore[attr-defined]


def _count(url: str) -> int:
    """Rows written."""
    engine = make_engine(url, "NORMAL")
    with engine.begin() as conn:
        rows = int(conn.execute(text("SELECT count(*) FROM t")).scalar_one())
    engine.dispose()
    return rows


@pytest.fixture
def url(tmp_path: Path) -> str:
    """A fresh SQLite file with one table."""
    url = f"sqlite:///{tmp_path / 'queue.db'}"
    engine = make_engine(url, "NORMAL")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    engine.dispose()
    return url


def test_threads_write_in_turn_without_busy_errors(url: str) -> None:
    """Eight threads of one process, no busy retries allowed: every transaction waits its turn and commits."""
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: _write(url, k), range(8)))
    assert _count(url) == 8 * WRITES


def test_processes_write_in_turn_without_busy_errors(url: str) -> None:
    """Four processes (like gunicorn's and the workers'): the lock file queues them too."""
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(4)
    procs = [context.Process(target=_write, args=(url, k, start)) for k in range(4)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
    assert [p.exitcode for p in procs] == [0] * 4
    assert _count(url) == 4 * WRITES


def test_a_failed_transaction_lets_the_next_writer_in(url: str) -> None:
    """A rollback (an error inside the transaction) releases the queue; the next writer is not stuck."""
    engine = _engine_without_busy_retries(url)
    with pytest.raises(RuntimeError), engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(text("INSERT INTO t (n) VALUES (1)"))
        raise RuntimeError("handler failed")
    with ThreadPoolExecutor(1) as pool:  # another thread, so a lock still held would block it
        pool.submit(_write, url, 7).result(timeout=30)
    assert _count(url) == WRITES
    engine.dispose()  # type: ignore[attr-defined]


def test_reads_neither_wait_for_nor_hold_up_a_writer(url: str) -> None:
    """Database.read() sees the last committed snapshot while a writer holds the lock, and refuses writes."""
    db = Database(url, "NORMAL")
    inside, release = threading.Event(), threading.Event()

    def writer() -> None:
        with db.session() as session:
            session.execute(text("INSERT INTO t (n) VALUES (1)"))
            inside.set()
            release.wait(30)  # the write lock stays held until the reader has read

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert inside.wait(30)
        read_done = threading.Event()

        def reader() -> None:
            with db.read() as session:
                assert session.execute(text("SELECT count(*) FROM t")).scalar_one() == 0  # uncommitted: unseen
            read_done.set()

        threading.Thread(target=reader, daemon=True).start()
        # A reader queued on the write lock would wait for `release` forever; this one finishes.
        assert read_done.wait(30)
    finally:
        release.set()
        thread.join(30)
    with db.read() as session:
        assert session.execute(text("SELECT count(*) FROM t")).scalar_one() == 1
    with pytest.raises(OperationalError, match="readonly"), db.read() as session:
        session.execute(text("INSERT INTO t (n) VALUES (2)"))
    db.dispose()


def test_only_a_sqlite_file_gets_the_writers_queue_and_a_reader_engine(tmp_path: Path, monkeypatch: Any) -> None:
    """sqlite_file names the file of a file URL only; an in-memory database gets neither lock file nor reader."""
    assert sqlite_file(f"sqlite:///{tmp_path / 'a.db'}") == str(tmp_path / "a.db")
    assert sqlite_file("sqlite://") is None and sqlite_file("sqlite:///:memory:") is None
    assert sqlite_file("postgresql://u@h/db") is None
    monkeypatch.chdir(tmp_path)
    db = Database("sqlite://", "NORMAL")
    with db.session() as session:
        assert session.execute(text("SELECT 1")).scalar_one() == 1
    assert db.read_engine is None and list(tmp_path.iterdir()) == []  # no "sqlite:" folder, no lock file
    db.dispose()
