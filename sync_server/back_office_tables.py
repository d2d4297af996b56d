"""The back office's tables: quotes and approvals as the desk reads them, technicians and
the work dispatched to them, and the messages to customers (a durable outbox)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from sync_server.table_base import Base, utcnow


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
