"""The vehicle health file (车辆健康档案): one car's visits as a timeline, read from the
typed tables in a fixed number of queries whatever the car's history.

Each visit shows the concern, odometer and fuel at check-in (the walk-around's latest
version), the damage marks (each told as new or as already there on the car's previous
walk-around), the tyre tread measured, the diagnosis (``diagnoses``), the work done and
the parts replaced (the lines of the approved quote version the customer said yes to,
with part numbers) and the work declined. A declined line is **deferred work** with a due
date from its urgency; it stays open until a later visit's approved line does the same
work (same part number, or same words), and :func:`deferred_work_due` hands the open
ones to the reminders and to the car's next check-in.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import domain
from shared.shop_time import shop_zone
from sync_server.back_office_tables import ApprovalRow, QuoteRow
from sync_server.customer_file.diagnoses import diagnoses_of
from sync_server.customer_file.wear import (
    NEW_TREAD_MM,
    TREAD_LIMIT_MM,
    Projection,
    Reading,
    km_per_day,
    project,
)
from sync_server.customer_file_tables import Diagnosis
from sync_server.record_tables import (
    ApprovalDecisionRow,
    DamageMarkRow,
    QuoteLineRow,
    WalkaroundRow,
)
from sync_server.visit_tables import Customer, Vehicle, Visit

# When declined work falls due, from the line's traffic light.
DUE_AFTER = {
    domain.Urgency.red: timedelta(days=0),
    domain.Urgency.yellow: timedelta(days=90),
    domain.Urgency.green: timedelta(days=180),
}
# Two marks within this distance (of the drawing's width), same view and damage type,
# are the same damage seen again.
SAME_PLACE = 0.06
_WORDS = re.compile(r"[\s\W_]+")


@dataclass(frozen=True)
class MarkView:
    view: str
    damage_type: str
    severity: int
    note: str
    already_there: bool


@dataclass(frozen=True)
class WorkLine:
    kind: str
    description: str
    part_number: str
    quantity: Decimal
    urgency: str
    amount: Decimal
    hours: Decimal = Decimal(0)  # the labour hours quoted


@dataclass(frozen=True)
class DeferredWork:
    visit_id: str
    vehicle_id: str
    line_id: str
    description: str
    part_number: str
    urgency: str
    declined_on: date
    due_on: date
    done_on: date | None
    hours: Decimal = Decimal(0)  # the labour hours the declined line quoted

    @property
    def open(self) -> bool:
        return self.done_on is None


@dataclass
class VisitEntry:
    visit: Visit
    day: date
    odometer_km: int | None
    fuel_eighths: int | None
    tread_mm: dict[str, float]
    marks: list[MarkView] = field(default_factory=list)
    diagnoses: list[Diagnosis] = field(default_factory=list)
    work: list[WorkLine] = field(default_factory=list)
    declined: list[WorkLine] = field(default_factory=list)


@dataclass
class HealthFile:
    vehicle: Vehicle
    customer: Customer
    entries: list[VisitEntry]  # newest first
    km_per_day: float | None
    readings: dict[str, list[Reading]]  # tyre position → readings, oldest first
    projections: dict[str, Projection]
    deferred: list[DeferredWork]


def _local_day(moment: datetime, zone_name: str) -> date:
    return moment.astimezone(shop_zone(zone_name)).date()


def _same_work_key(description: str, part_number: str) -> str:
    if part_number.strip():
        return "part:" + part_number.strip().upper()
    return "text:" + _WORDS.sub("", unicodedata.normalize("NFKC", description).casefold())


def _bought(vehicle: Vehicle) -> date | None:
    if vehicle.purchase_date is not None:
        return vehicle.purchase_date
    return date(vehicle.year, 1, 1) if vehicle.year else None


def health_file(session: Session, vehicle_id: str, zone_name: str) -> HealthFile | None:
    """The car's file, or ``None`` for an unknown car."""
    vehicle = session.get(Vehicle, vehicle_id)
    if vehicle is None:
        return None
    customer = session.get(Customer, vehicle.customer_id)
    assert customer is not None
    visits = list(
        session.scalars(
            select(Visit).where(Visit.vehicle_id == vehicle_id).order_by(Visit.checked_in_at)
        )
    )
    ids = [visit.id for visit in visits]
    walkarounds = _latest_walkarounds(session, ids)
    marks = _marks(session, [w.id for w in walkarounds.values()])
    diagnoses = diagnoses_of(session, ids)
    work, declined = _approved_work(session, ids)

    entries: list[VisitEntry] = []
    previous_marks: list[DamageMarkRow] = []
    for visit in visits:
        walkaround = walkarounds.get(visit.id)
        own_marks = marks.get(walkaround.id, []) if walkaround else []
        entry = VisitEntry(
            visit=visit,
            day=_local_day(visit.checked_in_at, zone_name),
            odometer_km=(walkaround.odometer_km if walkaround else None) or visit.mileage_in_km,
            fuel_eighths=walkaround.fuel_eighths if walkaround else None,
            tread_mm={
                position: float(depth)
                for position, depth in (
                    (walkaround.tyre_tread_mm if walkaround else {}) or {}
                ).items()
            },
            marks=[
                MarkView(
                    str(getattr(mark.view, "value", mark.view)),
                    str(getattr(mark.damage_type, "value", mark.damage_type)),
                    mark.severity,
                    mark.note,
                    _seen_before(mark, previous_marks),
                )
                for mark in own_marks
            ],
            diagnoses=diagnoses.get(visit.id, []),
            work=work.get(visit.id, []),
            declined=[line for line, _line_id, _at in declined.get(visit.id, [])],
        )
        if own_marks:
            previous_marks = own_marks
        entries.append(entry)

    odometers = [(e.day, e.odometer_km) for e in entries if e.odometer_km is not None]
    rate = km_per_day(odometers, _bought(vehicle))  # type: ignore[arg-type]
    readings: dict[str, list[Reading]] = defaultdict(list)
    for entry in entries:
        for position, depth in entry.tread_mm.items():
            readings[position].append(Reading(entry.day, entry.odometer_km, depth))
    projections = {
        position: projection
        for position, values in readings.items()
        if (projection := project(values, TREAD_LIMIT_MM, rate, NEW_TREAD_MM)) is not None
    }
    deferred = _deferred(vehicle.id, entries, declined, zone_name)
    entries.reverse()
    return HealthFile(vehicle, customer, entries, rate, dict(readings), projections, deferred)


def _latest_walkarounds(session: Session, visit_ids: list[str]) -> dict[str, WalkaroundRow]:
    if not visit_ids:
        return {}
    latest: dict[str, WalkaroundRow] = {}
    for row in session.scalars(
        select(WalkaroundRow)
        .where(WalkaroundRow.visit_id.in_(visit_ids))
        .order_by(WalkaroundRow.version, WalkaroundRow.id)
    ):
        latest[row.visit_id] = row
    return latest


def _marks(session: Session, walkaround_ids: list[str]) -> dict[str, list[DamageMarkRow]]:
    found: dict[str, list[DamageMarkRow]] = defaultdict(list)
    if not walkaround_ids:
        return found
    for row in session.scalars(
        select(DamageMarkRow)
        .where(DamageMarkRow.walkaround_id.in_(walkaround_ids), DamageMarkRow.deleted.is_(False))
        .order_by(DamageMarkRow.created_at, DamageMarkRow.id)
    ):
        found[row.walkaround_id].append(row)
    return found


def _seen_before(mark: DamageMarkRow, before: list[DamageMarkRow]) -> bool:
    return any(
        old.view == mark.view
        and old.damage_type == mark.damage_type
        and math.hypot(old.x - mark.x, old.y - mark.y) <= SAME_PLACE
        for old in before
    )


def _approved_work(
    session: Session, visit_ids: list[str]
) -> tuple[dict[str, list[WorkLine]], dict[str, list[tuple[WorkLine, str, datetime]]]]:
    """Per visit: the lines the customer approved, and those declined (with the line's
    id and when), from the visit's latest approval."""
    work: dict[str, list[WorkLine]] = defaultdict(list)
    declined: dict[str, list[tuple[WorkLine, str, datetime]]] = defaultdict(list)
    if not visit_ids:
        return work, declined
    # Plain rows, not ORM objects: a long history has hundreds of lines and decisions.
    latest: dict[str, tuple[str, str, str | None, datetime]] = {}
    for approval_id, quote_id, option_id, approved_at, visit_id in session.execute(
        select(
            ApprovalRow.id,
            ApprovalRow.quote_id,
            ApprovalRow.option_id,
            ApprovalRow.approved_at,
            QuoteRow.visit_id,
        )
        .join(QuoteRow, QuoteRow.id == ApprovalRow.quote_id)
        .where(QuoteRow.visit_id.in_(visit_ids))
        .order_by(ApprovalRow.approved_at, ApprovalRow.id)
    ):
        latest[visit_id] = (approval_id, quote_id, option_id, approved_at)
    if not latest:
        return work, declined
    by_approval = {approval_id: visit_id for visit_id, (approval_id, *_rest) in latest.items()}
    by_quote = {quote_id: visit_id for visit_id, (_a, quote_id, *_rest) in latest.items()}
    decisions: dict[str, dict[str, str]] = defaultdict(dict)
    for approval_id, line_id, decision in session.execute(
        select(
            ApprovalDecisionRow.approval_id,
            ApprovalDecisionRow.line_id,
            ApprovalDecisionRow.decision,
        ).where(ApprovalDecisionRow.approval_id.in_(sorted(by_approval)))
    ):
        decisions[by_approval[approval_id]][line_id] = str(getattr(decision, "value", decision))
    for row in session.execute(
        select(
            QuoteLineRow.quote_id,
            QuoteLineRow.line_id,
            QuoteLineRow.option_id,
            QuoteLineRow.kind,
            QuoteLineRow.description,
            QuoteLineRow.part_number,
            QuoteLineRow.quantity,
            QuoteLineRow.urgency,
            QuoteLineRow.amount,
            QuoteLineRow.hours,
        )
        .where(QuoteLineRow.quote_id.in_(sorted(by_quote)))
        .order_by(QuoteLineRow.quote_id, QuoteLineRow.position)
    ):
        visit_id = by_quote[row.quote_id]
        _approval, _quote, chosen_option, approved_at = latest[visit_id]
        if row.option_id is not None and row.option_id != chosen_option:
            continue
        kind = str(getattr(row.kind, "value", row.kind))
        view = WorkLine(
            kind,
            row.description,
            row.part_number,
            row.quantity.normalize(),
            str(getattr(row.urgency, "value", row.urgency)),
            row.amount,
            row.hours or Decimal(0),
        )
        answer = decisions[visit_id].get(row.line_id)
        if answer == domain.LineDecision.approved or (
            answer is None and kind in ("fee", "discount")
        ):
            work[visit_id].append(view)
        elif answer == domain.LineDecision.declined:
            declined[visit_id].append((view, row.line_id, approved_at))
    return work, declined


def _deferred(
    vehicle_id: str,
    entries: list[VisitEntry],
    declined: dict[str, list[tuple[WorkLine, str, datetime]]],
    zone_name: str,
) -> list[DeferredWork]:
    """Declined work with its due date, and the day it was done if a later visit did it."""
    done_on: dict[str, list[date]] = defaultdict(list)
    for entry in entries:
        for line in entry.work:
            done_on[_same_work_key(line.description, line.part_number)].append(entry.day)
    items = []
    for entry in entries:
        for line, line_id, at in declined.get(entry.visit.id, []):
            declined_on = _local_day(at, zone_name)
            urgency = domain.Urgency(line.urgency)
            later = [
                day
                for day in done_on.get(_same_work_key(line.description, line.part_number), [])
                if day > entry.day
            ]
            items.append(
                DeferredWork(
                    entry.visit.id,
                    vehicle_id,
                    line_id,
                    line.description,
                    line.part_number,
                    line.urgency,
                    declined_on,
                    declined_on + DUE_AFTER[urgency],
                    min(later) if later else None,
                    line.hours,
                )
            )
    return sorted(items, key=lambda item: (item.done_on is not None, item.due_on))


def open_deferred_work(session: Session, vehicle_id: str, zone_name: str) -> list[DeferredWork]:
    """The car's declined work not done since, soonest due first (the tablet shows it at
    the car's next check-in)."""
    found = health_file(session, vehicle_id, zone_name)
    return [item for item in found.deferred if item.open] if found else []


def deferred_work_due(
    session: Session, until: date, zone_name: str, *, declined_since: date | None = None
) -> list[DeferredWork]:
    """Open deferred work of every car due on or before ``until`` (for the reminders);
    only work declined since ``declined_since`` (default: a year before ``until``)."""
    since = declined_since or (until - timedelta(days=365))
    start = datetime.combine(since, datetime.min.time(), tzinfo=shop_zone(zone_name))
    vehicle_ids = set(
        session.scalars(
            select(Visit.vehicle_id)
            .join(QuoteRow, QuoteRow.visit_id == Visit.id)
            .join(ApprovalRow, ApprovalRow.quote_id == QuoteRow.id)
            .join(ApprovalDecisionRow, ApprovalDecisionRow.approval_id == ApprovalRow.id)
            .where(
                ApprovalRow.approved_at >= start,
                ApprovalDecisionRow.decision == domain.LineDecision.declined,
            )
        )
    )
    due = []
    for vehicle_id in sorted(vehicle_ids):
        due.extend(
            item
            for item in open_deferred_work(session, vehicle_id, zone_name)
            if item.due_on <= until
        )
    return sorted(due, key=lambda item: item.due_on)


def open_deferred_work_by_car(
    session: Session, vehicle_ids: list[str], zone_name: str, *, declined_since: date
) -> dict[str, list[DeferredWork]]:
    """The open deferred work of many cars at once (the reminders' daily run), declined
    at visits since ``declined_since``: the same items as :func:`open_deferred_work`
    gives per car, in a few queries per thousand cars (a line declined earlier, and
    whether a later visit did it, need no older visit)."""
    found: dict[str, list[DeferredWork]] = {}
    start = datetime.combine(declined_since, datetime.min.time(), tzinfo=shop_zone(zone_name))
    for first in range(0, len(vehicle_ids), 900):
        chunk = vehicle_ids[first : first + 900]
        entries: dict[str, list[VisitEntry]] = defaultdict(list)
        # Rows, not ORM objects: ``_deferred`` reads only a visit's id and day.
        visits = list(
            session.execute(
                select(Visit.id, Visit.vehicle_id, Visit.checked_in_at, Visit.mileage_in_km)
                .where(Visit.vehicle_id.in_(chunk), Visit.checked_in_at >= start)
                .order_by(Visit.checked_in_at)
            )
        )
        work, declined = _approved_work(session, [visit.id for visit in visits])
        for visit in visits:
            entries[visit.vehicle_id].append(
                VisitEntry(
                    visit=visit,  # type: ignore[arg-type]
                    day=_local_day(visit.checked_in_at, zone_name),
                    odometer_km=visit.mileage_in_km,
                    fuel_eighths=None,
                    tread_mm={},
                    work=work.get(visit.id, []),
                )
            )
        for vehicle_id, car_entries in entries.items():
            items = [
                item
                for item in _deferred(vehicle_id, car_entries, declined, zone_name)
                if item.open
            ]
            if items:
                found[vehicle_id] = items
    return found


def cars_with_declined_work(session: Session, since: date, zone_name: str) -> list[str]:
    """Cars with work declined since ``since`` (shop time)."""
    start = datetime.combine(since, datetime.min.time(), tzinfo=shop_zone(zone_name))
    return sorted(
        set(
            session.scalars(
                select(Visit.vehicle_id)
                .join(QuoteRow, QuoteRow.visit_id == Visit.id)
                .join(ApprovalRow, ApprovalRow.quote_id == QuoteRow.id)
                .join(ApprovalDecisionRow, ApprovalDecisionRow.approval_id == ApprovalRow.id)
                .where(
                    ApprovalRow.approved_at >= start,
                    ApprovalDecisionRow.decision == domain.LineDecision.declined,
                )
            )
        )
    )


__all__ = [
    "DeferredWork",
    "HealthFile",
    "MarkView",
    "VisitEntry",
    "WorkLine",
    "cars_with_declined_work",
    "deferred_work_due",
    "health_file",
    "open_deferred_work",
    "open_deferred_work_by_car",
]
