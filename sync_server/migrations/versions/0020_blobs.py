"""blobs: the server's secrets in the database, shared by every server process

Revision ID: 0020
Revises: 0022
Create Date: 2026-12-07 05:00:00.000000

A new table only: a filled database keeps everything it has. A shop's key from its
instance folder is moved in by the first process that starts (sync_server.server_secrets).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import sync_server.table_base

revision = "0020"
down_revision = "0022"
branch_labels = None
depends_on = None

UTC_TIME = sync_server.table_base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "server_secrets",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("origin", sa.String(length=20), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_server_secrets")),
    )


def downgrade() -> None:
    op.drop_table("server_secrets")
