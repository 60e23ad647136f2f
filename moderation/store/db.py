"""Engine and session factory: SQLite (WAL) by default, PostgreSQL through the URL.

Nothing connects at import time; :class:`Database` is built by the app factory
or a worker process from its settings.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from moderation.store import sqlite_lock

SQLITE_BUSY_TIMEOUT_MS = 10_000
"""How long a SQLite writer waits for the lock before failing (several processes share one file)."""


class NulCharacter(ValueError):
    """A statement was about to send text holding U+0000, which PostgreSQL's text types cannot hold.

    Every entry point refuses such input with a 4xx first; this is the backstop, raised before the
    statement runs on either backend, so a missed entry point fails the same way on SQLite and PostgreSQL
    (and the handlers can still answer 4xx) instead of a psycopg DataError on PostgreSQL alone.
    """


def _holds_nul(parameters: Any) -> bool:
    """Whether any text among a statement's parameters (one set or executemany's list) holds U+0000."""
    values = parameters.values() if isinstance(parameters, dict) else parameters
    for value in values:
        if isinstance(value, str):
            if "\x00" in value:
                return True
        elif isinstance(value, dict | list | tuple) and _holds_nul(value):
            return True
    return False


def _refuse_nul(_conn: Any, _cursor: Any, _statement: str, parameters: Any, _context: Any, _many: bool) -> None:
    """before_cursor_execute hook: refuse a statement that would send a NUL character."""
    if isinstance(parameters, dict | list | tuple) and _holds_nul(parameters):
        raise NulCharacter("text must not contain the NUL character (U+0000)")


def _sqlite_pragmas(synchronous: str, read_only: bool = False) -> Any:
    """A connect hook that sets WAL mode and durability (and, for readers, query_only) on a SQLite connection."""

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        if read_only:
            cursor.execute("PRAGMA query_only=ON")  # a write slipped into a read path fails loudly
        cursor.close()

    return on_connect


def make_engine(url: str, sqlite_synchronous: str = "FULL", read_only: bool = False) -> Engine:
    """Create an engine; for SQLite make the folder and set the pragmas (``read_only``: a SQLite reader)."""
    if url.startswith("sqlite"):
        path = sqlite_file(url)
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        if sqlite_synchronous.upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            raise ValueError(f"bad sqlite synchronous mode {sqlite_synchronous!r}")
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas(sqlite_synchronous.upper(), read_only))
        # Let SQLAlchemy issue BEGIN itself so writers take the lock up front
        # (BEGIN IMMEDIATE) instead of failing to upgrade a read lock later.
        # A reader's plain BEGIN reads a WAL snapshot: it neither waits for nor holds up the writers.
        if read_only:
            event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
        elif path:
            sqlite_lock.install(engine, path)  # writers queue on a flock instead of sleeping in busy retries
        else:
            event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        engine = _disable_pysqlite_transactions(engine)
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    event.listen(engine, "before_cursor_execute", _refuse_nul)
    return engine


def _disable_pysqlite_transactions(engine: Engine) -> Engine:
    """Stop pysqlite from emitting its own BEGIN so ours is the only one."""

    @event.listens_for(engine, "connect")
    def _no_autobegin(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    return engine


class Database:
    """One engine and session factory per process."""

    def __init__(self, url: str, sqlite_synchronous: str = "FULL"):
        self.url = url
        self.engine = make_engine(url, sqlite_synchronous)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # On a SQLite file, reads get their own engine: without it every page view would queue
        # behind (and hold up) the intake's writers on the single write lock.
        self.read_engine = make_engine(url, sqlite_synchronous, read_only=True) if sqlite_file(url) else None
        self.readers = sessionmaker(self.read_engine, expire_on_commit=False) if self.read_engine else self.sessions

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        with self.sessions() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading only: on a SQLite file a WAL snapshot that writes are refused in."""
        with self.readers() as session, session.begin():
            yield session

    def dispose(self) -> None:
        """Close pooled connections (after fork, or at shutdown)."""
        self.engine.dispose()
        if self.read_engine is not None:
            self.read_engine.dispose()


def sqlite_file(url: str) -> str | None:
    """The file an SQLite URL names; None for another database or an in-memory one (private to its connection)."""
    if not url.startswith("sqlite") or "///" not in url:
        return None
    path = url.split("///", 1)[-1]
    return path if path and path != ":memory:" and "mode=memory" not in url else None
