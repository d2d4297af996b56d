"""sync indexes: no index on the origin of the changes applied

Revision ID: 0027
Revises: 0024
Create Date: 2026-12-07 11:45:00.000000

``ix_applied_changes_origin`` was read by no query: the changes applied are looked up
by their change id only (a repeated push, a restored server's question). Each change a
device pushes wrote an entry into it; it goes. No data is changed.
"""

from __future__ import annotations

from alembic import op

revision = "0027"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("applied_changes") as batch_op:
        batch_op.drop_index("ix_applied_changes_origin")


def downgrade() -> None:
    with op.batch_alter_table("applied_changes") as batch_op:
        batch_op.create_index("ix_applied_changes_origin", ["origin"], unique=False)
