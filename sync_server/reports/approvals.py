"""Approved totals per advisor and shop month: one query over approvals, quotes and
visits, each approval sorted into its shop month with ``CASE`` (``periods``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.shop_time import shop_zone
from sync_server.back_office_tables import ApprovalRow, QuoteRow
from sync_server.reports.periods import period_index, shop_months
from sync_server.shop import shop_settings
from sync_server.visit_tables import Visit


@dataclass(frozen=True)
class AdvisorMonth:
    """What customers approved in one of the shop's months on one advisor's visits."""

    advisor_user_id: int | None
    year: int
    month: int
    approvals: int
    approved_total: Decimal


def approved_totals_by_advisor_month(
    session: Session, start: datetime, end: datetime, zone: tzinfo | None = None
) -> list[AdvisorMonth]:
    """Approved totals (tax included) per advisor and shop month, approvals in
    [start, end); ``zone`` is the shop's time zone unless given."""
    zone = zone or shop_zone(shop_settings(session).timezone)
    months = shop_months(start, end, zone)
    if not months:
        return []
    month_index = period_index(ApprovalRow.approved_at, [begins for _, _, begins in months] + [end])
    bucket = month_index.label("month_index")
    query = (
        select(
            Visit.advisor_user_id,
            bucket,
            func.count(ApprovalRow.id),
            func.coalesce(func.sum(ApprovalRow.approved_total), 0),
        )
        .join(QuoteRow, QuoteRow.id == ApprovalRow.quote_id)
        .join(Visit, Visit.id == QuoteRow.visit_id)
        .where(ApprovalRow.approved_at >= start, ApprovalRow.approved_at < end)
        .group_by(Visit.advisor_user_id, bucket)
    )
    rows = []
    for advisor, index, count, total in session.execute(query):
        year, month, _ = months[int(index)]
        rows.append(
            AdvisorMonth(advisor, year, month, count, Decimal(total).quantize(Decimal("0.01")))
        )
    rows.sort(key=lambda r: (r.advisor_user_id is None, r.advisor_user_id or 0, r.year, r.month))
    return rows
