"""Tables of the complaints area: each case, its steps, the categories and root causes
(names in both languages) and the deadline settings row.

Times are stored in UTC; pages show them on the shop's clock. A missed deadline is
written down when it is missed (``*_missed_at``) and never cleared, reopen or not.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sync_server.table_base import Base, utcnow


class ComplaintSettings(Base):
    """The one row of deadline targets, in business minutes over the shop's calendar."""

    __tablename__ = "complaint_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_response_minutes: Mapped[int] = mapped_column(default=30)
    resolution_minutes: Mapped[int] = mapped_column(default=16 * 60)
    # Where an overdue case is escalated to (the manager's e-mail); empty: nobody yet.
    escalation_email: Mapped[str] = mapped_column(String(254), default="", server_default="")


class ComplaintLabel(Base):
    """A category (``kind='category'``) or a root cause (``kind='root_cause'``)."""

    __tablename__ = "complaint_labels"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    name_en: Mapped[str] = mapped_column(String(80))
    name_zh: Mapped[str] = mapped_column(String(80))
    active: Mapped[bool] = mapped_column(default=True)


class ComplaintCase(Base):
    __tablename__ = "complaint_cases"
    __table_args__ = (
        Index("ix_complaint_cases_state", "state", "received_at"),
        # The reports read cases by the month they were received in.
        Index("ix_complaint_cases_received_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    visit_id: Mapped[str | None] = mapped_column(ForeignKey("visits.id"), index=True)
    channel: Mapped[str] = mapped_column(String(12))
    summary: Mapped[str] = mapped_column(Text)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("complaint_labels.id"))
    root_cause_id: Mapped[int | None] = mapped_column(ForeignKey("complaint_labels.id"))
    state: Mapped[str] = mapped_column(String(20), default="received")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    # First response: due in business time from receipt, met by the acknowledgement.
    first_response_due: Mapped[datetime]
    first_responded_at: Mapped[datetime | None]
    first_response_missed_at: Mapped[datetime | None]
    # Resolution: counted from receipt (or the last reopen), met by the customer's word.
    resolution_started_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolution_due: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    resolution_missed_at: Mapped[datetime | None]
    # When the manager was told of each missed deadline (once per missed deadline).
    first_response_escalated_at: Mapped[datetime | None]
    resolution_escalated_at: Mapped[datetime | None]
    # Waiting for the customer: the clocks stand still from this moment.
    waiting_since: Mapped[datetime | None]
    paused_seconds: Mapped[int] = mapped_column(default=0)
    # None: opened by the system (a survey's hot alert, the customer's status page).
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ComplaintStep(Base):
    """One step of a case: what was done, by whom, when, with the notes."""

    __tablename__ = "complaint_steps"
    __table_args__ = (Index("ix_complaint_steps_case", "case_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("complaint_cases.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(20))
    state_after: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the system
    at: Mapped[datetime] = mapped_column(default=utcnow)
    notes: Mapped[str] = mapped_column(Text, default="")
