"""Reports over the typed tables: each one query with ``GROUP BY``, the same on SQLite
and PostgreSQL (a report is a query, not a loop over records)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import extract, func, select
from sqlalchemy.orm import Session

from sync_server.models import ApprovalRow, QuoteRow, Visit


@dataclass(frozen=True)
class AdvisorMonth:
    """What customers approved in one month (UTC) on one advisor's visits."""

    advisor_user_id: int | None
    year: int
    month: int
    approvals: int
    approved_total: Decimal


def approved_totals_by_advisor_month(
    session: Session, start: datetime, end: datetime
) -> list[AdvisorMonth]:
    """Approved totals (tax included) per advisor and month, approvals in [start, end)."""
    year = extract("year", ApprovalRow.approved_at)
    month = extract("month", ApprovalRow.approved_at)
    query = (
        select(
            Visit.advisor_user_id,
            year,
            month,
            func.count(ApprovalRow.id),
            func.coalesce(func.sum(ApprovalRow.approved_total), 0),
        )
        .join(QuoteRow, QuoteRow.id == ApprovalRow.quote_id)
        .join(Visit, Visit.id == QuoteRow.visit_id)
        .where(ApprovalRow.approved_at >= start, ApprovalRow.approved_at < end)
        .group_by(Visit.advisor_user_id, year, month)
        .order_by(Visit.advisor_user_id, year, month)
    )
    return [
        AdvisorMonth(advisor, int(y), int(m), count, Decimal(total).quantize(Decimal("0.01")))
        for advisor, y, m, count, total in session.execute(query)
    ]
