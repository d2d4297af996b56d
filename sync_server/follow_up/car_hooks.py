"""Keep each car's stored due dates (``follow_up_cars_due``) current, whatever path its
history changes by — the back office, a device's push projected into the typed tables,
the demo: after each flush the cars touched are collected, and before the transaction
commits they are queued in it (``cars_due.note_touched``: one insert) for the
``cars_due`` job, which works them out within seconds.

What counts: a visit added, removed, delivered or cancelled (or taken back from either),
or with its odometer, concern codes, car or check-in time changed; a walk-around's
odometer; an approval or a line decision (deferred work added, or done at a later
visit); the car's purchase date or year (its kilometres per day). A change of the
service intervals marks every car stale for the ``cars_due`` job instead
(``cars_due.mark_stale``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, SessionTransaction, UOWTransaction

from sync_server.back_office_tables import ApprovalRow
from sync_server.follow_up.tables import ServiceInterval
from sync_server.record_tables import ApprovalDecisionRow, WalkaroundRow
from sync_server.table_base import utcnow
from sync_server.visit_tables import Vehicle, Visit

_KEY = "follow_up_cars_touched"
VISIT_FIELDS = ("mileage_in_km", "concern_codes", "vehicle_id", "checked_in_at")
# A status change matters only into or out of these (the board's steps in between do not).
COUNTED_STATUSES = frozenset({"delivered", "cancelled"})
VEHICLE_FIELDS = ("purchase_date", "year")


@dataclass
class Touched:
    vehicles: set[str] = field(default_factory=set)
    visits: set[str] = field(default_factory=set)
    approvals: set[str] = field(default_factory=set)
    intervals: bool = False

    @property
    def any(self) -> bool:
        return bool(self.vehicles or self.visits or self.approvals or self.intervals)


def _changed(row: Any, names: tuple[str, ...]) -> bool:
    state = inspect(row)
    return any(state.attrs[name].history.has_changes() for name in names)


def _status_counts(row: Visit) -> bool:
    history = inspect(row).attrs["status"].history
    changed = [*(history.added or ()), *(history.deleted or ())]
    return any(str(getattr(value, "value", value)) in COUNTED_STATUSES for value in changed)


def _note(session: Session, touched: Touched, row: Any, new_or_gone: bool) -> None:
    if isinstance(row, Visit):
        if new_or_gone or _changed(row, VISIT_FIELDS) or _status_counts(row):
            touched.vehicles.add(row.vehicle_id)
            # A visit moved to another car: the car it left changes too.
            touched.vehicles.update(
                old for old in inspect(row).attrs["vehicle_id"].history.deleted if old
            )
    elif isinstance(row, WalkaroundRow):
        if new_or_gone or _changed(row, ("odometer_km", "visit_id")):
            touched.visits.add(row.visit_id)
    elif isinstance(row, ApprovalRow):
        touched.approvals.add(row.id)
    elif isinstance(row, ApprovalDecisionRow):
        touched.approvals.add(row.approval_id)
    elif isinstance(row, Vehicle):
        if not new_or_gone and _changed(row, VEHICLE_FIELDS):
            touched.vehicles.add(row.id)
    elif isinstance(row, ServiceInterval):
        touched.intervals = True


def _after_flush(session: Session, _context: UOWTransaction) -> None:
    touched: Touched = session.info.setdefault(_KEY, Touched())
    for row in session.new:
        _note(session, touched, row, True)
    for row in session.deleted:
        _note(session, touched, row, True)
    for row in session.dirty:
        _note(session, touched, row, False)


def _before_commit(session: Session) -> None:
    from sync_server.follow_up import cars_due

    if session.in_nested_transaction():
        return
    session.flush()
    for _round in range(5):  # queueing the cars flushes nothing the hooks watch
        touched: Touched | None = session.info.pop(_KEY, None)
        if touched is None or not touched.any:
            return
        now = utcnow()
        if touched.intervals:
            cars_due.mark_stale(session, now)
        cars = set(touched.vehicles)
        cars |= cars_due.vehicles_of_visits(session, touched.visits)
        cars |= cars_due.vehicles_of_approvals(session, touched.approvals)
        if cars:
            cars_due.note_touched(session, cars, now)
        session.flush()


def _forget(session: Session, transaction: SessionTransaction) -> None:
    """The whole transaction ended (rolled back, or committed): nothing left to do. A
    savepoint rolled back keeps what was noted before it (a refresh too many is
    harmless)."""
    if transaction.parent is None:
        session.info.pop(_KEY, None)


def install() -> None:
    """Listen on every session (once); first among the commit hooks, so that the sync
    feed's numbering stays the last thing before the commit."""
    if event.contains(Session, "before_commit", _before_commit):
        return
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "before_commit", _before_commit, insert=True)
    event.listen(Session, "after_transaction_end", _forget)


__all__ = ["install"]
