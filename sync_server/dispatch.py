"""Dispatch (派工): who does a visit's work.

The desk picks the job type (a speciality) and a technician, or says explicitly "any
technician"; the page suggests technicians with that speciality first, least loaded
first — their booked minutes in today's day plan plus the jobs already dispatched to
them and still in the shop — and puts anyone absent today last. Work cannot start
before the visit is dispatched (:func:`require_dispatch`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.i18n import Text
from shared.shop_calendar import ShopCalendar
from sync_server.appointment_tables import AppointmentPlan, TechnicianAbsence
from sync_server.appointments.day_plan import day_plan
from sync_server.back_office_tables import JobAssignment, Technician
from sync_server.visit_tables import Visit

# A job still dispatched counts as this many minutes of a technician's day.
OPEN_JOB_MINUTES = 60
# The statuses in which dispatched work occupies the technician.
WORKING_STATUSES = ("approved", "in_progress", "quality_check")
MAX_SPECIALITY = 40

NOT_DISPATCHED = Text(
    "Dispatch the work first: choose a technician, or “any technician”.", "server"
)
CHOOSE_TECHNICIAN = Text("Choose a technician from the list, or “any technician”.", "server")
TECHNICIAN_ABSENT = Text("{name} is absent today: choose someone else.", "server")


class DispatchRefused(Exception):
    """A dispatch the desk cannot make, or work that cannot start undispatched."""

    def __init__(self, message: Text) -> None:
        self.message = message
        super().__init__(message.render("en"))


@dataclass(frozen=True)
class TechnicianSuggestion:
    """One technician as the dispatch form offers them."""

    technician_id: int
    name: str
    specialities: tuple[str, ...]
    has_speciality: bool
    booked_minutes: int  # in today's day plan
    open_jobs: int  # visits dispatched to them and still being worked on
    absent: bool

    @property
    def load_minutes(self) -> int:
        return self.booked_minutes + self.open_jobs * OPEN_JOB_MINUTES


def current_assignment(session: Session, visit_id: str) -> JobAssignment | None:
    """The visit's dispatch as it stands (the latest row)."""
    return session.scalars(
        select(JobAssignment)
        .where(JobAssignment.visit_id == visit_id)
        .order_by(JobAssignment.id.desc())
        .limit(1)
    ).first()


def job_type(session: Session, visit: Visit) -> str:
    """The visit's job type: as dispatched, else as booked with its appointment."""
    assignment = current_assignment(session, visit.id)
    if assignment is not None and assignment.speciality:
        return assignment.speciality
    if visit.appointment_id:
        plan = session.get(AppointmentPlan, visit.appointment_id)
        if plan is not None and plan.speciality:
            return plan.speciality
    return ""


def open_jobs_by_technician(session: Session) -> dict[int, int]:
    """How many visits still being worked on are dispatched to each technician."""
    rows = session.execute(
        select(JobAssignment.visit_id, JobAssignment.id, JobAssignment.technician_id)
        .join(Visit, Visit.id == JobAssignment.visit_id)
        .where(Visit.status.in_(WORKING_STATUSES))
    ).all()
    latest: dict[str, tuple[int, int | None]] = {}
    for visit_id, row_id, technician_id in rows:
        if visit_id not in latest or row_id > latest[visit_id][0]:
            latest[visit_id] = (row_id, technician_id)
    counts: dict[int, int] = {}
    for _row_id, technician_id in latest.values():
        if technician_id is not None:
            counts[technician_id] = counts.get(technician_id, 0) + 1
    return counts


def suggest_technicians(
    session: Session, calendar: ShopCalendar, speciality: str, day: date
) -> list[TechnicianSuggestion]:
    """Every active technician, best suited first: with the speciality, present today,
    least loaded (day plan plus open jobs), then by name."""
    plan = day_plan(session, calendar, day)
    booked = {row.resource_id: row.total_minutes for row in plan.technicians}
    absent = {row.resource_id for row in plan.technicians if row.absent}
    jobs = open_jobs_by_technician(session)
    suggestions = [
        TechnicianSuggestion(
            technician_id=person.id,
            name=person.name,
            specialities=tuple(person.specialities or ()),
            has_speciality=bool(speciality) and speciality in (person.specialities or ()),
            booked_minutes=booked.get(person.id, 0),
            open_jobs=jobs.get(person.id, 0),
            absent=person.id in absent,
        )
        for person in session.scalars(select(Technician).where(Technician.active.is_(True)))
    ]
    suggestions.sort(key=lambda s: (s.absent, not s.has_speciality, s.load_minutes, s.name))
    return suggestions


def dispatch(
    session: Session,
    visit_id: str,
    technician_id: int | None,
    speciality: str,
    assigned_by_user_id: int | None,
    day: date,
) -> JobAssignment:
    """Dispatch the visit's work to a technician, or to any (``technician_id`` None).

    Raises :class:`DispatchRefused` for a technician who is unknown, no longer active or
    absent on ``day``. Flushed, not committed."""
    speciality = " ".join(speciality.split())[:MAX_SPECIALITY]
    if technician_id is not None:
        technician = session.get(Technician, technician_id)
        if technician is None or not technician.active:
            raise DispatchRefused(CHOOSE_TECHNICIAN)
        absent = session.scalar(
            select(TechnicianAbsence.id).where(
                TechnicianAbsence.technician_id == technician_id,
                TechnicianAbsence.first_day <= day,
                TechnicianAbsence.last_day >= day,
            )
        )
        if absent is not None:
            raise DispatchRefused(replace(TECHNICIAN_ABSENT, params={"name": technician.name}))
    row = JobAssignment(
        visit_id=visit_id,
        technician_id=technician_id,
        any_technician=technician_id is None,
        speciality=speciality,
        assigned_by_user_id=assigned_by_user_id,
    )
    session.add(row)
    session.flush()
    return row


def require_dispatch(session: Session, visit_id: str) -> JobAssignment:
    """The visit's dispatch; :class:`DispatchRefused` when there is none."""
    assignment = current_assignment(session, visit_id)
    if assignment is None or (assignment.technician_id is None and not assignment.any_technician):
        raise DispatchRefused(NOT_DISPATCHED)
    return assignment
