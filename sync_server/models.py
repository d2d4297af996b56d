"""The server's tables, as SQLAlchemy 2 typed models.

Records that devices create (customers, vehicles, visits, ...) carry the UUID the device
gave them, so a record has the same id on every node. People and devices, which only
the server creates, have integer ids. Every time is stored as UTC and read back
timezone-aware, on SQLite as on PostgreSQL.
"""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy import Enum as SqlEnum
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from shared.domain import AppointmentChannel, ContactChannel, CustomerTier, PlateRegion
from shared.shop_time import server_timezone_name
from shared.visit_status import VisitStatus

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; the server stores UTC-aware times only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# JSON documents: ``jsonb`` on PostgreSQL (binary, indexable), JSON text on SQLite.
JsonType = JSON().with_variant(JSONB(), "postgresql")


def _enum(
    enum_class: type[enum.Enum], name: str, *, length: int = 20, constraint: bool = True
) -> SqlEnum:
    """A column of an enum's values. ``constraint=False`` for columns that were plain
    text before: the ORM refuses unknown values, and no table needs to be rebuilt."""
    return SqlEnum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=constraint,
        length=length,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012
        datetime: UTCDateTime(),
        dict[str, Any]: JsonType,
        list[str]: JsonType,
        list[Any]: JsonType,
    }


class UserRole(enum.StrEnum):
    ADVISOR = "advisor"
    MANAGER = "manager"


class DeviceRole(enum.StrEnum):
    KIOSK = "kiosk"
    TABLET = "tablet"


class Shop(Base):
    """The shop's own settings: a single row, edited by managers."""

    __tablename__ = "shop"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), default="Service Centre")
    plate_region: Mapped[str] = mapped_column(String(10), default="CN")
    phone_region: Mapped[str] = mapped_column(String(10), default="CN")
    # The one time zone every page, screen, message and sheet shows times in (stored
    # times stay UTC); a new shop starts with the server's own.
    timezone: Mapped[str] = mapped_column(String(64), default=server_timezone_name)
    default_language: Mapped[str] = mapped_column(String(10), default="zh_CN")
    address: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    # Days a customer keeps a tier after the rules stop giving it (sync_server.tiers).
    tier_grace_days: Mapped[int] = mapped_column(default=90, server_default="90")


class User(Base):
    """A back-office person: an advisor or a manager."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[UserRole] = mapped_column(_enum(UserRole, "user_role"))
    password_hash: Mapped[str] = mapped_column(String(255))
    pin_hash: Mapped[str | None] = mapped_column(String(255))
    # Tablet PIN tries in a row that were wrong, and until when the PIN is locked.
    pin_failures: Mapped[int] = mapped_column(default=0, server_default="0")
    pin_locked_until: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]


class Device(Base):
    """A paired kiosk or tablet. Only a hash of its token is kept."""

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[DeviceRole] = mapped_column(_enum(DeviceRole, "device_role"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    paired_at: Mapped[datetime] = mapped_column(default=utcnow)
    paired_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    last_seen_at: Mapped[datetime | None]
    last_seen_ip: Mapped[str | None] = mapped_column(String(45))
    revoked_at: Mapped[datetime | None]
    revoked_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class PairingCode(Base):
    """A short single-use code a manager issues so a device can pair itself."""

    __tablename__ = "pairing_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[DeviceRole] = mapped_column(_enum(DeviceRole, "pairing_role"))
    device_name: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    phone: Mapped[str] = mapped_column(String(20), default="", index=True)
    email: Mapped[str] = mapped_column(String(254), default="")
    preferred_channel: Mapped[ContactChannel] = mapped_column(
        _enum(ContactChannel, "contact_channel", length=10, constraint=False),
        default=ContactChannel.sms,
    )
    reminders_opt_in: Mapped[bool] = mapped_column(default=False)
    tier: Mapped[CustomerTier] = mapped_column(
        _enum(CustomerTier, "customer_tier", length=10, constraint=False),
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
        _enum(PlateRegion, "plate_region", length=10, constraint=False), default=PlateRegion.cn
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
        _enum(AppointmentChannel, "appointment_channel", length=12, constraint=False),
        default=AppointmentChannel.phone,
    )
    status: Mapped[str] = mapped_column(String(12), default="booked")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer: Mapped[Customer] = relationship()
    vehicle: Mapped[Vehicle] = relationship()


class Visit(Base):
    """One service visit, from check-in to delivery."""

    __tablename__ = "visits"
    __table_args__ = (Index("ix_visits_checked_in_at", "checked_in_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ticket_number: Mapped[str] = mapped_column(String(16))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    vehicle_id: Mapped[str] = mapped_column(ForeignKey("vehicles.id"), index=True)
    appointment_id: Mapped[str | None] = mapped_column(ForeignKey("appointments.id"))
    status: Mapped[VisitStatus] = mapped_column(
        _enum(VisitStatus, "visit_status", constraint=False),
        default=VisitStatus.checked_in,
        index=True,
    )
    concern_codes: Mapped[list[str]] = mapped_column(default=list)
    concern_text: Mapped[str] = mapped_column(Text, default="")
    mileage_in_km: Mapped[int | None] = mapped_column(Integer)
    contact_channel: Mapped[ContactChannel] = mapped_column(
        _enum(ContactChannel, "contact_channel", length=10, constraint=False),
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


class SyncRecord(Base):
    """The synced state of one record: its fields, the clock of each field, and its place
    in the changes feed. Typed tables (customers, visits, ...) are projections of it."""

    __tablename__ = "sync_records"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    clocks: Mapped[dict[str, Any]] = mapped_column(default=dict)
    seq: Mapped[int] = mapped_column(unique=True)
    created_by: Mapped[str] = mapped_column(String(36))
    updated_by: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SyncCounter(Base):
    """One row: the last sequence number given out. Taking the next one locks the row, so
    changes commit in sequence order and a reader of the feed never skips one."""

    __tablename__ = "sync_counter"

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


class AppliedChange(Base):
    """Every change the server has applied, by the id the device gave it, written in the
    same transaction as the change itself: a repeated push gets the same answer."""

    __tablename__ = "applied_changes"

    change_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    content_sha256: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[str] = mapped_column(String(36))
    origin: Mapped[str] = mapped_column(String(36), index=True)
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    applied_at: Mapped[datetime] = mapped_column(default=utcnow)


class FieldConflict(Base):
    """A value that lost a last-writer-wins race: kept, so the back office can see it."""

    __tablename__ = "field_conflicts"
    __table_args__ = (Index("ix_field_conflicts_record", "kind", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[str] = mapped_column(String(36))
    field: Mapped[str] = mapped_column(String(40))
    losing_value: Mapped[Any] = mapped_column(JsonType)
    losing_hlc: Mapped[str] = mapped_column(String(80))
    losing_origin: Mapped[str] = mapped_column(String(36))
    winning_value: Mapped[Any] = mapped_column(JsonType)
    winning_hlc: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class Blob(Base):
    """A photo or signature image, stored by its SHA-256 outside any web-served folder."""

    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(20))
    size_bytes: Mapped[int] = mapped_column()
    width: Mapped[int] = mapped_column()
    height: Mapped[int] = mapped_column()
    uploaded_by: Mapped[str] = mapped_column(String(36))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- the back office: quotes, approvals, technicians, messages to customers ----------


class QuoteRow(Base):
    """Read model of a synced ``quote`` record (one version of a visit's quote).

    ``sent_at`` is the desk's own mark, not part of the record: a version once sent to
    the customer is never edited again; a change makes the next version.
    """

    __tablename__ = "quotes"
    __table_args__ = (Index("ix_quotes_visit_version", "visit_id", "version"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    visit_id: Mapped[str] = mapped_column(String(36))
    version: Mapped[int] = mapped_column(default=1)
    option_label: Mapped[str] = mapped_column(String(120), default="")
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    notes: Mapped[str] = mapped_column(Text, default="")
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(9, 6), default=Decimal("0.13"))
    # The quote's own arithmetic (``Quote.totals()``: the lines every option shares).
    subtotal: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    discount_total: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    tax: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    sent_at: Mapped[datetime | None]
    sent_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ApprovalRow(Base):
    """Read model of a synced ``approval`` record: the customer's yes, line by line, and
    the option they chose."""

    __tablename__ = "approvals"
    __table_args__ = (
        Index("ix_approvals_quote", "quote_id", "quote_version"),
        Index("ix_approvals_approved_at", "approved_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    quote_id: Mapped[str] = mapped_column(String(36))
    quote_version: Mapped[int] = mapped_column()
    # The option the customer chose, for a quote with options (None: none, or no options).
    option_id: Mapped[str | None] = mapped_column(String(36))
    signature_id: Mapped[str] = mapped_column(String(36))
    approved_at: Mapped[datetime] = mapped_column(default=utcnow)
    ip_address: Mapped[str] = mapped_column(String(45), default="")
    user_agent: Mapped[str] = mapped_column(String(400), default="")
    # What the customer agreed to pay, tax included (``Approval.approved_total``); None
    # while the approved quote version is not on the server.
    approved_total: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))


class Technician(Base):
    """A technician work is dispatched to, by speciality (engine, brakes, body, ...)."""

    __tablename__ = "technicians"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    specialities: Mapped[list[str]] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(default=True)


class JobAssignment(Base):
    """Which technician a visit's work was dispatched to (the latest row counts), or the
    desk's explicit "any technician" (``technician_id`` empty, ``any_technician`` set),
    and the job type (speciality) it was dispatched as."""

    __tablename__ = "job_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id"), index=True)
    technician_id: Mapped[int | None] = mapped_column(ForeignKey("technicians.id"))
    any_technician: Mapped[bool] = mapped_column(default=False, server_default=false())
    speciality: Mapped[str] = mapped_column(String(40), default="", server_default="")
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
    assigned_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


MESSAGE_ID_DOMAIN = "service-lane.checkin"


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


def new_email_message_id(context: Any = None) -> str:
    """``<key@domain>``, made from the row's idempotency key when it has one."""
    key = None
    if context is not None:
        key = context.get_current_parameters().get("idempotency_key")
    return f"<{key or new_idempotency_key()}@{MESSAGE_ID_DOMAIN}>"


class OutboundMessage(Base):
    """A message to a customer, written in the same transaction as the step it tells
    about, and sent later by the sender loop with retries (a durable outbox)."""

    __tablename__ = "outbound_messages"
    __table_args__ = (
        Index("ix_outbound_messages_due", "state", "next_attempt_at"),
        # One message per visit, event and quote version: a desk step sent twice (a
        # double click, two server processes) cannot queue a second one.
        UniqueConstraint(
            "visit_id", "event", "quote_version", name="uq_outbound_messages_visit_event_quote"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[str | None] = mapped_column(String(36), index=True)
    event: Mapped[str] = mapped_column(String(30))
    # The visit's latest sent quote version when queued (0: none yet); None for messages
    # about no visit, and for duplicates queued before the key existed.
    quote_version: Mapped[int | None]
    channel: Mapped[str] = mapped_column(String(10))
    recipient: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str] = mapped_column(String(400), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    # Who made the call, for a call task (channel "call") marked done.
    handled_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Made with the row and kept for every retry, so that a message the relay took but
    # answered late is recognisable as the same one: the e-mail's Message-ID, and the
    # key an SMS gateway is given to drop a repeat.
    idempotency_key: Mapped[str] = mapped_column(String(32), default=new_idempotency_key)
    email_message_id: Mapped[str] = mapped_column(String(100), default=new_email_message_id)
    # The sender's lease: a process that claims the row sends it until ``claimed_until``;
    # after that (the process died mid-send) another takes it again.
    claimed_by: Mapped[str] = mapped_column(String(80), default="")
    claimed_until: Mapped[datetime | None]


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


# --- restores and the kiosk's offline look-ups ---------------------------------------


class ServerIdentity(Base):
    """One row: which server this is and which life of its changes feed is running.

    ``feed_epoch`` changes whenever the database is restored from a backup: a device
    that remembers another epoch knows the server may have forgotten what it sent and
    offers it again (docs/sync.md, "A server restored from a backup").
    """

    __tablename__ = "server_identity"

    id: Mapped[int] = mapped_column(primary_key=True)
    server_id: Mapped[str] = mapped_column(String(36))
    feed_epoch: Mapped[str] = mapped_column(String(36))
    epoch_started_at: Mapped[datetime] = mapped_column(default=utcnow)
    restored_from: Mapped[str] = mapped_column(String(200), default="")


class AppointmentLookup(Base):
    """The slow salted hashes a kiosk gets for one appointment (``shared.lookup``).

    Made once per appointment (they cost CPU on purpose) and again only when its
    phone, plate or code changed: ``inputs_sha256`` says what they were made from.
    """

    __tablename__ = "appointment_lookups"

    appointment_id: Mapped[str] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"), primary_key=True
    )
    scheme: Mapped[str] = mapped_column(String(20))
    inputs_sha256: Mapped[str] = mapped_column(String(64))
    salt: Mapped[str] = mapped_column(String(64))
    phone_hash: Mapped[str] = mapped_column(String(64))
    plate_hash: Mapped[str] = mapped_column(String(64))
    code_hash: Mapped[str] = mapped_column(String(64))
    made_at: Mapped[datetime] = mapped_column(default=utcnow)


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
