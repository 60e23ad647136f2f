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


def test_site_alerts_migration_goes_down_and_up_keeping_the_sites(database_url: str) -> None:
    """0012_site_alerts adds a site's alert_emails and alert_webhook_url; down to 0011_merge drops them, up again
    brings them back empty, and the sites themselves survive both ways."""
    from datetime import UTC, datetime

    from alembic import command
    from sqlalchemy import select

    from moderation.store.migrate import alembic_config, upgrade
    from moderation.store.models import Site

    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(Site.__table__.insert().values(
            slug="news", secret="s", api_key="k", created_at=datetime.now(UTC), mode="enforce",
            alert_emails=["ani@example.id"], alert_webhook_url="https://hooks.example.id/T0/s3cr3t"))
    engine.dispose()
    command.downgrade(alembic_config(database_url), "0011_merge")
    engine = create_engine(database_url)
    assert {"alert_emails", "alert_webhook_url"}.isdisjoint(c["name"] for c in inspect(engine).get_columns("sites"))
    engine.dispose()
    upgrade(database_url)
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(select(Site.slug, Site.alert_emails, Site.alert_webhook_url)).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [("news", None, None)]
