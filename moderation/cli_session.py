"""One database session for one command: the CLI groups (``moderation sites``, ``users``, ``callbacks``) share it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.orm import Session

from moderation.settings import Settings
from moderation.store.db import Database


@contextmanager
def command_session(settings: Settings, *errors: type[Exception]) -> Iterator[Session]:
    """One transaction on the configured database (disposed after the command); ERRORS raised inside become a
    one-line message (``click.ClickException``) instead of a traceback."""
    database = Database(settings["database_url"], settings["database.sqlite_synchronous"])
    try:
        with database.session() as session:
            yield session
    except errors as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        database.dispose()
