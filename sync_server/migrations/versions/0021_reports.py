"""reports: escalation of overdue complaints, the manager's address, an index by receipt

Revision ID: 0021
Revises: 0017
Create Date: 2026-12-07 05:40:00.000000

New nullable columns and a server default, and one index: a filled database keeps
everything it has (cases already missed are escalated by the next sender pass once an
address is set).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import sync_server.table_base

revision = "0021"
down_revision = "0017"
branch_labels = None
depends_on = None

UTC_TIME = sync_server.table_base.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("complaint_cases") as batch:
        batch.add_column(sa.Column("first_response_escalated_at", UTC_TIME, nullable=True))
        batch.add_column(sa.Column("resolution_escalated_at", UTC_TIME, nullable=True))
    op.create_index("ix_complaint_cases_received_at", "complaint_cases", ["received_at"])
    with op.batch_alter_table("complaint_settings") as batch:
        batch.add_column(
            sa.Column("escalation_email", sa.String(length=254), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("complaint_settings") as batch:
        batch.drop_column("escalation_email")
    op.drop_index("ix_complaint_cases_received_at", table_name="complaint_cases")
    with op.batch_alter_table("complaint_cases") as batch:
        batch.drop_column("resolution_escalated_at")
        batch.drop_column("first_response_escalated_at")
