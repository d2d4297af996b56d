"""quote options: the option an approval chose; indexes on sync records' JSON fields

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 10:30:00.000000

Quotes written before options existed need nothing: their sync records lack
``options`` and the lines' ``option_id``, which read back as "no options", and their
approvals get ``option_id`` NULL (no option chosen, every line answered).

The two indexes are on expressions (``kind`` and one member of the JSON ``fields``),
spelt exactly as ``sync_server.models.record_field`` writes them in queries; a database
uses an expression index only for the very same expression. They are partial: records
without the member (customers, vehicles, visits) stay out. SQLite cannot reflect
expression indexes, so a later ``batch_alter_table("sync_records")`` that copies the
table must create them again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

INDEXED_FIELDS = ("visit_id", "walkaround_id")


def _member(name: str) -> sa.TextClause:
    if op.get_bind().dialect.name == "postgresql":
        return sa.text(f"(fields ->> '{name}')")
    return sa.text(f"json_extract(fields, '$.{name}')")


def upgrade() -> None:
    with op.batch_alter_table("approvals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("option_id", sa.String(length=36), nullable=True))
    for name in INDEXED_FIELDS:
        has_field = sa.text(f"{_member(name).text} IS NOT NULL")
        op.create_index(
            f"ix_sync_records_{name}",
            "sync_records",
            ["kind", _member(name)],
            sqlite_where=has_field,
            postgresql_where=has_field,
        )


def downgrade() -> None:
    for name in INDEXED_FIELDS:
        op.drop_index(f"ix_sync_records_{name}", table_name="sync_records")
    with op.batch_alter_table("approvals", schema=None) as batch_op:
        batch_op.drop_column("option_id")
