"""Tables of the customer file and the vehicle health file: the advisor's diagnosis of a
visit, the merges of duplicate customers, the tier rules and each customer's tier.

``diagnoses`` is written by :func:`sync_server.customer_file.diagnoses.record_diagnosis`
(the visit workflow's diagnosis screen calls it); a visit may have several, the latest
counts and the earlier ones stay. ``customer_merges`` keeps what a merge moved; the
merged customer's row stays, marked ``merged_into_id``. ``customer_tier_rules`` are the
shop's thresholds (visits or spend over the last 12 months); ``customer_tiers`` is what
the nightly run and each hand-back last worked out, with the figures it was based on.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sync_server.table_base import Base, JsonType, utcnow


class Diagnosis(Base):
    """What the advisor (or technician) found on a visit, and the cause of the fault."""

    __tablename__ = "diagnoses"
    __table_args__ = (Index("ix_diagnoses_visit", "visit_id", "recorded_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id"))
    finding: Mapped[str] = mapped_column(Text)
    cause: Mapped[str] = mapped_column(Text, default="")
    # The language the words were written in ("en" or "zh_CN").
    language: Mapped[str] = mapped_column(String(10), default="zh_CN")
    recorded_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    technician_id: Mapped[int | None] = mapped_column(ForeignKey("technicians.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class CustomerMerge(Base):
    """One merge of a duplicate customer into the one that stays, and what moved."""

    __tablename__ = "customer_merges"

    id: Mapped[int] = mapped_column(primary_key=True)
    surviving_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    merged_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    merged_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    merged_at: Mapped[datetime] = mapped_column(default=utcnow)
    # How many rows of each kind moved, and their ids ({"visits": [...], ...}).
    moved: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)


class TierRule(Base):
    """A tier's thresholds: reached with ``min_visits`` handed-back visits or
    ``min_spend`` approved over the last 12 months (either is enough)."""

    __tablename__ = "customer_tier_rules"

    tier: Mapped[str] = mapped_column(String(10), primary_key=True)
    rank: Mapped[int] = mapped_column(unique=True)
    min_visits: Mapped[int] = mapped_column(default=0)
    min_spend: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))


class CustomerTierState(Base):
    """A customer's tier as last worked out, and why."""

    __tablename__ = "customer_tiers"

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    tier: Mapped[str] = mapped_column(String(10), default="regular")
    # What the rules give today; lower than ``tier`` while a downgrade waits out its grace.
    earned_tier: Mapped[str] = mapped_column(String(10), default="regular")
    visits_12m: Mapped[int] = mapped_column(default=0)
    spend_12m: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    grace_until: Mapped[datetime | None]
    tier_since: Mapped[datetime] = mapped_column(default=utcnow)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
