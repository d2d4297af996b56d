"""board search columns; the history of customers' contact details

Revision ID: 0010
Revises: 0005
Create Date: 2026-12-06 23:00:00.000000

``vehicles.plate_search`` (the plate without its province character), ``model_search``
(the model in lower case) and ``customers.phone_last4`` are what the board's search
looks up, each through its own index; they are filled here from the rows already
there, with the same functions the sync projection uses (``sync_server.search``).
``customer_contact_changes`` starts empty: the changes made before it existed are not
known. ``outbound_messages.handled_by_user_id``: who made a call task's call.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import sync_server.table_base
from sync_server.search import model_search_key, phone_last4, plate_search_key

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

CHUNK = 2000


def _backfill(table: str, source: tuple[str, ...], compute) -> None:  # type: ignore[no-untyped-def]
    connection = op.get_bind()
    rows = connection.execute(sa.text(f"SELECT id, {', '.join(source)} FROM {table}")).all()
    updates = [{"row_id": row[0], **compute(*row[1:])} for row in rows]
    if not updates:
        return
    names = [name for name in updates[0] if name != "row_id"]
    statement = sa.text(
        f"UPDATE {table} SET {', '.join(f'{name} = :{name}' for name in names)} WHERE id = :row_id"
    )
    for start in range(0, len(updates), CHUNK):
        connection.execute(statement, updates[start : start + CHUNK])


def upgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("phone_last4", sa.String(length=4), nullable=False, server_default="")
        )
    with op.batch_alter_table("vehicles", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("plate_search", sa.String(length=16), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("model_search", sa.String(length=60), nullable=False, server_default="")
        )
    _backfill("customers", ("phone",), lambda phone: {"phone_last4": phone_last4(phone)})
    _backfill(
        "vehicles",
        ("plate", "model"),
        lambda plate, model: {
            "plate_search": plate_search_key(plate),
            "model_search": model_search_key(model),
        },
    )
    # The model has no server default; drop the one that filled the existing rows.
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.alter_column("phone_last4", server_default=None)
        batch_op.create_index(batch_op.f("ix_customers_phone_last4"), ["phone_last4"])
    with op.batch_alter_table("vehicles", schema=None) as batch_op:
        batch_op.alter_column("plate_search", server_default=None)
        batch_op.alter_column("model_search", server_default=None)
        batch_op.create_index(batch_op.f("ix_vehicles_plate_search"), ["plate_search"])
        batch_op.create_index(batch_op.f("ix_vehicles_model_search"), ["model_search"])

    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("handled_by_user_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_outbound_messages_handled_by_user_id_users"),
            "users",
            ["handled_by_user_id"],
            ["id"],
        )

    op.create_table(
        "customer_contact_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(length=36), nullable=False),
        sa.Column("field", sa.String(length=20), nullable=False),
        sa.Column("old_value", sa.String(length=254), nullable=False),
        sa.Column("new_value", sa.String(length=254), nullable=False),
        sa.Column("changed_at", sync_server.table_base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("device_uid", sa.String(length=36), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_customer_contact_changes_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_contact_changes")),
    )
    op.create_index(
        "ix_customer_contact_changes_customer",
        "customer_contact_changes",
        ["customer_id", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_customer_contact_changes_customer", table_name="customer_contact_changes")
    op.drop_table("customer_contact_changes")
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_outbound_messages_handled_by_user_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("handled_by_user_id")
    with op.batch_alter_table("vehicles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vehicles_model_search"))
        batch_op.drop_index(batch_op.f("ix_vehicles_plate_search"))
        batch_op.drop_column("model_search")
        batch_op.drop_column("plate_search")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customers_phone_last4"))
        batch_op.drop_column("phone_last4")
