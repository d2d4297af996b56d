"""customer file: diagnoses, manual VIP, merged customers, tier rules and tiers

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 02:00:00.000000

``customers`` gains ``merged_into_id`` / ``merged_at`` (a duplicate merged into another
customer, kept); none is merged. (``vip`` / ``vip_reason`` came with 0012.) ``shop.tier_grace_days``
(90 days). New tables: ``diagnoses``, ``customer_merges``, ``customer_tier_rules``
(filled with the shop's starting thresholds, which the manager can change) and
``customer_tiers`` (empty until the first run of ``checkin-server tiers recompute``;
the customers' synced tier is left as it was).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import sync_server.table_base

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

UTC_TIME = sync_server.table_base.UTCDateTime(timezone=True)
STARTING_RULES = (
    {"tier": "silver", "rank": 1, "min_visits": 2, "min_spend": 2000},
    {"tier": "gold", "rank": 2, "min_visits": 4, "min_spend": 8000},
    {"tier": "vip", "rank": 3, "min_visits": 8, "min_spend": 20000},
)


def upgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("merged_into_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("merged_at", UTC_TIME, nullable=True))
        batch_op.create_index(batch_op.f("ix_customers_merged_into_id"), ["merged_into_id"])
    with op.batch_alter_table("shop", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("tier_grace_days", sa.Integer(), nullable=False, server_default="90")
        )

    op.create_table(
        "diagnoses",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("visit_id", sa.String(length=36), nullable=False),
        sa.Column("finding", sa.Text(), nullable=False),
        sa.Column("cause", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("recorded_by_user_id", sa.Integer(), nullable=True),
        sa.Column("technician_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_diagnoses_visit_id_visits")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_user_id"],
            ["users.id"],
            name=op.f("fk_diagnoses_recorded_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["technician_id"],
            ["technicians.id"],
            name=op.f("fk_diagnoses_technician_id_technicians"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_diagnoses")),
    )
    op.create_index("ix_diagnoses_visit", "diagnoses", ["visit_id", "recorded_at"])

    op.create_table(
        "customer_merges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("surviving_id", sa.String(length=36), nullable=False),
        sa.Column("merged_id", sa.String(length=36), nullable=False),
        sa.Column("merged_by_user_id", sa.Integer(), nullable=True),
        sa.Column("merged_at", UTC_TIME, nullable=False),
        sa.Column("moved", sync_server.table_base.JsonType, nullable=False),
        sa.ForeignKeyConstraint(
            ["surviving_id"],
            ["customers.id"],
            name=op.f("fk_customer_merges_surviving_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["merged_id"], ["customers.id"], name=op.f("fk_customer_merges_merged_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["merged_by_user_id"],
            ["users.id"],
            name=op.f("fk_customer_merges_merged_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_merges")),
    )
    op.create_index(
        op.f("ix_customer_merges_surviving_id"), "customer_merges", ["surviving_id"]
    )
    op.create_index(op.f("ix_customer_merges_merged_id"), "customer_merges", ["merged_id"])

    rules = op.create_table(
        "customer_tier_rules",
        sa.Column("tier", sa.String(length=10), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("min_visits", sa.Integer(), nullable=False),
        sa.Column("min_spend", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.PrimaryKeyConstraint("tier", name=op.f("pk_customer_tier_rules")),
        sa.UniqueConstraint("rank", name=op.f("uq_customer_tier_rules_rank")),
    )
    op.bulk_insert(rules, list(STARTING_RULES))

    op.create_table(
        "customer_tiers",
        sa.Column("customer_id", sa.String(length=36), nullable=False),
        sa.Column("tier", sa.String(length=10), nullable=False),
        sa.Column("earned_tier", sa.String(length=10), nullable=False),
        sa.Column("visits_12m", sa.Integer(), nullable=False),
        sa.Column("spend_12m", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("grace_until", UTC_TIME, nullable=True),
        sa.Column("tier_since", UTC_TIME, nullable=False),
        sa.Column("computed_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_tiers_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_tiers")),
    )


def downgrade() -> None:
    op.drop_table("customer_tiers")
    op.drop_table("customer_tier_rules")
    op.drop_index(op.f("ix_customer_merges_merged_id"), table_name="customer_merges")
    op.drop_index(op.f("ix_customer_merges_surviving_id"), table_name="customer_merges")
    op.drop_table("customer_merges")
    op.drop_index("ix_diagnoses_visit", table_name="diagnoses")
    op.drop_table("diagnoses")
    with op.batch_alter_table("shop", schema=None) as batch_op:
        batch_op.drop_column("tier_grace_days")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customers_merged_into_id"))
        batch_op.drop_column("merged_at")
        batch_op.drop_column("merged_into_id")
