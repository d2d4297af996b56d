"""The table of the monthly approval summary (``sync_server.approval_months`` keeps it):
one row per zone, advisor and shop month."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from sync_server.table_base import Base


class ApprovalMonth(Base):
    """What customers approved in one shop month on one advisor's visits."""

    __tablename__ = "approval_months"

    zone: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The advisor's user id; 0 for visits no advisor has taken (a key cannot be NULL).
    advisor_user_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    month: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    approvals: Mapped[int] = mapped_column(default=0)
    approved_total: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0"))
