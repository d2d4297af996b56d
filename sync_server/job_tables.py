"""Tables of the background work: the lease of each scheduled job (so that one server
process runs it at a time, once per due time, across every process on the database),
and each attempt at sending a message to a customer (when, by whom, and what came of
it)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from sync_server.table_base import Base, utcnow


class JobLease(Base):
    """One scheduled job (``sync_server.jobs``): who holds it until when, and when it is
    next due. A process runs the job only while it holds an unexpired lease; a process
    that died mid-run loses it when ``until`` passes."""

    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    holder: Mapped[str] = mapped_column(String(80), default="")
    until: Mapped[datetime | None]
    next_run_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_started_at: Mapped[datetime | None]
    last_finished_at: Mapped[datetime | None]
    last_outcome: Mapped[str] = mapped_column(String(400), default="")


class MessageAttempt(Base):
    """One try at handing a message to its mail server or SMS gateway.

    ``outcome`` is ``sending`` while it runs, then ``sent``, ``error``, ``timeout`` (the
    relay took the message but answered late: it may have gone; the retry carries the
    same Message-ID), ``no_gateway``, or ``interrupted`` (the process died mid-send and
    its lease ran out; another process took the message again).
    """

    __tablename__ = "message_attempts"
    __table_args__ = (Index("ix_message_attempts_message", "message_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("outbound_messages.id"))
    holder: Mapped[str] = mapped_column(String(80), default="")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(20), default="sending")
    detail: Mapped[str] = mapped_column(String(400), default="")
