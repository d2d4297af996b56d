"""The forward load: cars coming due per week against the bookable technician hours, so
an empty (or an overfull) week shows weeks ahead.

Weeks start on Monday at midnight, shop time. Per week: the appointments booked (and
their hours), the bookable technician hours — each open half-hour slot counts the
smaller of the bays in service and the technicians at work in it (their own hours, their
absences, the shop's calendar with its holidays and make-up working days: the rules of
``sync_server.appointments.capacity``), less the hours kept for walk-ins (the shop's own
walk-ins per weekday over the last eight weeks) — and what is left free; and the cars
coming due that week (maintenance by date or by projected mileage, declined work coming
due: each car's stored due dates, ``follow_up_cars_due``) with the hours they would take
(the service type's job preset, the declined labour line's hours). A car already booked
in is counted once, as its appointment; a car due twice in a week (oil and brakes) is
one car with the hours of both.
The appointments are one query grouped by week, the cars due one query; the capacity a
handful of queries for the whole range, not a few per day.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.shop_calendar import ShopCalendar
from sync_server.appointment_tables import AppointmentPlan, TechnicianAbsence
from sync_server.appointments.capacity import (
    ACTIVE_STATES,
    SLOT,
    WALK_IN_HOURS,
    WALK_IN_WEEKS,
    active_bays,
    day_slots,
    hours_of,
    shifts_from,
    works_through,
)
from sync_server.back_office_tables import Technician
from sync_server.follow_up.tables import CarDue
from sync_server.reports.periods import period_index, week_starts
from sync_server.reports.sql import seconds_between
from sync_server.visit_tables import Appointment, Visit


@dataclass(frozen=True)
class WeekLoad:
    week_start: date  # the Monday, shop time
    appointments: int
    booked_hours: float
    due_cars: int  # cars coming due that week, not booked in
    due_hours: float  # the hours they would take, estimated
    bookable_hours: float

    @property
    def cars_due(self) -> int:
        """Every car expected that week: the appointments and the cars coming due."""
        return self.appointments + self.due_cars

    @property
    def free_hours(self) -> float:
        return round(max(0.0, self.bookable_hours - self.booked_hours), 1)

    @property
    def load_share(self) -> float | None:
        return self.booked_hours / self.bookable_hours if self.bookable_hours else None


def first_monday(today: date) -> date:
    return today - timedelta(days=today.weekday())


def _walk_ins_per_weekday(session: Session, calendar: ShopCalendar, today: date) -> list[float]:
    """The average walk-ins per weekday (Monday first) over the last weeks, in one query."""
    first = today - timedelta(weeks=WALK_IN_WEEKS)
    zone = calendar.timezone
    bounds = [
        datetime.combine(first + timedelta(days=n), datetime.min.time(), zone).astimezone(UTC)
        for n in range(WALK_IN_WEEKS * 7 + 1)
    ]
    day = period_index(Visit.checked_in_at, bounds).label("day")
    rows = session.execute(
        select(day, func.count(Visit.id))
        .where(
            Visit.appointment_id.is_(None),
            Visit.checked_in_at >= bounds[0],
            Visit.checked_in_at < bounds[-1],
        )
        .group_by(day)
    )
    totals = [0.0] * 7
    for index, count in rows:
        totals[(first + timedelta(days=int(index))).weekday()] += count
    return [total / WALK_IN_WEEKS for total in totals]


def _bookable_hours(
    session: Session, calendar: ShopCalendar, days: list[date], walk_ins: list[float]
) -> dict[date, float]:
    people = session.scalars(
        select(Technician).where(Technician.active.is_(True)).order_by(Technician.id)
    ).all()
    absences = session.execute(
        select(
            TechnicianAbsence.technician_id, TechnicianAbsence.first_day, TechnicianAbsence.last_day
        ).where(TechnicianAbsence.first_day <= days[-1], TechnicianAbsence.last_day >= days[0])
    ).all()
    bays = len(active_bays(session))
    own_hours = hours_of(session, [person.id for person in people])
    slot_hours = SLOT.total_seconds() / 3600
    hours: dict[date, float] = {}
    for day in days:
        slots = day_slots(calendar, day)
        away = {who for who, first, last in absences if first <= day <= last}
        present = [person for person in people if person.id not in away]
        if not slots or not present or not bays:
            hours[day] = 0.0
            continue
        shifts = shifts_from(own_hours, calendar, day, [person.id for person in present])
        total = slot_hours * sum(
            min(bays, sum(1 for person in present if works_through(shifts, person.id, (slot,))))
            for slot in slots
        )
        buffer = min(total, walk_ins[day.weekday()] * WALK_IN_HOURS)
        hours[day] = total - buffer
    return hours


def cars_due_by_week(
    session: Session, calendar: ShopCalendar, today: date, monday: date, weeks: int
) -> dict[int, tuple[int, float]]:
    """Per week (its index from ``monday``): the cars coming due and their estimated
    hours, leaving out the cars with an appointment booked from ``today`` on."""
    last = monday + timedelta(weeks=weeks)
    from_today = datetime.combine(today, datetime.min.time(), calendar.timezone)
    booked = select(Appointment.vehicle_id).where(
        Appointment.status == "booked", Appointment.expected_arrival >= from_today
    )
    per_car: dict[tuple[int, str], float] = defaultdict(float)
    for vehicle_id, due_on, hours in session.execute(
        select(CarDue.vehicle_id, CarDue.due_on, CarDue.hours).where(
            CarDue.due_on >= monday, CarDue.due_on < last, CarDue.vehicle_id.not_in(booked)
        )
    ):
        per_car[((due_on - monday).days // 7, vehicle_id)] += hours or 0.0
    totals: dict[int, tuple[int, float]] = {}
    for (week, _car), hours in per_car.items():
        cars, total = totals.get(week, (0, 0.0))
        totals[week] = (cars + 1, total + hours)
    return totals


def forward_load(
    session: Session, calendar: ShopCalendar, today: date, weeks: int
) -> list[WeekLoad]:
    """``weeks`` weeks from the one ``today`` is in."""
    monday = first_monday(today)
    bounds = week_starts(monday, weeks, calendar.timezone)
    week = period_index(AppointmentPlan.starts_at, bounds).label("week")
    booked = {
        int(index): (int(count), float(seconds or 0) / 3600)
        for index, count, seconds in session.execute(
            select(
                week,
                func.count(AppointmentPlan.appointment_id),
                func.sum(seconds_between(AppointmentPlan.ends_at, AppointmentPlan.starts_at)),
            )
            .where(
                AppointmentPlan.starts_at >= bounds[0],
                AppointmentPlan.starts_at < bounds[-1],
                AppointmentPlan.state.in_(ACTIVE_STATES),
            )
            .group_by(week)
        )
    }
    days = [monday + timedelta(days=n) for n in range(weeks * 7)]
    hours = _bookable_hours(
        session, calendar, days, _walk_ins_per_weekday(session, calendar, today)
    )
    due = cars_due_by_week(session, calendar, today, monday, weeks)
    result = []
    for index in range(weeks):
        start = monday + timedelta(weeks=index)
        count, booked_hours = booked.get(index, (0, 0.0))
        due_cars, due_hours = due.get(index, (0, 0.0))
        bookable = sum(hours[start + timedelta(days=n)] for n in range(7))
        result.append(
            WeekLoad(
                week_start=start,
                appointments=count,
                booked_hours=round(booked_hours, 1),
                due_cars=due_cars,
                due_hours=round(due_hours, 1),
                bookable_hours=round(bookable, 1),
            )
        )
    return result
