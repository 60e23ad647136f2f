"""A queue for SQLite's single writer: a blocking ``flock`` taken before ``BEGIN IMMEDIATE``.

SQLite lets one writer in at a time; the others get SQLITE_BUSY and its busy
handler sleeps and retries (1, 2, 5, 10 ... 100 ms). Under contention from
several processes (gunicorn workers, RQ workers) those sleeps, not the work,
make the latency: a writer can sleep 100 ms on a lock freed 0.1 ms after it
started sleeping. A blocking ``flock`` on a side file is woken by the kernel
the moment the holder lets go, so writers queue instead of polling.

Each connection opens the lock file itself (flock locks belong to an open file
description, so threads of one process exclude each other too); the lock is
taken when SQLAlchemy begins a transaction, released right after our own
COMMIT/ROLLBACK, and the kernel drops it if the process dies, so a crash can
never leave the database locked.
"""

from __future__ import annotations

import fcntl
import os
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

_FD = "moderation_writer_lock_fd"
"""Key in a DBAPI connection's info dict: the lock file descriptor it holds the lock through."""


def _lock_fd(conn: Any, path: str) -> int:
    """This DBAPI connection's own descriptor of the lock file (opened once per connection)."""
    info = conn.connection.info
    fd = info.get(_FD)
    if fd is None:
        fd = info[_FD] = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    return int(fd)


def _release(info: dict[str, Any]) -> None:
    """Let the next writer in (a no-op when this connection holds nothing)."""
    fd = info.get(_FD)
    if fd is not None:
        fcntl.flock(fd, fcntl.LOCK_UN)


def _end_then_release(ending: str) -> Any:
    """A commit/rollback hook that ends the transaction itself, then unlocks.

    SQLAlchemy's own DBAPI commit/rollback that follows the event finds no open transaction.
    """

    def hook(conn: Any) -> None:
        try:
            getattr(conn.connection.dbapi_connection, ending)()
        finally:
            _release(conn.connection.info)

    return hook


def install(engine: Engine, db_path: str) -> None:
    """Queue this engine's transactions on ``db_path + '.writelock'`` before BEGIN IMMEDIATE."""
    path = db_path + ".writelock"

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        fcntl.flock(_lock_fd(conn, path), fcntl.LOCK_EX)
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _release(conn.connection.info)
            raise

    for ending in ("commit", "rollback"):
        event.listen(engine, ending, _end_then_release(ending))

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi: Any, record: Any) -> None:
        _release(record.info)  # belt and braces: a connection back in the pool never holds the queue

    @event.listens_for(engine, "close")
    def _close(_dbapi: Any, record: Any) -> None:
        fd = record.info.pop(_FD, None)
        if fd is not None:
            os.close(fd)  # closing the descriptor also drops any lock it held
