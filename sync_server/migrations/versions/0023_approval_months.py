"""approval months: approved totals per advisor and shop month, kept by the projection

Revision ID: 0023
Revises: 0020
Create Date: 2026-12-07 08:20:00.000000

A new table, filled from the approvals, quotes and visits as the monthly report has
always counted them (each approval in its shop month, for its visit's advisor; one whose
quote or visit is missing not at all), in the shop's time zone: a filled database keeps
everything it has and its report shows the same figures.
"""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from alembic import op

import sync_server.table_base
from shared.shop_time import is_timezone_name, server_timezone_name, shop_zone

revision = "0023"
down_revision = "0020"
branch_labels = None
depends_on = None

UTC_TIME = sync_server.table_base.UTCDateTime(timezone=True)
NO_ADVISOR = 0


def upgrade() -> None:
    months = op.create_table(
        "approval_months",
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("advisor_user_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("month", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("approvals", sa.Integer(), nullable=False),
        sa.Column("approved_total", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.PrimaryKeyConstraint(
            "zone", "advisor_user_id", "year", "month", name=op.f("pk_approval_months")
        ),
    )
    bind = op.get_bind()
    name = bind.execute(sa.text("SELECT timezone FROM shop WHERE id = 1")).scalar()
    if name is None:
        name = server_timezone_name()  # the zone the shop's row will be made with
    zone = shop_zone(name)
    if not is_timezone_name(name):
        name = getattr(zone, "key", None) or str(zone)
    approvals = sa.table(
        "approvals",
        sa.column("quote_id", sa.String),
        sa.column("approved_at", UTC_TIME),
        sa.column("approved_total", sa.Numeric(12, 2)),
    )
    quotes = sa.table("quotes", sa.column("id", sa.String), sa.column("visit_id", sa.String))
    visits = sa.table(
        "visits", sa.column("id", sa.String), sa.column("advisor_user_id", sa.Integer)
    )
    query = (
        sa.select(visits.c.advisor_user_id, approvals.c.approved_at, approvals.c.approved_total)
        .select_from(approvals)
        .join(quotes, quotes.c.id == approvals.c.quote_id)
        .join(visits, visits.c.id == quotes.c.visit_id)
    )
    figures: dict[tuple[int, int, int], list] = {}  # type: ignore[type-arg]
    for advisor, approved_at, total in bind.execute(query):
        local = approved_at.astimezone(zone)
        entry = figures.setdefault((advisor or NO_ADVISOR, local.year, local.month), [0, Decimal()])
        entry[0] += 1
        entry[1] += Decimal(total or 0)
    rows = [
        {
            "zone": name,
            "advisor_user_id": advisor,
            "year": year,
            "month": month,
            "approvals": count,
            "approved_total": total.quantize(Decimal("0.01")),
        }
        for (advisor, year, month), (count, total) in sorted(figures.items())
    ]
    if rows:
        op.bulk_insert(months, rows)


def downgrade() -> None:
    op.drop_table("approval_months")
