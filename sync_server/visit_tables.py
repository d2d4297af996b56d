"""The customers, their vehicles, the appointments they book and the visits they make,
with what is kept beside them: each change of a customer's contact details, and a
manager's word that a visit's walk-around is done without one signed on the tablet."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.domain import AppointmentChannel, ContactChannel, CustomerTier, PlateRegion
from shared.visit_status import VisitStatus
from sync_server.table_base import Base, enum_column, utcnow


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    phone: Mapped[str] = mapped_column(String(20), default="", index=True)
    email: Mapped[str] = mapped_column(String(254), default="")
    preferred_channel: Mapped[ContactChannel] = mapped_column(
        enum_column(ContactChannel, "contact_channel", length=10, constraint=False),
        default=ContactChannel.sms,
    )
    reminders_opt_in: Mapped[bool] = mapped_column(default=False)
    tier: Mapped[CustomerTier] = mapped_column(
        enum_column(CustomerTier, "customer_tier", length=10, constraint=False),
        default=CustomerTier.regular,
    )
    birthday: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    # The language of the customer's latest consent (chosen at the kiosk): what messages
    # to them are written in. None until they gave one.
    language: Mapped[str | None] = mapped_column(String(10))
    # The phone's last four digits, for the board's search ("5605"); see sync_server.search.
    phone_last4: Mapped[str] = mapped_column(String(4), default="", index=True)
    # A VIP (the appointment's VIP line, priority on the board and the tablet): set by a
    # manager with a reason, or by the tier rules; the server's alone, never a device's.
    vip: Mapped[bool] = mapped_column(default=False, server_default=false())
    vip_reason: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # A duplicate merged into another customer: kept, with everything moved to that one.
    merged_into_id: Mapped[str | None] = mapped_column(String(36), index=True)
    merged_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    vehicles: Mapped[list[Vehicle]] = relationship(back_populates="customer")


class Vehicle(Base):
    __tablename__ = "vehicles"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    plate: Mapped[str] = mapped_column(String(16), default="", index=True)
    plate_region: Mapped[PlateRegion] = mapped_column(
        enum_column(PlateRegion, "plate_region", length=10, constraint=False),
        default=PlateRegion.cn,
    )
    vin: Mapped[str] = mapped_column(String(17), default="", index=True)
    make: Mapped[str] = mapped_column(String(60), default="")
    model: Mapped[str] = mapped_column(String(60), default="")
    year: Mapped[int | None] = mapped_column(Integer)
    purchase_date: Mapped[date | None] = mapped_column(Date)
    last_mileage_km: Mapped[int | None] = mapped_column(Integer)
    # What advisors type, normalised for the board's search (sync_server.search): the
    # plate without its province character ("A3N2P8"), the model in lower case.
    plate_search: Mapped[str] = mapped_column(String(16), default="", index=True)
    model_search: Mapped[str] = mapped_column(String(60), default="", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="vehicles")


class Appointment(Base):
    """A booked visit; the kiosk finds it by code, phone or plate on the day."""

    __tablename__ = "appointments"
    __table_args__ = (Index("ix_appointments_expected_arrival", "expected_arrival"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    vehicle_id: Mapped[str] = mapped_column(ForeignKey("vehicles.id"), index=True)
    expected_arrival: Mapped[datetime]
    requested_work: Mapped[str] = mapped_column(Text, default="")
    concern_codes: Mapped[list[str]] = mapped_column(default=list)
    expected_duration_minutes: Mapped[int] = mapped_column(default=60)
    channel: Mapped[AppointmentChannel] = mapped_column(
        enum_column(AppointmentChannel, "appointment_channel", length=12, constraint=False),
        default=AppointmentChannel.phone,
    )
    status: Mapped[str] = mapped_column(String(12), default="booked")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer: Mapped[Customer] = relationship()
    vehicle: Mapped[Vehicle] = relationship()


class Visit(Base):
    """One service visit, from check-in to delivery."""

    __tablename__ = "visits"
    __table_args__ = (
        Index("ix_visits_checked_in_at", "checked_in_at"),
        # A car's visits by check-in: the service star's comebacks, read from the index
        # without each visit's row (migration 0025).
        Index("ix_visits_vehicle_checked_in", "vehicle_id", "checked_in_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ticket_number: Mapped[str] = mapped_column(String(16))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    vehicle_id: Mapped[str] = mapped_column(ForeignKey("vehicles.id"), index=True)
    appointment_id: Mapped[str | None] = mapped_column(ForeignKey("appointments.id"))
    status: Mapped[VisitStatus] = mapped_column(
        enum_column(VisitStatus, "visit_status", constraint=False),
        default=VisitStatus.checked_in,
        index=True,
    )
    concern_codes: Mapped[list[str]] = mapped_column(default=list)
    concern_text: Mapped[str] = mapped_column(Text, default="")
    mileage_in_km: Mapped[int | None] = mapped_column(Integer)
    contact_channel: Mapped[ContactChannel] = mapped_column(
        enum_column(ContactChannel, "contact_channel", length=10, constraint=False),
        default=ContactChannel.sms,
    )
    reminders_opt_in: Mapped[bool] = mapped_column(default=False)
    checked_in_at: Mapped[datetime] = mapped_column(default=utcnow)
    checked_in_device_id: Mapped[str | None] = mapped_column(String(36))
    advisor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    expected_ready_at: Mapped[datetime | None]
    status_token: Mapped[str] = mapped_column(String(43), default="", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    customer: Mapped[Customer] = relationship()
    vehicle: Mapped[Vehicle] = relationship()


class CustomerContactChange(Base):
    """One change of a customer's name, phone, e-mail or preferred channel: when, what it
    was before, and who made it (a device by sync, or a person at the desk)."""

    __tablename__ = "customer_contact_changes"
    __table_args__ = (Index("ix_customer_contact_changes_customer", "customer_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # No foreign key: a change may arrive in the same sync batch as the customer's row.
    customer_id: Mapped[str] = mapped_column(String(36))
    field: Mapped[str] = mapped_column(String(20))
    old_value: Mapped[str] = mapped_column(String(254), default="")
    new_value: Mapped[str] = mapped_column(String(254), default="")
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # "device" (device_uid says which), "person" (user_id says who) or "server".
    source: Mapped[str] = mapped_column(String(10))
    device_uid: Mapped[str | None] = mapped_column(String(36))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class WalkaroundOverride(Base):
    """A manager's word that a visit's walk-around is done without a walk-around signed on
    the tablet (the tablet broke, the customer had to leave), with the reason given."""

    __tablename__ = "walkaround_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id"), index=True)
    manager_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# The typed tables of a visit's records, on the same metadata (Alembic sees them here).
from sync_server import (  # noqa: E402, F401
    appointment_tables,
    approval_month_tables,
    customer_file_tables,
    job_tables,
    record_tables,
    secret_tables,
    work_tables,
)
from sync_server.complaints import tables as complaint_tables  # noqa: E402, F401
from sync_server.follow_up import tables as follow_up_tables  # noqa: E402, F401
from sync_server.surveys import tables as survey_tables  # noqa: E402, F401
