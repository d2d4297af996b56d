"""How much work the shop can take, per day and per half-hour slot.

A slot is open when the shop calendar (``shared.shop_calendar``: opening hours, the
public holidays of the shop's holiday country — China's with their make-up working days
— and the shop's own closed days) says the shop works then. Technicians work their own
hours per weekday (the shop's hours when none are set; a make-up working day takes
Monday's) on the days they are not absent; a booking needs one bay and one technician of
the work's speciality for each of its slots.

A slot's bookable hours are the smaller of the bays in service and the technicians at
work in it; a day's are their sum, minus a buffer for walk-ins learned from the shop's
own walk-ins on that weekday (the average over the last weeks), minus — until the VIP
cut-off — the share reserved for VIP customers. Managers set the share, the cut-off and
the holiday country (``sync_server.appointments.settings``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.shop_calendar import ShopCalendar
from shared.shop_time import shop_zone
from sync_server.appointment_tables import (
    AppointmentPlan,
    AppointmentSlotClaim,
    ServiceBay,
    TechnicianAbsence,
    TechnicianHours,
)
from sync_server.appointments.settings import capacity_rules
from sync_server.back_office_tables import Technician
from sync_server.shop_tables import Shop
from sync_server.visit_tables import Visit

SLOT = timedelta(minutes=30)
# Walk-ins are learned from this many past same weekdays; each takes this many hours.
WALK_IN_WEEKS = 8
WALK_IN_HOURS = 1.0
ACTIVE_STATES = ("booked", "arrived")


def shop_calendar(shop: Shop, country: str | None = None) -> ShopCalendar:
    """The shop's working calendar in its own time zone, with ``country``'s holidays
    (without one: the shop's phone region's)."""
    if country is None:
        region = shop.phone_region or ""
        country = region if len(region) == 2 else "CN"
    return ShopCalendar(timezone=shop_zone(shop.timezone), country=country)


def calendar_for(session: Session, shop: Shop) -> ShopCalendar:
    """The shop's calendar with the holiday country its manager chose."""
    return shop_calendar(shop, capacity_rules(session).holiday_country)


def day_slots(calendar: ShopCalendar, day: date) -> list[datetime]:
    """The half-hour slots (UTC starts) the shop works on ``day``; none on a closed day."""
    interval = calendar.opening_interval(day)
    if interval is None:
        return []
    start, end = (moment.astimezone(UTC) for moment in interval)
    slots = []
    while start + SLOT <= end:
        slots.append(start)
        start += SLOT
    return slots


def slots_of(start: datetime, minutes: int) -> list[datetime]:
    """The slots a booking from ``start`` lasting ``minutes`` covers."""
    count = max(1, math.ceil(minutes / (SLOT.total_seconds() / 60)))
    first = start.astimezone(UTC)
    return [first + SLOT * index for index in range(count)]


def technicians_on(session: Session, day: date, speciality: str = "") -> list[Technician]:
    """Active technicians not absent on ``day`` who do ``speciality`` (any when empty)."""
    absent = select(TechnicianAbsence.technician_id).where(
        TechnicianAbsence.first_day <= day, TechnicianAbsence.last_day >= day
    )
    people = session.scalars(
        select(Technician)
        .where(Technician.active.is_(True), Technician.id.not_in(absent))
        .order_by(Technician.id)
    ).all()
    return [person for person in people if not speciality or speciality in person.specialities]


Shift = tuple[datetime, datetime] | None  # UTC start and end; None: the shop's hours


def shifts_on(
    session: Session, calendar: ShopCalendar, day: date, people: Sequence[Technician]
) -> dict[int, Shift]:
    """When each of ``people`` works on ``day``: their own hours for that weekday (Monday's
    on a make-up working day), ``None`` for the shop's hours, absent when off that day."""
    ids = [person.id for person in people]
    return shifts_from(hours_of(session, ids), calendar, day, ids)


HoursByWeekday = dict[int, dict[int, TechnicianHours]]


def hours_of(session: Session, ids: Sequence[int]) -> HoursByWeekday:
    """Each technician's own hours, by weekday (none: the shop's hours)."""
    rows: HoursByWeekday = {}
    if ids:
        for row in session.scalars(
            select(TechnicianHours).where(TechnicianHours.technician_id.in_(list(ids)))
        ):
            rows.setdefault(row.technician_id, {})[row.weekday] = row
    return rows


def shifts_from(
    rows: HoursByWeekday, calendar: ShopCalendar, day: date, ids: Sequence[int]
) -> dict[int, Shift]:
    """``shifts_on`` from hours already read (one query for many days)."""
    weekday = 0 if calendar.is_makeup_working_day(day) else day.weekday()
    shifts: dict[int, Shift] = {}
    for person_id in ids:
        own = rows.get(person_id)
        if own is None:
            shifts[person_id] = None
        elif weekday in own:
            hours = own[weekday]
            shifts[person_id] = (
                datetime.combine(day, hours.starts, calendar.timezone).astimezone(UTC),
                datetime.combine(day, hours.ends, calendar.timezone).astimezone(UTC),
            )
    return shifts


def works_through(shifts: dict[int, Shift], person_id: int, slots: Sequence[datetime]) -> bool:
    """Whether the technician is at work in every one of ``slots``."""
    if person_id not in shifts:
        return False
    shift = shifts[person_id]
    return shift is None or all(shift[0] <= slot and slot + SLOT <= shift[1] for slot in slots)


def active_bays(session: Session) -> list[ServiceBay]:
    return list(
        session.scalars(
            select(ServiceBay).where(ServiceBay.active.is_(True)).order_by(ServiceBay.id)
        )
    )


def walk_in_buffer_hours(session: Session, calendar: ShopCalendar, day: date) -> float:
    """Hours to keep for walk-ins on ``day``: the shop's walk-ins on the same weekday over
    the last weeks (visits without an appointment), on average, times their usual length."""
    zone = calendar.timezone
    counts = []
    for week in range(1, WALK_IN_WEEKS + 1):
        past = day - timedelta(weeks=week)
        start = datetime.combine(past, datetime.min.time(), zone).astimezone(UTC)
        end = start + timedelta(days=1)
        counts.append(
            session.scalar(
                select(func.count(Visit.id)).where(
                    Visit.appointment_id.is_(None),
                    Visit.checked_in_at >= start,
                    Visit.checked_in_at < end,
                )
            )
            or 0
        )
    return sum(counts) / len(counts) * WALK_IN_HOURS


@dataclass(frozen=True)
class DayCapacity:
    """A day's technician-hours: what the shop has, keeps back, has booked, and has left."""

    day: date
    open: bool
    hours: float
    walk_in_buffer: float
    vip_reserve: float
    booked: float

    @property
    def free(self) -> float:
        return max(0.0, self.hours - self.walk_in_buffer - self.vip_reserve - self.booked)

    @property
    def free_for_vip(self) -> float:
        return max(0.0, self.hours - self.walk_in_buffer - self.booked)


def vip_reserve_applies(
    calendar: ShopCalendar, day: date, now: datetime, cutoff: timedelta
) -> bool:
    """VIP hours stay reserved until the cut-off before the day opens."""
    interval = calendar.opening_interval(day)
    return interval is not None and now < interval[0] - cutoff


def day_capacity(
    session: Session,
    calendar: ShopCalendar,
    day: date,
    now: datetime,
    *,
    speciality: str = "",
    excluding: str | None = None,
) -> DayCapacity:
    """The day's capacity for work of ``speciality`` (``excluding`` one booking being moved)."""
    slots = day_slots(calendar, day)
    people = technicians_on(session, day, speciality)
    shifts = shifts_on(session, calendar, day, people)
    bays = len(active_bays(session))
    slot_hours = SLOT.total_seconds() / 3600
    hours = slot_hours * sum(
        min(bays, sum(1 for person in people if works_through(shifts, person.id, (slot,))))
        for slot in slots
    )
    if not slots or not hours:
        return DayCapacity(day, bool(slots), 0.0, 0.0, 0.0, 0.0)
    query = select(AppointmentPlan.starts_at, AppointmentPlan.ends_at).where(
        AppointmentPlan.starts_at >= slots[0],
        AppointmentPlan.starts_at < slots[-1] + SLOT,
        AppointmentPlan.state.in_(ACTIVE_STATES),
    )
    if speciality:
        query = query.where(AppointmentPlan.speciality == speciality)
    if excluding:
        query = query.where(AppointmentPlan.appointment_id != excluding)
    booked = sum((end - start).total_seconds() / 3600 for start, end in session.execute(query))
    buffer = min(hours, walk_in_buffer_hours(session, calendar, day))
    rules = capacity_rules(session)
    reserved = vip_reserve_applies(calendar, day, now, rules.vip_cutoff)
    reserve = hours * rules.vip_share if reserved else 0.0
    return DayCapacity(day, True, hours, buffer, reserve, booked)


def busy_resources(session: Session, slots: Sequence[datetime]) -> set[str]:
    """Bays and technicians (``bay:1``, ``tech:2``) claimed in any of ``slots``."""
    if not slots:
        return set()
    return set(
        session.scalars(
            select(AppointmentSlotClaim.resource).where(
                AppointmentSlotClaim.slot_start.in_(list(slots))
            )
        )
    )


def free_pair(
    session: Session,
    slots: Sequence[datetime],
    bays: Iterable[ServiceBay],
    people: Iterable[Technician],
) -> tuple[ServiceBay, Technician] | None:
    """The first bay and technician free for every one of ``slots``."""
    busy = busy_resources(session, slots)
    bay = next((item for item in bays if f"bay:{item.id}" not in busy), None)
    person = next((item for item in people if f"tech:{item.id}" not in busy), None)
    return (bay, person) if bay is not None and person is not None else None
