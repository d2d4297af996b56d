"""The sync engine's own tables: the synced state of every record (the typed tables are
projections of it), the sequence counter of the changes feed, the changes applied, the
values that lost a race, the photos by content hash, which life of the feed is running,
and the kiosk's offline look-ups of appointments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from sync_server.table_base import Base, JsonType, utcnow


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
    origin: Mapped[str] = mapped_column(String(36))  # no index: no query reads by it
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
