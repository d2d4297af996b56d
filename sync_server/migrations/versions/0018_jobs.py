"""jobs: outbox keys, Message-IDs and leases; each send attempt; scheduled job leases

Revision ID: 0018
Revises: 0016 (the lead re-chains at merge)
Create Date: 2026-12-07 05:10:00.000000

A filled database keeps every message. Each existing message gets its own Message-ID
and SMS idempotency key, and the quote version it was queued at (the visit's latest
version sent by then; 0 before any). Messages a desk step queued twice before this
revision (same visit, event and quote version) keep the first copy under the new unique
key; each later copy keeps its history but leaves the key (no quote version), and one
that has not gone out yet (waiting, stuck "sending", or a call still to make) is
withdrawn, so the customer is not told twice. Messages stuck in "sending" (a sender
that died before leases existed) are due again at once: they have no lease.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

import sync_server.back_office_tables
import sync_server.table_base

revision = "0018"
down_revision = "0016"
branch_labels = None
depends_on = None

UTC_TIME = sync_server.table_base.UTCDateTime(timezone=True)
DOMAIN = sync_server.back_office_tables.MESSAGE_ID_DOMAIN
NOT_GONE_OUT = ("pending", "sending", "to_call")
BATCH = 500


def _fill_existing(connection: sa.Connection) -> None:
    messages = sa.table(
        "outbound_messages",
        sa.column("id", sa.Integer),
        sa.column("visit_id", sa.String),
        sa.column("event", sa.String),
        sa.column("state", sa.String),
        sa.column("created_at", UTC_TIME),
        sa.column("last_error", sa.String),
        sa.column("quote_version", sa.Integer),
        sa.column("idempotency_key", sa.String),
        sa.column("email_message_id", sa.String),
    )
    quotes = sa.table(
        "quotes",
        sa.column("visit_id", sa.String),
        sa.column("version", sa.Integer),
        sa.column("sent_at", UTC_TIME),
    )
    sent_versions: dict[str, list[tuple[object, int]]] = {}
    for visit_id, version, sent_at in connection.execute(
        sa.select(quotes.c.visit_id, quotes.c.version, quotes.c.sent_at).where(
            quotes.c.sent_at.is_not(None)
        )
    ):
        sent_versions.setdefault(visit_id, []).append((sent_at, version))
    rows = connection.execute(
        sa.select(
            messages.c.id,
            messages.c.visit_id,
            messages.c.event,
            messages.c.state,
            messages.c.created_at,
        ).order_by(messages.c.id)
    ).all()
    first_of: dict[tuple[str, str, int], int] = {}
    updates: list[dict[str, object]] = []
    for row in rows:
        key = uuid.uuid4().hex
        values: dict[str, object] = {
            "row_id": row.id,
            "key": key,
            "message_id": f"<{key}@{DOMAIN}>",
            "version": None,
            "state": row.state,
            "error": None,
        }
        if row.visit_id is not None:
            version = max(
                (v for at, v in sent_versions.get(row.visit_id, []) if at <= row.created_at),
                default=0,
            )
            identity = (row.visit_id, row.event, version)
            if identity not in first_of:
                first_of[identity] = row.id
                values["version"] = version
            elif row.state in NOT_GONE_OUT:
                values["state"] = "withdrawn"
                values["error"] = f"a second copy of message {first_of[identity]}, not sent"
        updates.append(values)
    statement = (
        messages.update()
        .where(messages.c.id == sa.bindparam("row_id"))
        .values(
            idempotency_key=sa.bindparam("key"),
            email_message_id=sa.bindparam("message_id"),
            quote_version=sa.bindparam("version", type_=sa.Integer),
            state=sa.bindparam("state"),
            last_error=sa.func.coalesce(sa.bindparam("error", type_=sa.String), messages.c.last_error),
        )
    )
    for start in range(0, len(updates), BATCH):
        connection.execute(statement, updates[start : start + BATCH])


def upgrade() -> None:
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quote_version", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("email_message_id", sa.String(length=100), nullable=True))
        batch_op.add_column(
            sa.Column("claimed_by", sa.String(length=80), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("claimed_until", UTC_TIME, nullable=True))
    _fill_existing(op.get_bind())
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.alter_column("idempotency_key", existing_type=sa.String(32), nullable=False)
        batch_op.alter_column("email_message_id", existing_type=sa.String(100), nullable=False)
        batch_op.create_unique_constraint(
            "uq_outbound_messages_visit_event_quote", ["visit_id", "event", "quote_version"]
        )
    op.create_table(
        "job_leases",
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("holder", sa.String(length=80), nullable=False),
        sa.Column("until", UTC_TIME, nullable=True),
        sa.Column("next_run_at", UTC_TIME, nullable=False),
        sa.Column("last_started_at", UTC_TIME, nullable=True),
        sa.Column("last_finished_at", UTC_TIME, nullable=True),
        sa.Column("last_outcome", sa.String(length=400), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_leases")),
    )
    op.create_table(
        "message_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(length=80), nullable=False),
        sa.Column("started_at", UTC_TIME, nullable=False),
        sa.Column("finished_at", UTC_TIME, nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.String(length=400), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["outbound_messages.id"],
            name=op.f("fk_message_attempts_message_id_outbound_messages"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_attempts")),
    )
    with op.batch_alter_table("message_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_message_attempts_message", ["message_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("message_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_message_attempts_message")
    op.drop_table("message_attempts")
    op.drop_table("job_leases")
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.drop_constraint("uq_outbound_messages_visit_event_quote", type_="unique")
        batch_op.drop_column("claimed_until")
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("email_message_id")
        batch_op.drop_column("idempotency_key")
        batch_op.drop_column("quote_version")
