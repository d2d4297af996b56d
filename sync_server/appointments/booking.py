"""Booking, moving and cancelling appointments against the shop's capacity.

Every change takes the writers' lock (the appointment is a synced record devices get),
checks the day's capacity, picks a free bay and technician (or the ones asked for), and
claims their slots. The claims' primary key refuses a second booking of a bay or a
technician in a slot even if two sessions both saw it free: the loser gets
:class:`SlotFull` with the next free times, and nothing of its booking is written.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared import domain
from shared.i18n import Text
from shared.shop_calendar import ShopCalendar
from shared.wire import _format_datetime
from sync_server.appointment_tables import AppointmentPlan, AppointmentSlotClaim, ServiceBay
from sync_server.appointments.capacity import (
    SLOT,
    active_bays,
    day_capacity,
    day_slots,
    free_pair,
    shifts_on,
    slots_of,
    technicians_on,
    works_through,
)
from sync_server.back_office_tables import Technician
from sync_server.visit_tables import Appointment

CODE_ALPHABET = "ACDEFGHJKLMNPQRTUVWXY34679"  # no look-alikes (0/O, 1/I, 5/S, 8/B, 2/Z)
CODE_LENGTH = 6
NEXT_FREE_COUNT = 3
SEARCH_DAYS = 14


class SlotFull(Exception):
    """The time asked for cannot be booked; ``next_free`` are the next times that can."""

    def __init__(self, reason: Text, next_free: list[datetime] | None = None) -> None:
        super().__init__(reason.render("en"))
        self.reason = reason
        self.next_free = next_free or []


@dataclass
class BookingRequest:
    """What the desk asks for."""

    customer_id: str
    vehicle_id: str
    starts_at: datetime
    minutes: int = 60
    speciality: str = ""
    requested_work: str = ""
    channel: domain.AppointmentChannel = domain.AppointmentChannel.phone
    bay_id: int | None = None
    technician_id: int | None = None
    vip: bool = False
    concern_codes: list[domain.ConcernCode] = field(default_factory=list)


@dataclass(frozen=True)
class Placement:
    bay: ServiceBay
    technician: Technician
    slots: list[datetime]


def new_code(session: Session) -> str:
    """A short code for the confirmation and the kiosk, not yet used."""
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if session.scalar(select(Appointment.id).where(Appointment.code == code)) is None:
            return code


def _place(
    session: Session,
    calendar: ShopCalendar,
    starts_at: datetime,
    minutes: int,
    speciality: str,
    bay_id: int | None,
    technician_id: int | None,
    vip: bool,
    now: datetime,
    excluding: str | None = None,
) -> Placement | Text:
    """Where the booking fits, or why it does not."""
    day = starts_at.astimezone(calendar.timezone).date()
    open_slots = set(day_slots(calendar, day))
    slots = slots_of(starts_at, minutes)
    if not open_slots:
        name = calendar.holiday_name(day)
        if name:
            return Text(
                "The shop is closed on {day} ({holiday}).",
                "server",
                {"day": day.isoformat(), "holiday": name},
            )
        return Text("The shop is closed on {day}.", "server", {"day": day.isoformat()})
    if not set(slots) <= open_slots:
        return Text("The work would not fit in the shop's opening hours.", "server")
    bays = [bay for bay in active_bays(session) if bay_id is None or bay.id == bay_id]
    present = [
        person
        for person in technicians_on(session, day, speciality)
        if technician_id is None or person.id == technician_id
    ]
    if technician_id is not None and not present:
        return Text("This technician is not at work that day.", "server")
    shifts = shifts_on(session, calendar, day, present)
    people = [person for person in present if works_through(shifts, person.id, slots)]
    if technician_id is not None and not people:
        return Text("This technician does not work at that time.", "server")
    capacity = day_capacity(session, calendar, day, now, speciality=speciality, excluding=excluding)
    hours = len(slots) * SLOT.total_seconds() / 3600
    if hours > (capacity.free_for_vip if vip else capacity.free) + 1e-9:
        return Text("This day is fully booked for this work.", "server")
    pair = free_pair(session, slots, bays, people)
    if pair is None:
        return Text("This time is fully booked.", "server")
    return Placement(pair[0], pair[1], slots)


def next_free(
    session: Session,
    calendar: ShopCalendar,
    after: datetime,
    minutes: int,
    speciality: str = "",
    *,
    vip: bool = False,
    now: datetime,
    count: int = NEXT_FREE_COUNT,
    excluding: str | None = None,
) -> list[datetime]:
    """The next ``count`` start times after ``after`` where the work fits."""
    found: list[datetime] = []
    day = after.astimezone(calendar.timezone).date()
    for offset in range(SEARCH_DAYS):
        current: date = day + timedelta(days=offset)
        for slot in day_slots(calendar, current):
            if slot <= after or slot <= now:
                continue
            placed = _place(
                session, calendar, slot, minutes, speciality, None, None, vip, now, excluding
            )
            if isinstance(placed, Placement):
                found.append(slot)
                if len(found) >= count:
                    return found
    return found


def _claim(session: Session, appointment_id: str, placement: Placement) -> None:
    """Claim the bay's and the technician's slots; the database refuses a double booking."""
    try:
        with session.begin_nested():
            for slot in placement.slots:
                session.add(
                    AppointmentSlotClaim(
                        resource=f"bay:{placement.bay.id}",
                        slot_start=slot,
                        appointment_id=appointment_id,
                    )
                )
                session.add(
                    AppointmentSlotClaim(
                        resource=f"tech:{placement.technician.id}",
                        slot_start=slot,
                        appointment_id=appointment_id,
                    )
                )
            session.flush()
    except IntegrityError as error:
        raise SlotFull(Text("Someone else just booked this time.", "server")) from error


def _refuse(
    session: Session,
    calendar: ShopCalendar,
    reason: Text,
    request_start: datetime,
    minutes: int,
    speciality: str,
    vip: bool,
    now: datetime,
    excluding: str | None = None,
) -> SlotFull:
    return SlotFull(
        reason,
        next_free(
            session,
            calendar,
            request_start,
            minutes,
            speciality,
            vip=vip,
            now=now,
            excluding=excluding,
        ),
    )


def book(
    session: Session,
    calendar: ShopCalendar,
    request: BookingRequest,
    *,
    now: datetime | None = None,
    user_id: int | None = None,
) -> Appointment:
    """Book ``request``; raises :class:`SlotFull` with the next free times if it does not fit."""
    from sync_server.sync.records import lock_feed, put_server_record

    now = now or datetime.now(UTC)
    lock_feed(session)
    if request.starts_at <= now:
        raise SlotFull(Text("Choose a time in the future.", "server"))
    placed = _place(
        session,
        calendar,
        request.starts_at,
        request.minutes,
        request.speciality,
        request.bay_id,
        request.technician_id,
        request.vip,
        now,
    )
    if not isinstance(placed, Placement):
        raise _refuse(
            session,
            calendar,
            placed,
            request.starts_at,
            request.minutes,
            request.speciality,
            request.vip,
            now,
        )
    record = domain.Appointment(
        customer_id=request.customer_id,
        vehicle_id=request.vehicle_id,
        code=new_code(session),
        expected_arrival=request.starts_at.astimezone(UTC),
        requested_work=request.requested_work,
        concern_codes=list(request.concern_codes),
        expected_duration_minutes=request.minutes,
        channel=request.channel,
    )
    put_server_record(session, "appointment", record)
    _claim(session, record.id, placed)
    session.add(
        AppointmentPlan(
            appointment_id=record.id,
            starts_at=placed.slots[0],
            ends_at=placed.slots[-1] + SLOT,
            bay_id=placed.bay.id,
            technician_id=placed.technician.id,
            speciality=request.speciality,
            vip=request.vip,
            created_by_user_id=user_id,
        )
    )
    session.flush()
    appointment = session.get(Appointment, record.id)
    assert appointment is not None
    return appointment


def _plan(session: Session, appointment_id: str) -> AppointmentPlan:
    plan = session.get(AppointmentPlan, appointment_id)
    if plan is None or plan.state == "cancelled":
        raise SlotFull(Text("This appointment can no longer be changed.", "server"))
    return plan


def move(
    session: Session,
    calendar: ShopCalendar,
    appointment_id: str,
    starts_at: datetime,
    *,
    minutes: int | None = None,
    bay_id: int | None = None,
    technician_id: int | None = None,
    now: datetime | None = None,
) -> AppointmentPlan:
    """Move a booking to ``starts_at``; its old slots are free again only if the move works."""
    from sync_server.sync.records import lock_feed, update_server_record

    now = now or datetime.now(UTC)
    lock_feed(session)
    plan = _plan(session, appointment_id)
    length = minutes or int((plan.ends_at - plan.starts_at).total_seconds() // 60)
    if starts_at <= now:
        raise SlotFull(Text("Choose a time in the future.", "server"))
    with session.begin_nested() as attempt:
        session.execute(
            delete(AppointmentSlotClaim).where(
                AppointmentSlotClaim.appointment_id == appointment_id
            )
        )
        placed = _place(
            session,
            calendar,
            starts_at,
            length,
            plan.speciality,
            bay_id,
            technician_id,
            plan.vip,
            now,
            excluding=appointment_id,
        )
        if not isinstance(placed, Placement):
            found = next_free(
                session,
                calendar,
                starts_at,
                length,
                plan.speciality,
                vip=plan.vip,
                now=now,
                excluding=appointment_id,
            )
            attempt.rollback()
            raise SlotFull(placed, found)
        _claim(session, appointment_id, placed)
    plan.starts_at, plan.ends_at = placed.slots[0], placed.slots[-1] + SLOT
    plan.bay_id, plan.technician_id = placed.bay.id, placed.technician.id
    plan.sequence += 1
    update_server_record(
        session,
        "appointment",
        appointment_id,
        {
            "expected_arrival": _format_datetime(placed.slots[0]),
            "expected_duration_minutes": length,
        },
    )
    session.flush()
    return plan


def cancel(session: Session, appointment_id: str) -> AppointmentPlan:
    """Cancel a booking: its slots are free again and the kiosk no longer finds it."""
    from sync_server.sync.records import lock_feed

    lock_feed(session)
    plan = _plan(session, appointment_id)
    session.execute(
        delete(AppointmentSlotClaim).where(AppointmentSlotClaim.appointment_id == appointment_id)
    )
    plan.state = "cancelled"
    plan.sequence += 1
    appointment = session.get(Appointment, appointment_id)
    if appointment is not None:
        appointment.status = "cancelled"
    session.flush()
    return plan
