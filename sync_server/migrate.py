"""Alembic, driven from Python: the migrations ship inside the package."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Alembic's start-up chatter (its plugins, the dialect, said again on every connection):
# the log keeps only the migrations it runs.
_CHATTER = ("Context impl ", "Will assume ")


class _QuietAlembic(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(_CHATTER)


def quiet_alembic_logs() -> None:
    """Keep "Running upgrade ..." lines; drop the lines repeated at every start."""
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    migration = logging.getLogger("alembic.runtime.migration")
    if not any(isinstance(f, _QuietAlembic) for f in migration.filters):
        migration.addFilter(_QuietAlembic())


def alembic_config(app: Flask) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = app.extensions["db_engine"]
    return config


def upgrade(app: Flask, revision: str = "head") -> None:
    """Bring the database to ``revision`` (the newest by default)."""
    quiet_alembic_logs()
    from alembic import command

    command.upgrade(alembic_config(app), revision)


def current_revision(app: Flask) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with app.extensions["db_engine"].connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
