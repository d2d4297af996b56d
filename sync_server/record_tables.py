"""Typed tables of the records a visit gathers: walk-arounds and their damage marks,
photos, signatures, consents, notes, and the lines, options and line decisions of quotes
and approvals.

Each is a projection of the synced records (``sync_server.sync.projections`` writes it in
the same transaction as the change); the back office reads these tables, never the sync
JSON. One row per record, keyed by the record's id; a quote's lines and options and an
approval's decisions are rows of their own, keyed by their parent and their own id
(a new quote version keeps the ids of the lines it carries over).

Foreign keys point at the visit, the quote and the approval. A damage mark's and a
photo's walk-around is indexed but not a foreign key: marks and photos are separate
records that may reach the server before (or without) their walk-around, and the server
keeps everything a device sent.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.domain import (
    DamageType,
    DiagramView,
    ImageType,
    LineDecision,
    QuoteLineKind,
    SignaturePurpose,
    Urgency,
)
from sync_server.table_base import Base, JsonType, enum_column

# Money as the till counts it, and the quantities a line is priced from (hours, rates,
# counts), which the quote editor takes with more places than cents.
MONEY = Numeric(12, 2)
QUANTITY = Numeric(18, 6)


class WalkaroundRow(Base):
    """A walk-around (环车检查): the check-in sheet's fields, belongings as columns."""

    __tablename__ = "walkarounds"
    __table_args__ = (Index("ix_walkarounds_visit_version", "visit_id", "version"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id"))
    version: Mapped[int] = mapped_column(default=1)
    odometer_km: Mapped[int | None]
    fuel_eighths: Mapped[int | None]
    warning_lights: Mapped[list[str]] = mapped_column(default=list)
    spare_wheel: Mapped[bool] = mapped_column(default=False)
    jack: Mapped[bool] = mapped_column(default=False)
    documents: Mapped[bool] = mapped_column(default=False)
    valuables: Mapped[bool] = mapped_column(default=False)
    child_seat: Mapped[bool] = mapped_column(default=False)
    keys_count: Mapped[int] = mapped_column(default=1)
    belongings_note: Mapped[str] = mapped_column(Text, default="")
    exterior_notes: Mapped[str] = mapped_column(Text, default="")
    interior_notes: Mapped[str] = mapped_column(Text, default="")
    tyre_tread_mm: Mapped[dict[str, Any]] = mapped_column(default=dict)


class DamageMarkRow(Base):
    """A damage mark on a drawing of the car; ``deleted`` is the record's tombstone."""

    __tablename__ = "damage_marks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    walkaround_id: Mapped[str] = mapped_column(String(36), index=True)
    view: Mapped[DiagramView] = mapped_column(enum_column(DiagramView, "diagram_view"))
    x: Mapped[float]
    y: Mapped[float]
    damage_type: Mapped[DamageType] = mapped_column(enum_column(DamageType, "damage_type"))
    severity: Mapped[int] = mapped_column(default=1)
    note: Mapped[str] = mapped_column(Text, default="")
    pins: Mapped[list[Any]] = mapped_column(JsonType, default=list)
    created_at: Mapped[datetime]
    deleted: Mapped[bool] = mapped_column(default=False)


class _ImageColumns:
    """A picture by content (``PhotoRef``), spelt out as columns."""

    image_sha256: Mapped[str | None] = mapped_column(String(64))
    image_size_bytes: Mapped[int | None]
    image_content_type: Mapped[ImageType | None] = mapped_column(
        enum_column(ImageType, "image_type")
    )
    image_width: Mapped[int | None]
    image_height: Mapped[int | None]


class VisitPhotoRow(_ImageColumns, Base):
    """A photo taken during a visit (of a walk-around, or of the visit alone)."""

    __tablename__ = "visit_photos"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id"), index=True)
    walkaround_id: Mapped[str | None] = mapped_column(String(36), index=True)
    caption: Mapped[str] = mapped_column(Text, default="")
    taken_at: Mapped[datetime]


class SignatureRow(_ImageColumns, Base):
    """A signature: what it confirms, the hash of what was signed, the strokes drawn."""

    __tablename__ = "signatures"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id"), index=True)
    purpose: Mapped[SignaturePurpose] = mapped_column(
        enum_column(SignaturePurpose, "signature_purpose")
    )
    strokes: Mapped[list[Any]] = mapped_column(JsonType, default=list)
    signed_sha256: Mapped[str] = mapped_column(String(64))
    signer_name: Mapped[str] = mapped_column(Text, default="")
    signed_at: Mapped[datetime]


class ConsentRow(Base):
    """The customer's consent to the use of their data, and the language they chose."""

    __tablename__ = "consents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id"), index=True)
    text_version: Mapped[str] = mapped_column(Text)
    text_sha256: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(10))
    accepted_at: Mapped[datetime]


class VisitNoteRow(Base):
    __tablename__ = "visit_notes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id"), index=True)
    text: Mapped[str] = mapped_column(Text)


class QuoteLineRow(Base):
    """One line of a quote version, in its place; ``amount`` from the line's arithmetic."""

    __tablename__ = "quote_lines"

    quote_id: Mapped[str] = mapped_column(ForeignKey("quotes.id"), primary_key=True)
    line_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    position: Mapped[int]
    kind: Mapped[QuoteLineKind] = mapped_column(enum_column(QuoteLineKind, "quote_line_kind"))
    description: Mapped[str] = mapped_column(Text)
    hours: Mapped[Decimal] = mapped_column(QUANTITY)
    labour_rate: Mapped[Decimal] = mapped_column(QUANTITY)
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    unit_price: Mapped[Decimal] = mapped_column(QUANTITY)
    part_number: Mapped[str] = mapped_column(Text, default="")
    urgency: Mapped[Urgency] = mapped_column(enum_column(Urgency, "urgency"))
    photo_sha256s: Mapped[list[str]] = mapped_column(default=list)
    option_id: Mapped[str | None] = mapped_column(String(36))
    amount: Mapped[Decimal] = mapped_column(MONEY)


class QuoteOptionRow(Base):
    """One option of a quote version, with the totals if the customer chose it."""

    __tablename__ = "quote_options"

    quote_id: Mapped[str] = mapped_column(ForeignKey("quotes.id"), primary_key=True)
    option_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    position: Mapped[int]
    label: Mapped[str] = mapped_column(Text)
    notes: Mapped[str] = mapped_column(Text, default="")
    subtotal: Mapped[Decimal] = mapped_column(MONEY)
    discount_total: Mapped[Decimal] = mapped_column(MONEY)
    tax: Mapped[Decimal] = mapped_column(MONEY)
    total: Mapped[Decimal] = mapped_column(MONEY)


class ApprovalDecisionRow(Base):
    """The customer's answer to one line of the quote version they approved."""

    __tablename__ = "approval_decisions"

    approval_id: Mapped[str] = mapped_column(ForeignKey("approvals.id"), primary_key=True)
    line_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    decision: Mapped[LineDecision] = mapped_column(enum_column(LineDecision, "line_decision"))


class ApprovalSafetyAcknowledgementRow(Base):
    """A safety (red) line the customer declined after confirming they understood the
    risk, kept with their approval."""

    __tablename__ = "approval_safety_acknowledgements"

    approval_id: Mapped[str] = mapped_column(ForeignKey("approvals.id"), primary_key=True)
    line_id: Mapped[str] = mapped_column(String(36), primary_key=True)
