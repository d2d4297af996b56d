"""Approved totals per advisor and shop month, kept as the approvals change, so the
monthly report reads a dozen rows per advisor instead of a year of approvals.

One row per (zone, advisor, year, month): how many approvals and what they total (tax
included). An approval counts once, in the shop month its ``approved_at`` falls in, for
the advisor its visit has *now* (approval → quote → visit), which is what the report
over the approvals has always shown; an approval whose quote or visit the server does
not have yet does not count, as the report's joins never counted it.

The projection (``sync_server.sync.projections``) keeps the rows in the transaction of
the change, by taking out what an approval counted for before the change and putting in
what it counts for after: an approval sent again changes nothing, a re-decided or edited
approval moves its total (and maybe its month), a quote edited after its approval moves
the approved total, a visit given another advisor moves all its approvals to them. Each
step is an upsert (``INSERT … ON CONFLICT DO UPDATE SET approvals = approvals + x``),
atomic on SQLite and PostgreSQL alike, so two server processes never lose an update.

The months are the shop's, in the zone the rows name (``zone``): every row is in one
zone, the shop's when the first row was written. A report in another zone (the shop
moved its clock, or a test asks for UTC) reads the approvals instead until the summary
is rebuilt (``checkin-server projections rebuild``; ``checkin-server shop --timezone``
rebuilds it itself).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import delete, exists, func, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shared.shop_time import is_timezone_name, server_timezone_name, shop_zone
from sync_server.approval_month_tables import ApprovalMonth
from sync_server.back_office_tables import ApprovalRow, QuoteRow
from sync_server.shop_tables import Shop
from sync_server.visit_tables import Visit

# The advisor column of approvals on visits no advisor has taken (user ids start at 1;
# a key column cannot be NULL).
NO_ADVISOR = 0
CENT = Decimal("0.01")


@dataclass(frozen=True)
class MonthFigure:
    """One row of the summary as the report reads it (``None``: no advisor)."""

    advisor_user_id: int | None
    year: int
    month: int
    approvals: int
    approved_total: Decimal


# (advisor or NO_ADVISOR, year, month) -> [approvals, approved total]
Key = tuple[int, int, int]
Deltas = dict[Key, list[Any]]


class CountedApproval(Protocol):
    quote_id: str
    approved_at: datetime
    approved_total: Decimal | None


def zone_key(zone: tzinfo) -> str:
    """The name a zone is stored under (``Asia/Shanghai``; ``UTC``)."""
    name = getattr(zone, "key", None)
    return name if isinstance(name, str) else str(zone)


def shop_zone_key(session: Session) -> str:
    """The shop's zone, as ``shop_zone`` reads it (UTC for an unknown name)."""
    shop = session.get(Shop, 1)
    name = shop.timezone if shop is not None else server_timezone_name()
    return name if is_timezone_name(name) else zone_key(shop_zone(name))


def summary_zone(session: Session) -> str:
    """The zone the summary is kept in: its rows', or the shop's while it has none."""
    found = session.scalar(select(ApprovalMonth.zone).limit(1))
    return found if found is not None else shop_zone_key(session)


def month_key(advisor: int | None, approved_at: datetime, zone: tzinfo) -> Key:
    local = approved_at.astimezone(zone)
    return (advisor or NO_ADVISOR, local.year, local.month)


def _count(deltas: Deltas, key: Key, sign: int, total: Decimal | None) -> None:
    entry = deltas.setdefault(key, [0, Decimal("0")])
    entry[0] += sign
    entry[1] += sign * (total or Decimal("0"))


# --- what approvals count for --------------------------------------------------------


def approvals_counted(
    session: Session, approvals: Iterable[CountedApproval], zone: tzinfo, sign: int, deltas: Deltas
) -> None:
    """Add (``sign`` 1) or take out (-1) what these approvals count for, with their quotes
    and visits as the session has them now (an approval without both counts for none)."""
    for approval in approvals:
        quote = session.get(QuoteRow, approval.quote_id)
        visit = session.get(Visit, quote.visit_id) if quote is not None else None
        if visit is not None:
            key = month_key(visit.advisor_user_id, approval.approved_at, zone)
            _count(deltas, key, sign, approval.approved_total)


def visits_moved(
    session: Session, advisors: Mapping[str, tuple[bool, int | None, int | None]], deltas: Deltas
) -> None:
    """The approvals of visits whose advisor changed, or which are new: ``advisors`` maps
    a visit to (whether it was there before, its advisor before, its advisor now)."""
    moved = {
        visit_id: change
        for visit_id, change in advisors.items()
        if not change[0] or (change[1] or NO_ADVISOR) != (change[2] or NO_ADVISOR)
    }
    if not moved:
        return
    ids = sorted(moved)
    found = []
    for start in range(0, len(ids), 400):
        query = (
            select(QuoteRow.visit_id, ApprovalRow.approved_at, ApprovalRow.approved_total)
            .join(QuoteRow, QuoteRow.id == ApprovalRow.quote_id)
            .where(QuoteRow.visit_id.in_(ids[start : start + 400]))
        )
        found += session.execute(query).all()
    if found:
        zone = shop_zone(summary_zone(session))
        for visit_id, approved_at, total in found:
            existed, before, after = moved[visit_id]
            if existed:
                _count(deltas, month_key(before, approved_at, zone), -1, total)
            _count(deltas, month_key(after, approved_at, zone), 1, total)


# --- writing the rows ----------------------------------------------------------------


def apply(session: Session, deltas: Deltas, zone: str | None = None) -> None:
    """Add each delta to its row (made when missing), atomically; rows left with no
    approval are removed. Rows are changed in key order (no two writers in a circle)."""
    changes = {
        key: (count, total)
        for key, (count, total) in sorted(deltas.items())
        if count or total.quantize(CENT) != 0
    }
    if not changes:
        return
    zone = zone or summary_zone(session)
    table = ApprovalMonth.__table__
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.zone, table.c.advisor_user_id, table.c.year, table.c.month],
        set_={
            "approvals": table.c.approvals + statement.excluded.approvals,
            # Rounded to the cent at each step: SQLite keeps the sum as a binary float,
            # which would otherwise drift by fractions of a cent over years of changes.
            "approved_total": func.round(
                table.c.approved_total + statement.excluded.approved_total, 2
            ),
        },
    )
    rows = [
        {
            "zone": zone,
            "advisor_user_id": advisor,
            "year": year,
            "month": month,
            "approvals": count,
            "approved_total": total.quantize(CENT),
        }
        for (advisor, year, month), (count, total) in changes.items()
    ]
    session.execute(statement, rows)
    emptied = [key for key, (count, _) in changes.items() if count < 0]
    if emptied:
        session.execute(
            delete(table).where(
                table.c.zone == zone,
                tuple_(table.c.advisor_user_id, table.c.year, table.c.month).in_(emptied),
                table.c.approvals <= 0,
            )
        )


# --- from the approvals themselves ---------------------------------------------------


def totals_from_approvals(
    session: Session, start: datetime, end: datetime, zone: tzinfo
) -> list[MonthFigure]:
    """The same figures worked out from the approvals, quotes and visits (one
    ``GROUP BY``), approvals in [start, end), each sorted into its month with ``CASE``."""
    from sync_server.reports.periods import period_index, shop_months

    months = shop_months(start, end, zone)
    if not months:
        return []
    bucket = period_index(
        ApprovalRow.approved_at, [begins for _, _, begins in months] + [end]
    ).label("month_index")
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
    figures = []
    for advisor, index, count, total in session.execute(query):
        year, month, _ = months[int(index)]
        figures.append(MonthFigure(advisor, year, month, count, Decimal(total).quantize(CENT)))
    return figures


def rebuild(session: Session) -> int:
    """Work the summary out again from the approvals, in the shop's zone (one
    ``GROUP BY``); returns the number of rows. The caller holds the feed lock."""
    session.execute(delete(ApprovalMonth))
    zone_name = shop_zone_key(session)
    first, last = session.execute(
        select(func.min(ApprovalRow.approved_at), func.max(ApprovalRow.approved_at))
    ).one()
    if first is None:
        return 0
    first, last = (_aware(moment) for moment in (first, last))
    figures = totals_from_approvals(
        session, first, last + timedelta(seconds=1), shop_zone(zone_name)
    )
    deltas: Deltas = {}
    for figure in figures:
        key = (figure.advisor_user_id or NO_ADVISOR, figure.year, figure.month)
        entry = deltas.setdefault(key, [0, Decimal("0")])
        entry[0] += figure.approvals
        entry[1] += figure.approved_total
    apply(session, deltas, zone_name)
    return len(deltas)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# --- reading -------------------------------------------------------------------------


def summary_answers(session: Session, zone: tzinfo) -> bool:
    """Whether the summary is kept in ``zone`` (no row of another zone)."""
    other = exists().where(ApprovalMonth.zone != zone_key(zone))
    return not session.scalar(select(other))


def month_figures(
    session: Session, months: list[tuple[int, int]], zone: tzinfo
) -> list[MonthFigure]:
    """The summary's rows of these (year, month)s in ``zone``."""
    if not months:
        return []
    query = select(
        ApprovalMonth.advisor_user_id,
        ApprovalMonth.year,
        ApprovalMonth.month,
        ApprovalMonth.approvals,
        ApprovalMonth.approved_total,
    ).where(
        ApprovalMonth.zone == zone_key(zone),
        tuple_(ApprovalMonth.year, ApprovalMonth.month).in_(months),
        ApprovalMonth.approvals > 0,
    )
    return [
        MonthFigure(advisor or None, year, month, count, Decimal(total).quantize(CENT))
        for advisor, year, month, count, total in session.execute(query)
    ]
