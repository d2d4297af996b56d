"""How much work the shop can take, per day and per half-hour slot.

A slot is open when the shop calendar (``shared.shop_calendar``: opening hours, China's
statutory holidays and make-up working days, the shop's own closed days) says the shop
works then. Technicians work the shop's hours on the days they are not absent; a booking
needs one bay and one technician of the work's speciality for each of its slots.

A day's bookable technician-hours are the present technicians' hours, minus a buffer
for walk-ins learned from the shop's own walk-ins on that weekday (the average over the
last weeks), minus — until the VIP cut-off — the share reserved for VIP customers.
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
)
from sync_server.models import Shop, Technician, Visit

SLOT = timedelta(minutes=30)
# Walk-ins are learned from this many past same weekdays; each takes this many hours.
WALK_IN_WEEKS = 8
WALK_IN_HOURS = 1.0
# The share of a day's technician-hours kept for VIPs until the cut-off before the day.
VIP_SHARE = 0.2
VIP_CUTOFF = timedelta(hours=24)
ACTIVE_STATES = ("booked", "arrived")


def shop_calendar(shop: Shop) -> ShopCalendar:
    """The shop's working calendar in its own time zone."""
    country = shop.phone_region if shop.phone_region and len(shop.phone_region) == 2 else "CN"
    return ShopCalendar(timezone=shop_zone(shop.timezone), country=country)


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
    """Active technicians at work on ``day`` who do ``speciality`` (any when empty)."""
    absent = select(TechnicianAbsence.technician_id).where(TechnicianAbsence.day == day)
    people = session.scalars(
        select(Technician)
        .where(Technician.active.is_(True), Technician.id.not_in(absent))
        .order_by(Technician.id)
    ).all()
    return [person for person in people if not speciality or speciality in person.specialities]


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


def vip_reserve_applies(calendar: ShopCalendar, day: date, now: datetime) -> bool:
    """VIP hours stay reserved until the cut-off before the day opens."""
    interval = calendar.opening_interval(day)
    return interval is not None and now < interval[0] - VIP_CUTOFF


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
    bays = active_bays(session)
    slot_hours = SLOT.total_seconds() / 3600
    hours = len(slots) * slot_hours * min(len(people), len(bays))
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
    reserve = hours * VIP_SHARE if vip_reserve_applies(calendar, day, now) else 0.0
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
