"""Tables of the follow-up area: reminder settings, the maintenance intervals per service
type, each car's next due date per service type and its open declined work (``CarDue``),
the contact log (every marketing contact: customer, kind, time, reason), opt-outs
(time and source) and the appointment requests customers send from a reminder's link.

Times are stored in UTC; the rules think in the shop's time zone.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sync_server.table_base import Base, JsonType, utcnow


class FollowUpSettings(Base):
    """The one row of reminder rules: the contact budget, quiet hours, how far ahead."""

    __tablename__ = "follow_up_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    # At most ``budget_count`` marketing messages to one customer in ``budget_days`` days.
    budget_count: Mapped[int] = mapped_column(default=1)
    budget_days: Mapped[int] = mapped_column(default=7)
    # Quiet hours, shop time, "HH:MM"; across midnight when ``quiet_from`` > ``quiet_until``.
    quiet_from: Mapped[str] = mapped_column(String(5), default="21:00")
    quiet_until: Mapped[str] = mapped_column(String(5), default="09:00")
    # A reminder goes this many days before the work falls due.
    lead_days: Mapped[int] = mapped_column(default=7)
    # Work overdue by more than this is no longer reminded of (the car went elsewhere).
    overdue_days: Mapped[int] = mapped_column(default=60)
    birthday_greetings: Mapped[bool] = mapped_column(default=True)
    holiday_greetings: Mapped[bool] = mapped_column(default=True)
    deferred_reminders: Mapped[bool] = mapped_column(default=True)
    # Set when the service intervals change: every car's due dates are to be worked out
    # again (by the ``cars_due`` job, or by the next reminders run, whichever is first).
    cars_due_stale_since: Mapped[datetime | None]


class ServiceInterval(Base):
    """A service type and how often it falls due: every ``months`` or every ``km``,
    whichever comes first. A visit handed back with one of ``concern_codes`` did it."""

    __tablename__ = "follow_up_intervals"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_type: Mapped[str] = mapped_column(String(40), unique=True)
    name_en: Mapped[str] = mapped_column(String(80))
    name_zh: Mapped[str] = mapped_column(String(80))
    concern_codes: Mapped[list[str]] = mapped_column(JsonType, default=list)
    months: Mapped[int | None]
    km: Mapped[int | None]
    # The desk's job preset the booking link fills in (sync_server.appointments.presets).
    preset: Mapped[str] = mapped_column(String(40), default="")
    active: Mapped[bool] = mapped_column(default=True)


class CarDue(Base):
    """When a car next falls due for a service type, or for work declined at a visit, and
    why — worked out when its history changes (``sync_server.follow_up.cars_due``), read
    by the reminders' run and the forward load instead of every car's history.

    ``kind`` maintenance: ``subject`` is the service type, ``by`` "date" or "mileage"
    (projected from the car's own kilometres per day). ``kind`` deferred: ``subject`` is
    the declined quote line, ``by`` its urgency (red, yellow, green)."""

    __tablename__ = "follow_up_cars_due"
    __table_args__ = (
        UniqueConstraint("vehicle_id", "kind", "subject", name="uq_follow_up_cars_due_subject"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vehicle_id: Mapped[str] = mapped_column(ForeignKey("vehicles.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(80))
    due_on: Mapped[date] = mapped_column(Date, index=True)
    by: Mapped[str] = mapped_column(String(10))
    # Why, as the message in the shop's words and its values (each reader's language).
    reason: Mapped[str] = mapped_column(Text, default="")
    reason_params: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    # The work (what a booking fills in) in English and in Chinese, the desk's job preset
    # and the hours it is estimated at (the preset's, or the declined labour line's).
    work: Mapped[str] = mapped_column(String(200), default="")
    work_zh: Mapped[str] = mapped_column(String(200), default="")
    preset: Mapped[str] = mapped_column(String(40), default="")
    hours: Mapped[float | None]
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class CarTouched(Base):
    """A car whose history changed since its due dates were worked out: noted in the
    changing transaction (cheap), worked out by the ``cars_due`` job within seconds, or
    first thing by the reminders' run."""

    __tablename__ = "follow_up_cars_touched"

    vehicle_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    touched_at: Mapped[datetime] = mapped_column(default=utcnow)


class FollowUpContact(Base):
    """One marketing contact with a customer: what kind, why, when. ``contact_key`` is
    unique per customer, kind, subject and due date, so no run sends it twice."""

    __tablename__ = "follow_up_contacts"
    __table_args__ = (Index("ix_follow_up_contacts_customer", "customer_id", "planned_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_key: Mapped[str] = mapped_column(String(160), unique=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    vehicle_id: Mapped[str | None] = mapped_column(ForeignKey("vehicles.id"))
    # maintenance, deferred, birthday, holiday
    kind: Mapped[str] = mapped_column(String(20))
    # Why, as the message in the shop's words and its values (shown in each reader's
    # language): "by mileage: {km} km after the last service …".
    reason: Mapped[str] = mapped_column(Text, default="")
    reason_params: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    # The work (what the booking link fills in), in English and in Chinese.
    work: Mapped[str] = mapped_column(String(200), default="")
    work_zh: Mapped[str] = mapped_column(String(200), default="")
    due_on: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(10))
    language: Mapped[str] = mapped_column(String(10))
    planned_at: Mapped[datetime] = mapped_column(default=utcnow)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_messages.id"), index=True)
    # The customer's secret for the opt-out and booking links of this contact.
    token: Mapped[str] = mapped_column(String(43), unique=True)


class FollowUpOptOut(Base):
    """A customer's "no more reminders": when, and how it reached us."""

    __tablename__ = "follow_up_opt_outs"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # email_one_click, email_link, sms_reply, sms_link, desk
    source: Mapped[str] = mapped_column(String(20))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("follow_up_contacts.id"))
    detail: Mapped[str] = mapped_column(String(200), default="")


class BookingRequest(Base):
    """An appointment request sent from a reminder's link, for the desk to book."""

    __tablename__ = "follow_up_booking_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("follow_up_contacts.id"), index=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    vehicle_id: Mapped[str | None] = mapped_column(ForeignKey("vehicles.id"))
    work: Mapped[str] = mapped_column(Text)
    preferred_day: Mapped[date] = mapped_column(Date)
    part_of_day: Mapped[str] = mapped_column(String(10))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    handled_at: Mapped[datetime | None]
