"""Alembic environment: runs against the engine the app (or a test) hands over.

On SQLite a ``batch_alter_table`` rebuilds a table (copy, drop, rename); with foreign
keys enforced, dropping a table other tables refer to fails. So, as SQLite's own
documentation prescribes for schema changes, foreign keys are off while migrations run
and every reference is checked before the migration commits.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from sync_server.models import Base

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
    try:
        with connection.begin():
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                render_as_batch=True,
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
            if sqlite:
                broken = connection.execute(text("PRAGMA foreign_key_check")).fetchall()
                if broken:
                    raise RuntimeError(f"migration left broken references: {broken[:5]}")
    finally:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
