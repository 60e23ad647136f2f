"""Schema management with Alembic, driven from code (``moderation db upgrade``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
"""Alembic's script folder, shipped inside the package."""


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at our migrations and the given database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "heads") -> None:
    """Bring the database to a revision (creating the SQLite file and folder if needed)."""
    from moderation.store.db import make_engine

    make_engine(url).dispose()  # creates the SQLite folder
    command.upgrade(alembic_config(url), revision)


def pending(url: str) -> bool:
    """Whether the database lacks migrations this code needs (a database never upgraded lacks them all)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from moderation.store.db import make_engine

    heads = set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()
    return current != heads
