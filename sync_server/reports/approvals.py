"""Approved totals per advisor and shop month, read from the monthly summary the
approvals' projection keeps (``sync_server.approval_months``): about twelve rows per
advisor for a year, however many approvals it holds. A period in a zone the summary is
not kept in is worked out from the approvals themselves (one ``GROUP BY``)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from sync_server import approval_months
from sync_server.reports.periods import MonthRange


@dataclass(frozen=True)
class AdvisorMonth:
    """What customers approved in one of the shop's months on one advisor's visits."""

    advisor_user_id: int | None
    year: int
    month: int
    approvals: int
    approved_total: Decimal


def approved_totals_by_advisor_month(session: Session, period: MonthRange) -> list[AdvisorMonth]:
    """Approved totals (tax included) per advisor and month of ``period`` (whole shop
    months in ``period.zone``), approvals counted for their visit's advisor now."""
    months = [(year, month) for year, month, _ in period.months()]
    if approval_months.summary_answers(session, period.zone):
        figures = approval_months.month_figures(session, months, period.zone)
    else:
        figures = approval_months.totals_from_approvals(
            session, period.start, period.end, period.zone
        )
    rows = [
        AdvisorMonth(f.advisor_user_id, f.year, f.month, f.approvals, f.approved_total)
        for f in figures
    ]
    rows.sort(key=lambda r: (r.advisor_user_id is None, r.advisor_user_id or 0, r.year, r.month))
    return rows


def approved_totals_from_approvals(session: Session, period: MonthRange) -> list[AdvisorMonth]:
    """The same figures from the approvals, quotes and visits, never the summary: what
    the summary is checked against, and what the report cost before it."""
    figures = approval_months.totals_from_approvals(session, period.start, period.end, period.zone)
    rows = [
        AdvisorMonth(f.advisor_user_id, f.year, f.month, f.approvals, f.approved_total)
        for f in figures
    ]
    rows.sort(key=lambda r: (r.advisor_user_id is None, r.advisor_user_id or 0, r.year, r.month))
    return rows
