"""Alembic, driven from Python: the migrations ship inside the package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from flask import Flask

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(app: Flask) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = app.extensions["db_engine"]
    return config


def upgrade(app: Flask, revision: str = "head") -> None:
    """Bring the database to ``revision`` (the newest by default)."""
    command.upgrade(alembic_config(app), revision)


def current_revision(app: Flask) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with app.extensions["db_engine"].connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
