"""surveys: the satisfaction survey after the hand-back, its answer, call-backs, settings

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 05:00:00.000000

New tables, an index on ``hand_backs.handed_back_at``, and complaint cases and steps that the system opens (a survey's hot alert,
the customer's status page) have no user: ``created_by_user_id`` and the steps'
``user_id`` may be empty. A filled database keeps everything it has.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import sync_server.table_base

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

UTC_TIME = sync_server.table_base.UTCDateTime(timezone=True)


def upgrade() -> None:
    # The survey job and the service star read hand-backs by time.
    op.create_index(
        "ix_hand_backs_handed_back_at", "hand_backs", ["handed_back_at"], unique=False
    )
    with op.batch_alter_table("complaint_cases") as batch:
        batch.alter_column("created_by_user_id", existing_type=sa.Integer(), nullable=True)
    with op.batch_alter_table("complaint_steps") as batch:
        batch.alter_column("user_id", existing_type=sa.Integer(), nullable=True)
    op.create_table(
        "survey_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("send_after_days", sa.Integer(), nullable=False),
        sa.Column("send_at_minute", sa.Integer(), nullable=False),
        sa.Column("hot_score_max", sa.Integer(), nullable=False),
        sa.Column("hot_recommend_max", sa.Integer(), nullable=False),
        sa.Column("callback_business_hours", sa.Integer(), nullable=False),
        sa.Column("manager_email", sa.String(length=254), nullable=False),
        sa.Column("star_min_surveys", sa.Integer(), nullable=False),
        sa.Column("comeback_days", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_settings")),
    )
    settings = sa.table(
        "survey_settings",
        *(
            sa.column(name, sa.String() if name == "manager_email" else sa.Integer())
            for name in (
                "id",
                "send_after_days",
                "send_at_minute",
                "hot_score_max",
                "hot_recommend_max",
                "callback_business_hours",
                "manager_email",
                "star_min_surveys",
                "comeback_days",
            )
        ),
    )
    # The defaults: the next evening at 19:00; any score of 2 or less, or would-recommend
    # of 6 or less, is hot; 24 business hours to call back; 5 surveys for the star.
    op.bulk_insert(
        settings,
        [
            {
                "id": 1,
                "send_after_days": 1,
                "send_at_minute": 19 * 60,
                "hot_score_max": 2,
                "hot_recommend_max": 6,
                "callback_business_hours": 24,
                "manager_email": "",
                "star_min_surveys": 5,
                "comeback_days": 30,
            }
        ],
    )
    op.create_table(
        "surveys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.String(length=36), nullable=False),
        sa.Column("customer_id", sa.String(length=36), nullable=False),
        sa.Column("advisor_user_id", sa.Integer(), nullable=True),
        sa.Column("token", sa.String(length=43), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("handed_back_at", UTC_TIME, nullable=False),
        sa.Column("send_at", UTC_TIME, nullable=False),
        sa.Column("queued_at", UTC_TIME, nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("answered_at", UTC_TIME, nullable=True),
        sa.Column("overall", sa.Integer(), nullable=True),
        sa.Column("advisor_score", sa.Integer(), nullable=True),
        sa.Column("work_score", sa.Integer(), nullable=True),
        sa.Column("recommend", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("hot", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_surveys_visit_id_visits")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_surveys_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["advisor_user_id"], ["users.id"], name=op.f("fk_surveys_advisor_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["outbound_messages.id"],
            name=op.f("fk_surveys_message_id_outbound_messages"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveys")),
        sa.UniqueConstraint("visit_id", name=op.f("uq_surveys_visit_id")),
        sa.UniqueConstraint("token", name=op.f("uq_surveys_token")),
    )
    op.create_index(op.f("ix_surveys_customer_id"), "surveys", ["customer_id"], unique=False)
    op.create_index("ix_surveys_answered_at", "surveys", ["answered_at"], unique=False)
    op.create_index(
        "ix_surveys_advisor_answered", "surveys", ["advisor_user_id", "answered_at"], unique=False
    )
    op.create_index("ix_surveys_due", "surveys", ["queued_at", "send_at"], unique=False)
    op.create_table(
        "survey_technicians",
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("technician_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["surveys.id"],
            name=op.f("fk_survey_technicians_survey_id_surveys"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["technician_id"],
            ["technicians.id"],
            name=op.f("fk_survey_technicians_technician_id_technicians"),
        ),
        sa.PrimaryKeyConstraint("survey_id", "technician_id", name=op.f("pk_survey_technicians")),
    )
    op.create_table(
        "survey_job_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["surveys.id"],
            name=op.f("fk_survey_job_lines_survey_id_surveys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_job_lines")),
    )
    op.create_index("ix_survey_job_lines_survey", "survey_job_lines", ["survey_id"], unique=False)
    op.create_table(
        "survey_callbacks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.String(length=36), nullable=False),
        sa.Column("advisor_user_id", sa.Integer(), nullable=True),
        sa.Column("complaint_case_id", sa.Integer(), nullable=True),
        sa.Column("opened_at", UTC_TIME, nullable=False),
        sa.Column("due_at", UTC_TIME, nullable=False),
        sa.Column("done_at", UTC_TIME, nullable=True),
        sa.Column("done_by_user_id", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["surveys.id"], name=op.f("fk_survey_callbacks_survey_id_surveys")
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_survey_callbacks_visit_id_visits")
        ),
        sa.ForeignKeyConstraint(
            ["advisor_user_id"],
            ["users.id"],
            name=op.f("fk_survey_callbacks_advisor_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["complaint_case_id"],
            ["complaint_cases.id"],
            name=op.f("fk_survey_callbacks_complaint_case_id_complaint_cases"),
        ),
        sa.ForeignKeyConstraint(
            ["done_by_user_id"],
            ["users.id"],
            name=op.f("fk_survey_callbacks_done_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_callbacks")),
        sa.UniqueConstraint("survey_id", name=op.f("uq_survey_callbacks_survey_id")),
    )
    op.create_index(
        "ix_survey_callbacks_open", "survey_callbacks", ["done_at", "due_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_hand_backs_handed_back_at", table_name="hand_backs")
    op.drop_index("ix_survey_callbacks_open", table_name="survey_callbacks")
    op.drop_table("survey_callbacks")
    op.drop_index("ix_survey_job_lines_survey", table_name="survey_job_lines")
    op.drop_table("survey_job_lines")
    op.drop_table("survey_technicians")
    op.drop_index("ix_surveys_due", table_name="surveys")
    op.drop_index("ix_surveys_advisor_answered", table_name="surveys")
    op.drop_index("ix_surveys_answered_at", table_name="surveys")
    op.drop_index(op.f("ix_surveys_customer_id"), table_name="surveys")
    op.drop_table("surveys")
    op.drop_table("survey_settings")
    # Before 0016 every case and step had an author. A system step on a desk's case is
    # kept under the case's author; the cases the system opened (a survey's hot alert,
    # the status page: channels that came with 0016) go with the surveys.
    op.execute(
        "UPDATE complaint_steps SET user_id = (SELECT created_by_user_id FROM complaint_cases"
        " WHERE complaint_cases.id = complaint_steps.case_id) WHERE user_id IS NULL"
    )
    op.execute(
        "DELETE FROM complaint_steps WHERE user_id IS NULL OR case_id IN"
        " (SELECT id FROM complaint_cases WHERE created_by_user_id IS NULL)"
    )
    op.execute("DELETE FROM complaint_cases WHERE created_by_user_id IS NULL")
    with op.batch_alter_table("complaint_steps") as batch:
        batch.alter_column("user_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("complaint_cases") as batch:
        batch.alter_column("created_by_user_id", existing_type=sa.Integer(), nullable=False)
