"""Typed tables of the work records a visit leaves behind besides its diagnosis
(``sync_server/diagnoses.py``): each quality check with its checklist answers, and the
hand-back with the odometer out, the work done and the parts replaced; and the shop's
quality checklists, set on the manager's settings page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sync_server.table_base import Base, JsonType, utcnow


class QualityCheck(Base):
    """One quality check (质检) of a visit's work: the checklist of its job type with each
    item's answer, who checked, passed or failed, and the notes (the reason, when failed)."""

    __tablename__ = "quality_checks"
    __table_args__ = (Index("ix_quality_checks_visit_id", "visit_id", "checked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id"))
    job_type: Mapped[str] = mapped_column(String(40))
    # [{"item": key, "label_en": ..., "label_zh": ..., "ok": bool}], as shown when checked.
    items: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    passed: Mapped[bool]
    notes: Mapped[str] = mapped_column(Text, default="")
    checked_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)


class HandBack(Base):
    """The car handed back (交车): odometer out, what was done, parts replaced."""

    __tablename__ = "hand_backs"
    # The month's hand-backs (the survey job, the service star): by time (migration 0016).
    __table_args__ = (Index("ix_hand_backs_handed_back_at", "handed_back_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id"), unique=True)
    odometer_out_km: Mapped[int]
    work_done: Mapped[str] = mapped_column(Text)
    # [{"part_number": ..., "description": ..., "quantity": "1"}]
    parts_replaced: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    handed_back_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    handed_back_at: Mapped[datetime] = mapped_column(default=utcnow)


class HandedBackJob(Base):
    """A visit handed back, as the service star counts it (``sync_server.surveys.figures``):
    who answered for it (the visit's advisor, else who handed the car back), the ready
    time the customer was promised, when its quality check last passed, and the car
    (whose later visits are its comebacks). Written with the hand-back, as things stood
    then, and brought up to date by a quality check recorded after it; the month's
    figures read them from one index range (``ix_handed_back_jobs_month`` covers every
    column they need) instead of a visit and its checks per job (migration 0025)."""

    __tablename__ = "handed_back_jobs"
    __table_args__ = (
        Index(
            "ix_handed_back_jobs_month",
            "handed_back_at",
            "advisor_user_id",
            "promised_at",
            "ready_at",
            "vehicle_id",
            "visit_id",
        ),
    )

    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id"), primary_key=True)
    handed_back_at: Mapped[datetime]
    advisor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    vehicle_id: Mapped[str] = mapped_column(ForeignKey("vehicles.id"))
    promised_at: Mapped[datetime | None]
    ready_at: Mapped[datetime | None]


class ChecklistItemRow(Base):
    """One item of the shop's quality checklist of a job type ("" for a job of no known
    type), in both languages, at its place in the list. A job type with no rows has the
    shop's default checklist (``sync_server.quality_checks.DEFAULT_CHECKLISTS``)."""

    __tablename__ = "quality_checklist_items"
    __table_args__ = (
        UniqueConstraint("job_type", "key", name="uq_quality_checklist_items_job_type_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_type: Mapped[str] = mapped_column(String(40))
    position: Mapped[int]
    # What a quality check records as ticked: stays when the words are edited.
    key: Mapped[str] = mapped_column(String(60))
    label_en: Mapped[str] = mapped_column(String(200))
    label_zh: Mapped[str] = mapped_column(String(200))
    changed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
