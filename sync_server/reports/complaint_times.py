"""First response and resolution against their deadlines, per shop month of receipt.

A deadline counts as missed when the case says so (``*_missed_at``, written once and
never cleared, reopen or not), when it was met late, or when it has passed unmet while
the shop was not waiting for the customer; met when answered in time with nothing
missed; otherwise it is still open. Averages are wall-clock times from receipt.
One query, grouped by month with ``CASE`` (``periods``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from sync_server.complaints.tables import ComplaintCase
from sync_server.reports.periods import MonthRange, period_index
from sync_server.reports.sql import seconds_between


@dataclass(frozen=True)
class ComplaintMonth:
    year: int
    month: int
    received: int
    response_met: int
    response_missed: int
    response_open: int
    response_minutes: float | None  # average time to the first response, answered cases
    resolution_met: int
    resolution_missed: int
    resolution_open: int
    resolution_hours: float | None  # average time to the customer's confirmation

    @property
    def response_on_time_share(self) -> float | None:
        judged = self.response_met + self.response_missed
        return self.response_met / judged if judged else None

    @property
    def resolution_on_time_share(self) -> float | None:
        judged = self.resolution_met + self.resolution_missed
        return self.resolution_met / judged if judged else None


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _judged(
    done: object, due: object, missed_at: object, now: datetime
) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    c = ComplaintCase
    met = and_(done.isnot(None), missed_at.is_(None), done <= due)  # type: ignore[attr-defined]
    missed = or_(
        missed_at.isnot(None),  # type: ignore[attr-defined]
        done > due,  # type: ignore[operator]
        and_(done.is_(None), c.waiting_since.is_(None), due < now),  # type: ignore[attr-defined]
    )
    return met, missed


def complaint_times_by_month(
    session: Session, period: MonthRange, now: datetime
) -> list[ComplaintMonth]:
    """Every shop month of ``period``, with the cases received in it (empty months too)."""
    months = period.months()
    c = ComplaintCase
    bucket = period_index(c.received_at, [b for _, _, b in months] + [period.end]).label("m")
    response_met, response_missed = _judged(
        c.first_responded_at, c.first_response_due, c.first_response_missed_at, now
    )
    resolution_met, resolution_missed = _judged(
        c.resolved_at, c.resolution_due, c.resolution_missed_at, now
    )
    query = (
        select(
            bucket,
            func.count(c.id),
            _count(response_met),
            _count(response_missed),
            func.avg(seconds_between(c.first_responded_at, c.received_at)),
            _count(resolution_met),
            _count(resolution_missed),
            func.avg(seconds_between(c.resolved_at, c.received_at)),
        )
        .where(c.received_at >= period.start, c.received_at < period.end)
        .group_by(bucket)
    )
    found = {int(row[0]): row[1:] for row in session.execute(query)}
    result = []
    for index, (year, month, _) in enumerate(months):
        received, r_met, r_missed, r_seconds, s_met, s_missed, s_seconds = found.get(
            index, (0, 0, 0, None, 0, 0, None)
        )
        result.append(
            ComplaintMonth(
                year=year,
                month=month,
                received=int(received),
                response_met=int(r_met),
                response_missed=int(r_missed),
                response_open=int(received) - int(r_met) - int(r_missed),
                response_minutes=None if r_seconds is None else round(float(r_seconds) / 60, 1),
                resolution_met=int(s_met),
                resolution_missed=int(s_missed),
                resolution_open=int(received) - int(s_met) - int(s_missed),
                resolution_hours=None if s_seconds is None else round(float(s_seconds) / 3600, 1),
            )
        )
    return result
