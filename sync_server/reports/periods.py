"""The shop's months and weeks as UTC instants, and rows sorted into them in SQL.

A month starts at midnight on its first day in the shop's time zone (``shop.timezone``),
a week at midnight on its Monday, so an approval at 23:30 on 31 March in Shanghai counts
for March although it is stored as 15:30 UTC. The limits are worked out in Python
(daylight saving included) and a query sorts each row into its period with ``CASE``,
which works the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import ColumnElement, case


def shop_months(start: datetime, end: datetime, zone: tzinfo) -> list[tuple[int, int, datetime]]:
    """The shop's months that [start, end) touches: (year, month, first instant in UTC)
    for each, in order."""
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


@dataclass(frozen=True)
class MonthRange:
    """A run of whole shop months, from ``first`` to ``last`` (each the 1st of a month)."""

    first: date
    last: date
    zone: tzinfo

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, datetime.min.time(), self.zone).astimezone(UTC)

    @property
    def end(self) -> datetime:
        after = self.last + relativedelta(months=1)
        return datetime.combine(after, datetime.min.time(), self.zone).astimezone(UTC)

    def months(self) -> list[tuple[int, int, datetime]]:
        return shop_months(self.start, self.end, self.zone)


def last_months(today: date, count: int, zone: tzinfo) -> MonthRange:
    """The ``count`` shop months up to and including the one ``today`` is in."""
    last = today.replace(day=1)
    return MonthRange(last - relativedelta(months=count - 1), last, zone)


def week_starts(first_monday: date, weeks: int, zone: tzinfo) -> list[datetime]:
    """The UTC instants the shop's weeks begin at (Mondays, midnight shop time), plus the
    instant the last one ends."""
    return [
        datetime.combine(first_monday + timedelta(weeks=n), datetime.min.time(), zone).astimezone(
            UTC
        )
        for n in range(weeks + 1)
    ]


def period_index(column: Any, bounds: Sequence[datetime]) -> ColumnElement[int]:
    """Which period a row's ``column`` falls in: 0 for [bounds[0], bounds[1]), 1 for
    [bounds[1], bounds[2]), … (``bounds`` ends with the instant the last period closes
    at); the caller keeps rows outside [bounds[0], bounds[-1]) out with ``WHERE``."""
    if len(bounds) < 2:
        raise ValueError("a period needs its start and its end")
    return case(
        *((column < ends, index) for index, ends in enumerate(bounds[1:])),
        else_=len(bounds) - 2,
    )
