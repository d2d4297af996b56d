"""Alembic, driven from Python: the migrations ship inside the package.

On PostgreSQL several ``serve`` processes may start at once on one database: each runs
:func:`upgrade`, and the migrations run once, under a PostgreSQL advisory lock
(``pg_advisory_lock``): the first process to take it migrates, the others wait for it
and then find the database at the head, with nothing left to do. SQLite has one
process and needs no lock.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Engine

log = logging.getLogger(__name__)

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


# The advisory lock's key: any 64-bit number the app uses for nothing else
# (the first eight bytes of SHA-256("service-lane migrations")).
MIGRATION_LOCK_KEY = 0x2A7C_51E0_93B4_6D18


@contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """Hold the migrations' advisory lock (PostgreSQL; nothing on SQLite).

    A session-level lock on a connection of its own: it is held while Alembic migrates
    on another connection, and goes if this process dies (the connection closes).
    """
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as connection:
        # Asked again every quarter second, outside any transaction: a waiting process
        # holds no snapshot that a migration could have to wait for.
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        try_lock = f"SELECT pg_try_advisory_lock({MIGRATION_LOCK_KEY})"
        if not connection.exec_driver_sql(try_lock).scalar_one():
            log.info("Another process is migrating the database; waiting for it")
            while not connection.exec_driver_sql(try_lock).scalar_one():
                time.sleep(0.25)
        try:
            yield
        finally:
            connection.exec_driver_sql(f"SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})")


def upgrade(app: Flask, revision: str = "head") -> None:
    """Bring the database to ``revision`` (the newest by default), once across processes."""
    quiet_alembic_logs()
    from alembic import command

    with migration_lock(app.extensions["db_engine"]):
        command.upgrade(alembic_config(app), revision)


def current_revision(app: Flask) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with app.extensions["db_engine"].connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
