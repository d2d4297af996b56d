"""Reports over the typed tables: each one query with ``GROUP BY``, the same on SQLite
and PostgreSQL (a report is a query, not a loop over records).

Months are the shop's: a month starts at midnight on its first day in the shop's time
zone (``shop.timezone``), so an approval at 23:30 on 31 March in Shanghai counts for
March although it is stored as 15:30 UTC. The months' limits are worked out in Python
(daylight saving included) and the query sorts each row into its month with ``CASE``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from shared.shop_time import shop_zone
from sync_server.models import ApprovalRow, QuoteRow, Visit
from sync_server.shop import shop_settings


@dataclass(frozen=True)
class AdvisorMonth:
    """What customers approved in one of the shop's months on one advisor's visits."""

    advisor_user_id: int | None
    year: int
    month: int
    approvals: int
    approved_total: Decimal


def shop_months(start: datetime, end: datetime, zone: tzinfo) -> list[tuple[int, int, datetime]]:
    """The shop's months that [start, end) touches: (year, month, first instant in UTC)
    for each, in order, plus the instant ``end`` closes the last one at."""
    local = start.astimezone(zone)
    first = datetime(local.year, local.month, 1)
    months: list[tuple[int, int, datetime]] = []
    while True:
        begins = first.replace(tzinfo=zone).astimezone(UTC)
        if begins >= end:
            break
        months.append((first.year, first.month, begins))
        first += relativedelta(months=1)
    return months


def approved_totals_by_advisor_month(
    session: Session, start: datetime, end: datetime, zone: tzinfo | None = None
) -> list[AdvisorMonth]:
    """Approved totals (tax included) per advisor and shop month, approvals in
    [start, end); ``zone`` is the shop's time zone unless given."""
    zone = zone or shop_zone(shop_settings(session).timezone)
    months = shop_months(start, end, zone)
    if not months:
        return []
    later_first = [
        (ApprovalRow.approved_at < begins, index - 1)
        for index, (_, _, begins) in enumerate(months)
        if index > 0
    ]
    bucket = case(*later_first, else_=len(months) - 1) if later_first else len(months) - 1
    month_index = bucket.label("month_index") if later_first else None
    columns = [Visit.advisor_user_id]
    grouped = [Visit.advisor_user_id]
    if month_index is not None:
        columns.append(month_index)
        grouped.append(month_index)
    query = (
        select(
            *columns,
            func.count(ApprovalRow.id),
            func.coalesce(func.sum(ApprovalRow.approved_total), 0),
        )
        .join(QuoteRow, QuoteRow.id == ApprovalRow.quote_id)
        .join(Visit, Visit.id == QuoteRow.visit_id)
        .where(ApprovalRow.approved_at >= start, ApprovalRow.approved_at < end)
        .group_by(*grouped)
    )
    rows = []
    for row in session.execute(query):
        advisor, *index, count, total = row
        year, month, _ = months[int(index[0]) if index else 0]
        rows.append(
            AdvisorMonth(advisor, year, month, count, Decimal(total).quantize(Decimal("0.01")))
        )
    rows.sort(key=lambda r: (r.advisor_user_id is None, r.advisor_user_id or 0, r.year, r.month))
    return rows
