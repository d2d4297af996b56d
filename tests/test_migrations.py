"""The schema comes from Alembic migrations, and they match the models exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask import Flask
from sqlalchemy import inspect

from sync_server.migrate import current_revision, upgrade
from sync_server.models import Base


def test_upgrade_from_empty_creates_every_table(app: Flask) -> None:
    tables = set(inspect(app.extensions["db_engine"]).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables
    assert current_revision(app) is not None


def test_no_drift_between_models_and_migrations(app: Flask) -> None:
    with app.extensions["db_engine"].connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_upgrade_twice_is_harmless(app: Flask) -> None:
    before = current_revision(app)
    upgrade(app)
    assert current_revision(app) == before
