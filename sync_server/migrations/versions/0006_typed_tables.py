"""typed tables for every synced kind, backfilled; JSON expression indexes dropped; jsonb

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 23:00:00.000000

The back office reads typed tables only (``sync_server.record_tables``): walk-arounds,
damage marks, visit photos, signatures, consents and notes get tables of their own;
quotes get their tax rate and totals as ``Numeric`` columns and their lines and options
as rows; approvals their line decisions as rows and the total agreed; customers the
language of their latest consent. Everything is filled from the sync records a shop's
database holds (the merge engine's state, which stays as it is), with the same row
builders the projection uses, so an upgraded database reads exactly as a new one.

A record that refers to a visit the server does not have (the old write path accepted
one) stays in ``sync_records`` but gets no typed row (a foreign key refers to the visit);
the upgrade logs how many.

The two partial expression indexes on ``sync_records.fields`` (0005) are dropped: no
query reads the sync JSON by field any more. On PostgreSQL every JSON column becomes
``jsonb``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import Text

import sync_server.table_base

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

# Every JSON column before this revision, by table.
JSON_COLUMNS = {
    "sync_records": ("fields", "clocks"),
    "applied_changes": ("result",),
    "field_conflicts": ("losing_value", "winning_value"),
    "appointments": ("concern_codes",),
    "visits": ("concern_codes",),
    "technicians": ("specialities",),
}
INDEXED_FIELDS = ("visit_id", "walkaround_id")
NEW_TABLES = (
    "walkarounds",
    "damage_marks",
    "visit_photos",
    "signatures",
    "consents",
    "visit_notes",
    "quote_lines",
    "quote_options",
    "approval_decisions",
)


def upgrade() -> None:
    bind = op.get_bind()
    for name in INDEXED_FIELDS:
        op.drop_index(f"ix_sync_records_{name}", table_name="sync_records")
    if bind.dialect.name == "postgresql":
        for table, columns in JSON_COLUMNS.items():
            for column in columns:
                op.alter_column(
                    table,
                    column,
                    type_=postgresql.JSONB(astext_type=Text()),
                    postgresql_using=f"{column}::jsonb",
                )
    with op.batch_alter_table("approvals", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("approved_total", sa.Numeric(precision=12, scale=2), nullable=True)
        )
        batch_op.create_index("ix_approvals_approved_at", ["approved_at"], unique=False)
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=10), nullable=True))
    # Filled below from each quote's record; the defaults only carry the rows there.
    with op.batch_alter_table("quotes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("tax_rate", sa.Numeric(9, 6), nullable=False, server_default="0.13")
        )
        for column in ("subtotal", "discount_total", "tax", "total"):
            batch_op.add_column(
                sa.Column(column, sa.Numeric(12, 2), nullable=False, server_default="0")
            )
    op.create_table(
        "damage_marks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("walkaround_id", sa.String(length=36), nullable=False),
        sa.Column(
            "view",
            sa.Enum(
                "top",
                "left",
                "right",
                "front",
                "rear",
                name="diagram_view",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("x", sa.Double(), nullable=False),
        sa.Column("y", sa.Double(), nullable=False),
        sa.Column(
            "damage_type",
            sa.Enum(
                "A",
                "U",
                "G",
                "Y",
                "S",
                "M",
                "B",
                "O",
                name="damage_type",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column(
            "pins",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", sync_server.table_base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_damage_marks")),
    )
    with op.batch_alter_table("damage_marks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_damage_marks_walkaround_id"), ["walkaround_id"], unique=False
        )

    op.create_table(
        "approval_decisions",
        sa.Column("approval_id", sa.String(length=36), nullable=False),
        sa.Column("line_id", sa.String(length=36), nullable=False),
        sa.Column(
            "decision",
            sa.Enum(
                "approved",
                "declined",
                name="line_decision",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["approval_id"],
            ["approvals.id"],
            name=op.f("fk_approval_decisions_approval_id_approvals"),
        ),
        sa.PrimaryKeyConstraint("approval_id", "line_id", name=op.f("pk_approval_decisions")),
    )
    op.create_table(
        "quote_lines",
        sa.Column("quote_id", sa.String(length=36), nullable=False),
        sa.Column("line_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "labour",
                "part",
                "fee",
                "discount",
                name="quote_line_kind",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("hours", sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column("labour_rate", sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column("part_number", sa.Text(), nullable=False),
        sa.Column(
            "urgency",
            sa.Enum(
                "red",
                "yellow",
                "green",
                name="urgency",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "photo_sha256s",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("option_id", sa.String(length=36), nullable=True),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["quote_id"], ["quotes.id"], name=op.f("fk_quote_lines_quote_id_quotes")
        ),
        sa.PrimaryKeyConstraint("quote_id", "line_id", name=op.f("pk_quote_lines")),
    )
    op.create_table(
        "quote_options",
        sa.Column("quote_id", sa.String(length=36), nullable=False),
        sa.Column("option_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("subtotal", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("discount_total", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("tax", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("total", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["quote_id"], ["quotes.id"], name=op.f("fk_quote_options_quote_id_quotes")
        ),
        sa.PrimaryKeyConstraint("quote_id", "option_id", name=op.f("pk_quote_options")),
    )
    op.create_table(
        "consents",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("visit_id", sa.String(length=36), nullable=False),
        sa.Column("text_version", sa.Text(), nullable=False),
        sa.Column("text_sha256", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("accepted_at", sync_server.table_base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_consents_visit_id_visits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
    )
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consents_visit_id"), ["visit_id"], unique=False)

    op.create_table(
        "signatures",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("visit_id", sa.String(length=36), nullable=False),
        sa.Column(
            "purpose",
            sa.Enum(
                "consent",
                "checkin_sheet",
                "approval",
                name="signature_purpose",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "strokes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("signed_sha256", sa.String(length=64), nullable=False),
        sa.Column("signer_name", sa.Text(), nullable=False),
        sa.Column("signed_at", sync_server.table_base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("image_sha256", sa.String(length=64), nullable=True),
        sa.Column("image_size_bytes", sa.Integer(), nullable=True),
        sa.Column(
            "image_content_type",
            sa.Enum(
                "image/jpeg",
                "image/png",
                name="image_type",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=True,
        ),
        sa.Column("image_width", sa.Integer(), nullable=True),
        sa.Column("image_height", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_signatures_visit_id_visits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signatures")),
    )
    with op.batch_alter_table("signatures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signatures_visit_id"), ["visit_id"], unique=False)

    op.create_table(
        "visit_notes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("visit_id", sa.String(length=36), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_visit_notes_visit_id_visits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_notes")),
    )
    with op.batch_alter_table("visit_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_visit_notes_visit_id"), ["visit_id"], unique=False)

    op.create_table(
        "visit_photos",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("visit_id", sa.String(length=36), nullable=False),
        sa.Column("walkaround_id", sa.String(length=36), nullable=True),
        sa.Column("caption", sa.Text(), nullable=False),
        sa.Column("taken_at", sync_server.table_base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("image_sha256", sa.String(length=64), nullable=True),
        sa.Column("image_size_bytes", sa.Integer(), nullable=True),
        sa.Column(
            "image_content_type",
            sa.Enum(
                "image/jpeg",
                "image/png",
                name="image_type",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=True,
        ),
        sa.Column("image_width", sa.Integer(), nullable=True),
        sa.Column("image_height", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_visit_photos_visit_id_visits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_photos")),
    )
    with op.batch_alter_table("visit_photos", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_visit_photos_visit_id"), ["visit_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_visit_photos_walkaround_id"), ["walkaround_id"], unique=False
        )

    op.create_table(
        "walkarounds",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("visit_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("odometer_km", sa.Integer(), nullable=True),
        sa.Column("fuel_eighths", sa.Integer(), nullable=True),
        sa.Column(
            "warning_lights",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("spare_wheel", sa.Boolean(), nullable=False),
        sa.Column("jack", sa.Boolean(), nullable=False),
        sa.Column("documents", sa.Boolean(), nullable=False),
        sa.Column("valuables", sa.Boolean(), nullable=False),
        sa.Column("child_seat", sa.Boolean(), nullable=False),
        sa.Column("keys_count", sa.Integer(), nullable=False),
        sa.Column("belongings_note", sa.Text(), nullable=False),
        sa.Column("exterior_notes", sa.Text(), nullable=False),
        sa.Column("interior_notes", sa.Text(), nullable=False),
        sa.Column(
            "tyre_tread_mm",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_walkarounds_visit_id_visits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_walkarounds")),
    )
    with op.batch_alter_table("walkarounds", schema=None) as batch_op:
        batch_op.create_index("ix_walkarounds_visit_version", ["visit_id", "version"], unique=False)

    _backfill(bind)


def downgrade() -> None:
    for table in reversed(NEW_TABLES):
        op.drop_table(table)
    op.drop_index("ix_approvals_approved_at", table_name="approvals")
    # Columns dropped in place: a batch copy of ``customers`` would have to drop the
    # table that vehicles and visits refer to (SQLite 3.35+ drops columns itself).
    for table, column in (
        ("quotes", "total"),
        ("quotes", "tax"),
        ("quotes", "discount_total"),
        ("quotes", "subtotal"),
        ("quotes", "tax_rate"),
        ("customers", "language"),
        ("approvals", "approved_total"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for table, columns in JSON_COLUMNS.items():
            for column in columns:
                op.alter_column(table, column, type_=sa.JSON(), postgresql_using=f"{column}::json")
    for name in INDEXED_FIELDS:
        if bind.dialect.name == "postgresql":
            member = sa.text(f"(fields ->> '{name}')")
        else:
            member = sa.text(f"json_extract(fields, '$.{name}')")
        has_field = sa.text(f"{member.text} IS NOT NULL")
        op.create_index(
            f"ix_sync_records_{name}",
            "sync_records",
            ["kind", member],
            sqlite_where=has_field,
            postgresql_where=has_field,
        )


# --- the backfill --------------------------------------------------------------------


def _records(bind: sa.Connection, kind: str) -> Iterator[tuple[str, Any]]:
    """(id, domain record) of every readable sync record of ``kind``, in feed order."""
    from shared.wire import WireError, from_wire

    records = sa.table(
        "sync_records",
        sa.column("kind", sa.String()),
        sa.column("id", sa.String()),
        sa.column("seq", sa.Integer()),
        sa.column("fields", sa.JSON()),
    )
    query = (
        sa.select(records.c.id, records.c.fields)
        .where(records.c.kind == kind)
        .order_by(records.c.seq)
    )
    for record_id, fields in bind.execute(query).all():
        try:
            yield record_id, from_wire(kind, {**fields, "id": record_id})
        except WireError:
            log.warning("%s %s does not read as a record; no typed row", kind, record_id)


def _insert(bind: sa.Connection, model: Any, rows: list[dict[str, Any]]) -> None:
    """Insert plain rows with the model's column types, naming only the columns given."""
    if not rows:
        return
    columns = model.__table__.c
    table = sa.table(model.__table__.name, *(sa.column(key, columns[key].type) for key in rows[0]))
    for start in range(0, len(rows), 500):
        bind.execute(table.insert(), rows[start : start + 500])


def _update(bind: sa.Connection, model: Any, rows: list[dict[str, Any]]) -> None:
    """Update rows by ``id`` with the values given (one statement per row)."""
    if not rows:
        return
    columns = model.__table__.c
    table = sa.table(model.__table__.name, *(sa.column(key, columns[key].type) for key in rows[0]))
    statement = table.update().where(table.c.id == sa.bindparam("row_id"))
    bind.execute(
        statement.values({key: sa.bindparam(key) for key in rows[0] if key != "id"}),
        [{**row, "row_id": row["id"]} for row in rows],
    )


def _backfill(bind: sa.Connection) -> None:
    from sync_server.back_office_tables import ApprovalRow, QuoteRow
    from sync_server.visit_tables import Customer
    from sync_server.record_tables import (
        ApprovalDecisionRow,
        ConsentRow,
        DamageMarkRow,
        QuoteLineRow,
        QuoteOptionRow,
        SignatureRow,
        VisitNoteRow,
        VisitPhotoRow,
        WalkaroundRow,
    )
    from sync_server.sync import projection_rows as projections

    visits = dict(bind.execute(sa.text("SELECT id, customer_id FROM visits")).all())
    orphans = 0
    for kind, model in (
        ("walkaround", WalkaroundRow),
        ("damage_mark", DamageMarkRow),
        ("photo", VisitPhotoRow),
        ("signature", SignatureRow),
        ("consent", ConsentRow),
        ("note", VisitNoteRow),
    ):
        rows = []
        for _, record in _records(bind, kind):
            if kind != "damage_mark" and record.visit_id not in visits:
                orphans += 1
                continue
            rows.append(projections.ROWS[kind](record))
        _insert(bind, model, rows)
        if kind == "consent":
            language = {visits[row["visit_id"]]: row["language"] for row in rows}
            _update(
                bind, Customer, [{"id": key, "language": value} for key, value in language.items()]
            )
    if orphans:
        log.warning("%d records refer to a visit the server does not have; no typed rows", orphans)

    quote_ids = set(bind.execute(sa.text("SELECT id FROM quotes")).scalars())
    quotes, quote_rows, lines, options = {}, [], [], []
    for record_id, quote in _records(bind, "quote"):
        quotes[record_id] = quote
        if record_id in quote_ids:
            row = projections.ROWS["quote"](quote)
            quote_rows.append(
                {
                    key: row[key]
                    for key in ("id", "tax_rate", "subtotal", "discount_total", "tax", "total")
                }
            )
            lines += projections.quote_lines(quote)
            options += projections.quote_options(quote)
    _update(bind, QuoteRow, quote_rows)
    _insert(bind, QuoteLineRow, lines)
    _insert(bind, QuoteOptionRow, options)

    approval_ids = set(bind.execute(sa.text("SELECT id FROM approvals")).scalars())
    totals, decisions = [], []
    for record_id, approval in _records(bind, "approval"):
        if record_id in approval_ids:
            total = projections.approved_total(approval, quotes.get(approval.quote_id))
            totals.append({"id": record_id, "approved_total": total})
            decisions += projections.approval_decisions(approval)
    _update(bind, ApprovalRow, totals)
    _insert(bind, ApprovalDecisionRow, decisions)
