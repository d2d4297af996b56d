"""Tables of the satisfaction survey sent after the hand-back: the settings row, one survey
per visit (its link, when it goes out, the customer's one answer), the technicians and job
lines the answer is about, and the call-back task a low answer opens.

Times are stored in UTC; pages and reports put them in the shop's months and hours. The
visit is unique in ``surveys``: two processes running the survey job cannot both make one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sync_server.table_base import Base, utcnow


class SurveySettings(Base):
    """The one row of the shop's survey settings."""

    __tablename__ = "survey_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The survey goes out this many days after the hand-back, at this shop time
    # (minutes after midnight); default the next evening at 19:00.
    send_after_days: Mapped[int] = mapped_column(default=1)
    send_at_minute: Mapped[int] = mapped_column(default=19 * 60)
    # A hot alert: any 1–5 score at or below this, or would-recommend at or below this.
    hot_score_max: Mapped[int] = mapped_column(default=2)
    hot_recommend_max: Mapped[int] = mapped_column(default=6)
    callback_business_hours: Mapped[int] = mapped_column(default=24)
    # Where a hot alert is e-mailed (the manager's address); empty: the list only.
    manager_email: Mapped[str] = mapped_column(String(254), default="")
    # The service star: surveys an advisor needs in the month to be ranked.
    star_min_surveys: Mapped[int] = mapped_column(default=5)
    comeback_days: Mapped[int] = mapped_column(default=30)


class Survey(Base):
    """One visit's survey: the link sent after the hand-back and the customer's answer."""

    __tablename__ = "surveys"
    __table_args__ = (
        # The answers by time with their scores: satisfaction by month reads only this
        # index (migration 0025).
        Index(
            "ix_surveys_answers",
            "answered_at",
            "overall",
            "advisor_score",
            "work_score",
            "recommend",
        ),
        Index("ix_surveys_advisor_answered", "advisor_user_id", "answered_at"),
        Index("ix_surveys_due", "queued_at", "send_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id"), unique=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    advisor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    token: Mapped[str] = mapped_column(String(43), unique=True)
    language: Mapped[str] = mapped_column(String(10))
    handed_back_at: Mapped[datetime]
    send_at: Mapped[datetime]
    # The link queued in the outbox (None: not yet, or no way to reach the customer).
    queued_at: Mapped[datetime | None]
    message_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_messages.id"))
    answered_at: Mapped[datetime | None]
    overall: Mapped[int | None]
    advisor_score: Mapped[int | None]
    work_score: Mapped[int | None]
    recommend: Mapped[int | None]  # 0–10
    comment: Mapped[str] = mapped_column(Text, default="")
    hot: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # How the answer came: "link" (the customer, by the survey link) or "phone" (entered
    # by a member of staff on the customer's behalf, on a call: ``answered_by_user_id``).
    answered_via: Mapped[str] = mapped_column(String(10), default="link", server_default="link")
    answered_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class SurveyTechnician(Base):
    """A technician who worked on the surveyed visit (from its job assignments)."""

    __tablename__ = "survey_technicians"

    survey_id: Mapped[int] = mapped_column(
        ForeignKey("surveys.id", ondelete="CASCADE"), primary_key=True
    )
    technician_id: Mapped[int] = mapped_column(ForeignKey("technicians.id"), primary_key=True)


class SurveyJobLine(Base):
    """A job line the customer approved on the surveyed visit, as it read then."""

    __tablename__ = "survey_job_lines"
    __table_args__ = (Index("ix_survey_job_lines_survey", "survey_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    line_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(12))
    description: Mapped[str] = mapped_column(Text)


class SurveyCallback(Base):
    """A call-back about a survey, due within business hours, done with notes: the one a
    hot alert opens (``reason`` "hot_alert"), or the survey itself asked on the phone for
    a customer who prefers a call or has no e-mail or mobile ("survey_by_phone")."""

    __tablename__ = "survey_callbacks"
    __table_args__ = (Index("ix_survey_callbacks_open", "done_at", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), unique=True)
    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id"))
    advisor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    complaint_case_id: Mapped[int | None] = mapped_column(ForeignKey("complaint_cases.id"))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    done_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    notes: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(String(20), default="hot_alert", server_default="hot_alert")
