"""Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from moderation.store.models import Base


def test_migrations_match_models(database_url: str) -> None:
    """After `db upgrade`, autogenerate finds nothing left to change."""
    engine = create_engine(database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    engine.dispose()
    assert diff == []


def test_unique_site_external_id(database_url: str) -> None:
    """The (site, external id) pair is unique in the database itself, not only in code."""
    engine = create_engine(database_url)
    uniques = inspect(engine).get_unique_constraints("comments")
    engine.dispose()
    assert any(set(u["column_names"]) == {"site_id", "external_id"} for u in uniques)


def test_sqlite_runs_in_wal_mode(services) -> None:  # type: ignore[no-untyped-def]
    """The embedded database uses write-ahead logging so readers never block the writer."""
    if services.db.engine.dialect.name != "sqlite":
        return
    with services.db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
