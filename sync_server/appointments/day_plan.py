"""The day plan: each bay's and technician's load hour by hour, the day's arrivals, and
the no-shows — a booked customer not arrived a grace period after their time (the
managers set it on the capacity page) is marked a no-show, which the desk can undo."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from shared.shop_calendar import ShopCalendar
from sync_server.appointment_tables import AppointmentPlan, ServiceBay
from sync_server.appointments.capacity import SLOT, shifts_on, technicians_on, works_through
from sync_server.back_office_tables import Technician
from sync_server.visit_tables import Appointment

DEFAULT_GRACE_MINUTES = 30
HOUR = timedelta(hours=1)


@dataclass
class LoadRow:
    """One bay or technician: minutes booked in each hour of the day."""

    name: str
    minutes: list[int] = field(default_factory=list)
    # Whether the technician works in each hour (bays: always); absent all day.
    working: list[bool] = field(default_factory=list)
    absent: bool = False
    resource_id: int | None = None  # the bay's or technician's id

    @property
    def total_minutes(self) -> int:
        return sum(self.minutes)


@dataclass
class DayPlan:
    day: date
    hours: list[datetime]
    bays: list[LoadRow]
    technicians: list[LoadRow]
    arrivals: list[tuple[Appointment, AppointmentPlan | None]]


def mark_no_shows(session: Session, now: datetime, grace_minutes: int) -> int:
    """Mark booked appointments not arrived ``grace_minutes`` after their time."""
    late = session.scalars(
        select(AppointmentPlan)
        .join(Appointment, Appointment.id == AppointmentPlan.appointment_id)
        .where(
            AppointmentPlan.state == "booked",
            Appointment.status == "booked",
            AppointmentPlan.starts_at < now - timedelta(minutes=grace_minutes),
            AppointmentPlan.starts_at >= now - timedelta(days=2),
        )
    ).all()
    grace = timedelta(minutes=grace_minutes)
    # A plan changed after its grace period ended is the desk's word (an undone no-show).
    late = [plan for plan in late if plan.updated_at <= plan.starts_at + grace]
    for plan in late:
        plan.state, plan.no_show_at = "no_show", now
    return len(late)


def undo_no_show(session: Session, appointment_id: str) -> bool:
    plan = session.get(AppointmentPlan, appointment_id)
    if plan is None or plan.state != "no_show":
        return False
    plan.state, plan.no_show_at = "booked", None
    plan.updated_at = datetime.now(UTC)
    return True


def day_plan(session: Session, calendar: ShopCalendar, day: date) -> DayPlan:
    zone = calendar.timezone
    start = datetime.combine(day, datetime.min.time(), zone).astimezone(UTC)
    end = start + timedelta(days=1)
    interval = calendar.opening_interval(day)
    hours: list[datetime] = []
    if interval is not None:
        moment = interval[0].replace(minute=0).astimezone(UTC)
        while moment < interval[1]:
            hours.append(moment)
            moment += HOUR
    arrivals = [
        (row[0], row[1])
        for row in session.execute(
            select(Appointment, AppointmentPlan)
            .outerjoin(AppointmentPlan, AppointmentPlan.appointment_id == Appointment.id)
            .options(joinedload(Appointment.customer), joinedload(Appointment.vehicle))
            .where(Appointment.expected_arrival >= start, Appointment.expected_arrival < end)
            .order_by(Appointment.expected_arrival)
        )
    ]
    bays = {
        bay.id: LoadRow(bay.name, [0] * len(hours), resource_id=bay.id)
        for bay in session.scalars(
            select(ServiceBay).where(ServiceBay.active.is_(True)).order_by(ServiceBay.id)
        )
    }
    everyone = list(
        session.scalars(
            select(Technician).where(Technician.active.is_(True)).order_by(Technician.id)
        )
    )
    present = {person.id for person in technicians_on(session, day)}
    shifts = shifts_on(session, calendar, day, [p for p in everyone if p.id in present])
    people = {
        person.id: LoadRow(
            person.name,
            [0] * len(hours),
            [
                works_through(shifts, person.id, (hour,))
                or works_through(shifts, person.id, (hour + SLOT,))
                for hour in hours
            ],
            absent=person.id not in present,
            resource_id=person.id,
        )
        for person in everyone
    }
    for _appointment, plan in arrivals:
        if plan is None or plan.state not in ("booked", "arrived"):
            continue
        for index, hour in enumerate(hours):
            overlap = min(plan.ends_at, hour + HOUR) - max(plan.starts_at, hour)
            minutes = max(0, int(overlap.total_seconds() // 60))
            if not minutes:
                continue
            if plan.bay_id in bays:
                bays[plan.bay_id].minutes[index] += minutes
            if plan.technician_id in people:
                people[plan.technician_id].minutes[index] += minutes
    return DayPlan(day, hours, list(bays.values()), list(people.values()), arrivals)
