"""Each car's next due date per service type and its open declined work, stored
(``follow_up_cars_due``) so that the reminders' daily run and the forward load read a
table instead of working out every car's history.

A car is worked out again (:func:`refresh_cars`) when its history changes — a visit is
delivered, an odometer is recorded, deferred work is added or done: the session hooks
in ``sync_server.follow_up.car_hooks`` collect the cars a transaction touched and refresh
them before it commits. A change of the service intervals in settings marks every car
stale (``cars_due_stale_since``); the ``cars_due`` job (or the next reminders run,
whichever comes first) then works out every car again (:func:`refresh_if_stale`), not
the settings request.

Rows are written with an insert-or-update on (car, kind, subject) and the car's rows
that no longer fall due are deleted, so two processes refreshing one car at once never
fail on each other.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shared.shop_time import server_timezone_name, shop_zone
from sync_server.appointments.presets import PRESETS
from sync_server.back_office_tables import ApprovalRow, QuoteRow
from sync_server.customer_file.health import open_deferred_work_by_car
from sync_server.follow_up.due import Interval, active_intervals, car_histories, maintenance_due
from sync_server.follow_up.tables import CarDue, CarTouched, FollowUpSettings
from sync_server.shop_tables import Shop
from sync_server.table_base import utcnow
from sync_server.visit_tables import Visit

# Work declined longer ago than this is not kept (long overdue: the car went elsewhere).
DEFERRED_KEPT = timedelta(days=3 * 365)
CHUNK = 500


@dataclass(frozen=True)
class DueItem:
    """One row of ``follow_up_cars_due`` as worked out."""

    vehicle_id: str
    kind: str
    subject: str
    due_on: date
    by: str
    reason: str
    reason_params: dict[str, Any]
    work: str
    work_zh: str
    preset: str
    hours: float | None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.vehicle_id, self.kind, self.subject)


def _zone_name(session: Session) -> str:
    shop = session.get(Shop, 1)
    return shop.timezone if shop is not None else server_timezone_name()


def _preset_hours(preset: str) -> float | None:
    found = PRESETS.get(preset)
    return round(found.minutes / 60, 2) if found else None


def _maintenance(
    session: Session, vehicle_ids: list[str] | None, zone: str, intervals: list[Interval]
) -> Iterator[DueItem]:
    codes = {code for interval in intervals for code in interval.codes}
    for car in car_histories(session, vehicle_ids, zone, codes).values():
        for interval in intervals:
            due = maintenance_due(car, interval)
            if due is None:
                continue
            yield DueItem(
                car.vehicle.id,
                "maintenance",
                interval.service_type,
                due.day,
                due.by,
                due.reason.message,
                due.reason.stored_params(),
                interval.name_en[:200],
                interval.name_zh[:200],
                interval.preset,
                _preset_hours(interval.preset),
            )


def _deferred(
    session: Session, vehicle_ids: list[str], zone: str, today: date
) -> Iterator[DueItem]:
    since = today - DEFERRED_KEPT
    found = open_deferred_work_by_car(session, vehicle_ids, zone, declined_since=since)
    for vehicle_id, items in found.items():
        for item in items:
            hours = float(item.hours) if item.hours else None
            yield DueItem(
                vehicle_id,
                "deferred",
                item.line_id,
                item.due_on,
                item.urgency,
                "work declined on {declined}, due by {due}",
                {"declined": item.declined_on.isoformat(), "due": item.due_on.isoformat()},
                item.description[:200],
                item.description[:200],
                "",
                hours,
            )


def work_out(
    session: Session, vehicle_ids: list[str], today: date, intervals: list[Interval] | None = None
) -> list[DueItem]:
    """What falls due for these cars, and why (nothing stored)."""
    zone = _zone_name(session)
    intervals = active_intervals(session) if intervals is None else intervals
    return [
        *_maintenance(session, vehicle_ids, zone, intervals),
        *_deferred(session, vehicle_ids, zone, today),
    ]


def _upsert(session: Session, items: list[DueItem], now: datetime) -> None:
    if not items:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(CarDue)
    changing = (
        "due_on",
        "by",
        "reason",
        "reason_params",
        "work",
        "work_zh",
        "preset",
        "hours",
        "computed_at",
    )
    statement = statement.on_conflict_do_update(
        index_elements=["vehicle_id", "kind", "subject"],
        set_={name: getattr(statement.excluded, name) for name in changing},
    )
    session.execute(
        statement,
        [
            {
                "vehicle_id": item.vehicle_id,
                "kind": item.kind,
                "subject": item.subject,
                "due_on": item.due_on,
                "by": item.by,
                "reason": item.reason,
                "reason_params": item.reason_params,
                "work": item.work,
                "work_zh": item.work_zh,
                "preset": item.preset,
                "hours": item.hours,
                "computed_at": now,
            }
            for item in items
        ],
    )


def _store(session: Session, vehicle_ids: list[str], items: list[DueItem], now: datetime) -> None:
    """Write the cars' rows: the new ones in, the changed ones updated, the rest out."""
    keep = {item.key for item in items}
    stored = session.execute(
        select(CarDue.id, CarDue.vehicle_id, CarDue.kind, CarDue.subject).where(
            CarDue.vehicle_id.in_(vehicle_ids)
        )
    ).all()
    gone = [row.id for row in stored if (row.vehicle_id, row.kind, row.subject) not in keep]
    if gone:
        session.execute(delete(CarDue).where(CarDue.id.in_(gone)))
    _upsert(session, items, now)


def refresh_cars(
    session: Session, vehicle_ids: Collection[str], now: datetime | None = None
) -> int:
    """Work out these cars' due dates again and store them (in the caller's
    transaction); returns how many rows they have now."""
    now = now or utcnow()
    today = now.astimezone(shop_zone(_zone_name(session))).date()
    ids = sorted({vehicle_id for vehicle_id in vehicle_ids if vehicle_id})
    intervals = active_intervals(session)
    count = 0
    for first in range(0, len(ids), CHUNK):
        chunk = ids[first : first + CHUNK]
        items = work_out(session, chunk, today, intervals)
        _store(session, chunk, items, now)
        count += len(items)
    return count


def refresh_all_cars(session: Session, now: datetime | None = None) -> int:
    """Every car worked out again (after the intervals changed; the migration's
    backfill): cars with visits in chunks, and the rows of cars without any removed."""
    now = now or utcnow()
    with_visits = sorted(set(session.scalars(select(Visit.vehicle_id).distinct())))
    count = refresh_cars(session, with_visits, now)
    session.execute(delete(CarDue).where(CarDue.vehicle_id.not_in(select(Visit.vehicle_id))))
    return count


def note_touched(session: Session, vehicle_ids: Collection[str], now: datetime) -> None:
    """Queue these cars for the job (a car already queued stays queued, its time moved
    on so that a refresh running now does not take it off)."""
    ids = sorted({vehicle_id for vehicle_id in vehicle_ids if vehicle_id})
    if not ids:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(CarTouched)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["vehicle_id"], set_={"touched_at": statement.excluded.touched_at}
        ),
        [{"vehicle_id": vehicle_id, "touched_at": now} for vehicle_id in ids],
    )


def catch_up(session: Session, now: datetime | None = None, limit: int = 2000) -> int:
    """Work out the queued cars (at most ``limit``) and take them off the queue — each
    only if it was not touched again meanwhile; returns how many. The caller commits."""
    now = now or utcnow()
    queued = session.execute(
        select(CarTouched.vehicle_id, CarTouched.touched_at)
        .order_by(CarTouched.touched_at)
        .limit(limit)
    ).all()
    if not queued:
        return 0
    refresh_cars(session, [vehicle_id for vehicle_id, _at in queued], now)
    for vehicle_id, touched_at in queued:
        session.execute(
            delete(CarTouched).where(
                CarTouched.vehicle_id == vehicle_id, CarTouched.touched_at == touched_at
            )
        )
    return len(queued)


def mark_stale(session: Session, now: datetime) -> None:
    """The intervals changed: every car is to be worked out again, by the job."""
    from sync_server.follow_up.rules import follow_up_settings

    follow_up_settings(session)
    session.execute(
        update(FollowUpSettings).where(FollowUpSettings.id == 1).values(cars_due_stale_since=now)
    )


def refresh_if_stale(session: Session, now: datetime | None = None) -> int | None:
    """The ``cars_due`` job: when the intervals changed since every car was last worked
    out, work them all out again and commit; None when nothing was stale. A change made
    while this runs keeps the mark, so the next run picks it up."""
    stale = session.scalar(
        select(FollowUpSettings.cars_due_stale_since).where(FollowUpSettings.id == 1)
    )
    if stale is None:
        return None
    count = refresh_all_cars(session, now)
    session.execute(delete(CarTouched).where(CarTouched.touched_at <= stale))
    session.execute(
        update(FollowUpSettings)
        .where(FollowUpSettings.id == 1, FollowUpSettings.cars_due_stale_since == stale)
        .values(cars_due_stale_since=None)
    )
    session.commit()
    return count


def vehicles_of_approvals(session: Session, approval_ids: Collection[str]) -> set[str]:
    """The cars whose quotes these approvals answered."""
    if not approval_ids:
        return set()
    return set(
        session.scalars(
            select(Visit.vehicle_id)
            .join(QuoteRow, QuoteRow.visit_id == Visit.id)
            .join(ApprovalRow, ApprovalRow.quote_id == QuoteRow.id)
            .where(ApprovalRow.id.in_(sorted(approval_ids)))
        )
    )


def vehicles_of_visits(session: Session, visit_ids: Collection[str]) -> set[str]:
    if not visit_ids:
        return set()
    return set(session.scalars(select(Visit.vehicle_id).where(Visit.id.in_(sorted(visit_ids)))))


__all__ = [
    "DueItem",
    "catch_up",
    "mark_stale",
    "note_touched",
    "refresh_all_cars",
    "refresh_cars",
    "refresh_if_stale",
    "vehicles_of_approvals",
    "vehicles_of_visits",
    "work_out",
]
