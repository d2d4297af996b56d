"""page speed: the service star's handed-back jobs; a car's visits by check-in; answers by time

Revision ID: 0025
Revises: 0023
Create Date: 2026-12-07 08:30:00.000000

``handed_back_jobs`` holds one row per hand-back with what the service star counts (the
advisor, the promised and the ready time, the car), filled here from every hand-back
already recorded, its visit and its passed quality checks, so a filled database shows
the same stars after the upgrade. ``ix_visits_vehicle_checked_in`` finds a car's later
visits (the comebacks) without reading each visit; ``ix_surveys_answers`` holds the
answers' times with their scores (satisfaction by month reads only it) and takes the
place of ``ix_surveys_answered_at``, which it begins with. No data is changed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import sync_server.models

revision = "0025"
down_revision = "0023"
branch_labels = None
depends_on = None

UTC_TIME = sync_server.models.UTCDateTime(timezone=True)

# Every hand-back as the star counts it: the visit's advisor (else who handed the car
# back), its promised ready time, its last passed quality check and its car; in the
# order of the hand-backs, as the shop adds them, so a month's rows lie together.
BACKFILL = """
INSERT INTO handed_back_jobs
    (visit_id, handed_back_at, advisor_user_id, vehicle_id, promised_at, ready_at)
SELECT hand_backs.visit_id,
       hand_backs.handed_back_at,
       COALESCE(visits.advisor_user_id, hand_backs.handed_back_by_user_id),
       visits.vehicle_id,
       visits.expected_ready_at,
       (SELECT MAX(quality_checks.checked_at) FROM quality_checks
         WHERE quality_checks.visit_id = hand_backs.visit_id AND quality_checks.passed)
FROM hand_backs JOIN visits ON visits.id = hand_backs.visit_id
ORDER BY hand_backs.handed_back_at
"""


def upgrade() -> None:
    op.create_table(
        "handed_back_jobs",
        sa.Column("visit_id", sa.String(length=36), nullable=False),
        sa.Column("handed_back_at", UTC_TIME, nullable=False),
        sa.Column("advisor_user_id", sa.Integer(), nullable=True),
        sa.Column("vehicle_id", sa.String(length=36), nullable=False),
        sa.Column("promised_at", UTC_TIME, nullable=True),
        sa.Column("ready_at", UTC_TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_handed_back_jobs_visit_id_visits")
        ),
        sa.ForeignKeyConstraint(
            ["advisor_user_id"],
            ["users.id"],
            name=op.f("fk_handed_back_jobs_advisor_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["vehicle_id"], ["vehicles.id"], name=op.f("fk_handed_back_jobs_vehicle_id_vehicles")
        ),
        sa.PrimaryKeyConstraint("visit_id", name=op.f("pk_handed_back_jobs")),
    )
    op.execute(BACKFILL)
    op.create_index(
        "ix_handed_back_jobs_month",
        "handed_back_jobs",
        ["handed_back_at", "advisor_user_id", "promised_at", "ready_at", "vehicle_id", "visit_id"],
    )
    op.create_index("ix_visits_vehicle_checked_in", "visits", ["vehicle_id", "checked_in_at"])
    op.create_index(
        "ix_surveys_answers",
        "surveys",
        ["answered_at", "overall", "advisor_score", "work_score", "recommend"],
    )
    op.drop_index("ix_surveys_answered_at", table_name="surveys")  # the new one begins with it
    # The planner's figures for the new table at once (not at the next automatic run).
    op.execute("ANALYZE handed_back_jobs")


def downgrade() -> None:
    op.create_index("ix_surveys_answered_at", "surveys", ["answered_at"])
    op.drop_index("ix_surveys_answers", table_name="surveys")
    op.drop_index("ix_visits_vehicle_checked_in", table_name="visits")
    op.drop_index("ix_handed_back_jobs_month", table_name="handed_back_jobs")
    op.drop_table("handed_back_jobs")
