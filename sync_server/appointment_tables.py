"""Tables of appointment planning: the shop's bays, technicians' absences, each
appointment's plan (bay, technician, speciality, VIP) and the slot claims that make a
double booking impossible.

A booking claims every half-hour slot it covers, once for its bay and once for its
technician, as rows of ``appointment_slot_claims`` whose primary key is the resource and
the slot: two bookings of one bay or one technician in one slot cannot both be written,
whatever the two sessions saw before — the database refuses the second (on SQLite and on
PostgreSQL alike). Moving a booking gives its claims back and claims the new slots in one
transaction; cancelling gives them back.
"""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sync_server.table_base import Base, utcnow


class ServiceBay(Base):
    """A lift or bay a car is worked on in."""

    __tablename__ = "service_bays"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    active: Mapped[bool] = mapped_column(default=True)


class TechnicianAbsence(Base):
    """Days a technician is not at work (leave, sick, training), first to last inclusive."""

    __tablename__ = "technician_absences"
    __table_args__ = (Index("ix_technician_absences_day", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    technician_id: Mapped[int] = mapped_column(ForeignKey("technicians.id"))
    # The column keeps its first name ("day"): absences were single days before 0012.
    first_day: Mapped[date] = mapped_column("day")
    last_day: Mapped[date]
    reason: Mapped[str] = mapped_column(String(120), default="")
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class TechnicianHours(Base):
    """A technician's working hours on one weekday (Monday = 0). A technician without
    any rows works the shop's opening hours; with rows, only the weekdays listed."""

    __tablename__ = "technician_hours"

    technician_id: Mapped[int] = mapped_column(ForeignKey("technicians.id"), primary_key=True)
    weekday: Mapped[int] = mapped_column(primary_key=True)
    starts: Mapped[time]
    ends: Mapped[time]


class AppointmentSettings(Base):
    """The shop's capacity rules, one row, edited by managers on the capacity page."""

    __tablename__ = "appointment_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Percent of a day's technician-hours kept for VIPs until the cut-off before the day.
    vip_share_percent: Mapped[int] = mapped_column(default=20)
    vip_cutoff_hours: Mapped[int] = mapped_column(default=24)
    # A booked customer not arrived this long after their time is marked a no-show.
    no_show_grace_minutes: Mapped[int] = mapped_column(default=30)
    # ISO 3166 country whose public holidays close the shop ("CN": with 调休 days).
    holiday_country: Mapped[str] = mapped_column(String(2), default="CN")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class AppointmentPlan(Base):
    """What the desk planned for an appointment: bay, technician, work and its state."""

    __tablename__ = "appointment_plans"
    __table_args__ = (
        Index("ix_appointment_plans_starts_at", "starts_at"),
        # A bay's or technician's bookings (may it be deleted, retired; who it hits).
        Index("ix_appointment_plans_bay_id", "bay_id"),
        Index("ix_appointment_plans_technician_id", "technician_id"),
    )

    appointment_id: Mapped[str] = mapped_column(ForeignKey("appointments.id"), primary_key=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    bay_id: Mapped[int | None] = mapped_column(ForeignKey("service_bays.id"))
    technician_id: Mapped[int | None] = mapped_column(ForeignKey("technicians.id"))
    speciality: Mapped[str] = mapped_column(String(40), default="")
    vip: Mapped[bool] = mapped_column(default=False)
    # Raised on every change the customer is told about (the invite's SEQUENCE).
    sequence: Mapped[int] = mapped_column(default=0)
    state: Mapped[str] = mapped_column(String(12), default="booked")
    no_show_at: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(Text, default="")
    # The day-before reminder queued for the booking as it stands (cleared by a move).
    reminder_message_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_messages.id"))
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AppointmentSlotClaim(Base):
    """One half-hour slot of one bay (``bay:<id>``) or technician (``tech:<id>``)."""

    __tablename__ = "appointment_slot_claims"

    resource: Mapped[str] = mapped_column(String(24), primary_key=True)
    slot_start: Mapped[datetime] = mapped_column(primary_key=True)
    appointment_id: Mapped[str] = mapped_column(ForeignKey("appointments.id"), index=True)


class OutboundAttachment(Base):
    """A file sent with an outbox e-mail (an appointment's invite and QR code), made when
    the message was queued, so a retry sends exactly what was queued."""

    __tablename__ = "outbound_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("outbound_messages.id"), index=True)
    filename: Mapped[str] = mapped_column(String(80))
    content_type: Mapped[str] = mapped_column(String(80))
    content: Mapped[bytes] = mapped_column(LargeBinary)
