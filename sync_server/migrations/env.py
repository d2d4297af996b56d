"""Alembic environment: runs against the engine the app (or a test) hands over."""

from __future__ import annotations

from alembic import context

from sync_server.models import Base

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
