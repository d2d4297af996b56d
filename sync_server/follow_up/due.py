"""What falls due for whom: maintenance by date and by mileage, declined work coming due,
birthdays and holidays — read for every consenting customer in a few queries.

Maintenance: a service type (``follow_up_intervals``) was last done at the latest visit
handed back with one of its concern codes. It falls due ``months`` later (calendar
months, ``relativedelta``: 31 August + 6 months is 28 February) or when the car's
odometer reaches the last service's reading + ``km``, projected from the car's own
kilometres per day over its history (``customer_file.wear.km_per_day``: its first and
last readings, or one reading and the purchase date) — whichever comes first. A car
whose driving cannot be told is reminded by date only, and says so.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.i18n import Text
from shared.shop_calendar import ShopCalendar
from shared.visit_status import VisitStatus
from sync_server.customer_file.health import (
    DUE_AFTER,
    cars_with_declined_work,
    open_deferred_work_by_car,
)
from sync_server.customer_file.wear import km_per_day
from sync_server.follow_up.rules import shop_day
from sync_server.follow_up.tables import FollowUpSettings, ServiceInterval
from sync_server.models import Customer, Vehicle, Visit
from sync_server.record_tables import WalkaroundRow

# Which kind goes first when a customer has several due at once (the budget lets one go).
PRIORITY = {"deferred_red": 0, "maintenance": 1, "deferred": 2, "birthday": 3, "holiday": 4}
# Holidays worth a greeting, by a word of their name (chinese_calendar / holidays), with
# the words the message uses. Tomb-sweeping Day is a day of mourning: no greeting.
GREETED_HOLIDAYS: tuple[tuple[str, Text], ...] = (
    ("new year", Text("New Year", "server")),
    ("spring festival", Text("Spring Festival", "server")),
    ("labour day", Text("Labour Day", "server")),
    ("labor day", Text("Labour Day", "server")),
    ("dragon boat", Text("Dragon Boat Festival", "server")),
    ("mid-autumn", Text("Mid-Autumn Festival", "server")),
    ("national day", Text("National Day", "server")),
)


@dataclass(frozen=True)
class Candidate:
    """One reminder or greeting a customer could get today, and why."""

    customer_id: str
    vehicle_id: str | None
    kind: str  # maintenance, deferred, birthday, holiday
    subject: str  # the service type, the declined line, the holiday
    due_on: date
    work: str  # what the booking link fills in ("" for greetings)
    work_zh: str
    preset: str
    reason: Text
    priority: int

    @property
    def key(self) -> str:
        """Unique per customer, kind, subject and due date: nothing is sent twice."""
        return f"{self.kind}:{self.customer_id}:{self.subject}:{self.due_on.isoformat()}"[:160]


@dataclass
class CarHistory:
    vehicle: Any  # a row: id, customer_id, purchase_date, year
    readings: list[tuple[date, int]] = field(default_factory=list)
    # (day, odometer or None, concern codes) of each visit handed back
    services: list[tuple[date, int | None, set[str]]] = field(default_factory=list)
    _rate: tuple[float | None] | None = None

    def km_per_day(self) -> float | None:
        """The car's own kilometres per day over its history (worked out once)."""
        if self._rate is None:
            self._rate = (km_per_day(self.readings, _bought(self.vehicle)),)
        return self._rate[0]


def _bought(vehicle: Any) -> date | None:
    if vehicle.purchase_date is not None:
        return vehicle.purchase_date
    return date(vehicle.year, 1, 1) if vehicle.year else None


def car_histories(
    session: Session, customer_ids: set[str], zone_name: str
) -> dict[str, CarHistory]:
    """The consenting customers' cars with their odometer readings and services."""
    cars = {
        vehicle.id: CarHistory(vehicle)
        for vehicle in session.execute(
            select(Vehicle.id, Vehicle.customer_id, Vehicle.purchase_date, Vehicle.year)
        )
        if vehicle.customer_id in customer_ids
    }
    odometer_out = dict(
        session.execute(
            select(WalkaroundRow.visit_id, func.max(WalkaroundRow.odometer_km)).group_by(
                WalkaroundRow.visit_id
            )
        ).all()
    )
    for visit_id, vehicle_id, at, mileage, codes, status in session.execute(
        select(
            Visit.id,
            Visit.vehicle_id,
            Visit.checked_in_at,
            Visit.mileage_in_km,
            Visit.concern_codes,
            Visit.status,
        ).order_by(Visit.checked_in_at)
    ):
        car = cars.get(vehicle_id)
        if car is None or str(getattr(status, "value", status)) == VisitStatus.cancelled:
            continue
        day = shop_day(at, zone_name)
        km = odometer_out.get(visit_id) or mileage
        if km is not None:
            car.readings.append((day, km))
        if str(getattr(status, "value", status)) == VisitStatus.delivered:
            car.services.append((day, km, {str(code) for code in codes or ()}))
    return cars


def _add_days(day: date, days: float) -> date:
    return day + timedelta(days=math.floor(days))


def maintenance_due(car: CarHistory, interval: ServiceInterval) -> tuple[date, Text] | None:
    """When the service type falls due for the car, and why; None without a last one."""
    wanted = set(interval.concern_codes or ())
    done = [service for service in car.services if service[2] & wanted]
    if not done:
        return None
    last_day, last_km, _codes = done[-1]
    by_date = last_day + relativedelta(months=interval.months) if interval.months else None
    by_km = None
    rate = car.km_per_day() if interval.km else None
    if interval.km and rate and last_km is not None:
        reading_day, reading_km = car.readings[-1]
        by_km = _add_days(reading_day, (last_km + interval.km - reading_km) / rate)
    params = {
        "last": last_day.isoformat(),
        "months": interval.months or 0,
        "km": f"{interval.km or 0:,}",
        "last_km": f"{last_km or 0:,}",
        "rate": f"{rate or 0:.0f}",
    }
    if by_km is not None and (by_date is None or by_km < by_date):
        return by_km, Text(
            "by mileage: {km} km after the last service at {last_km} km ({last}), "
            "the car drives about {rate} km a day",
            "server",
            params,
        )
    if by_date is None:
        return None
    if interval.km and rate is None:
        return by_date, Text(
            "by date: {months} months after the last service ({last}); the car's "
            "driving is not known yet",
            "server",
            params,
        )
    return by_date, Text(
        "by date: {months} months after the last service ({last})", "server", params
    )


def holiday_today(calendar: ShopCalendar, today: date) -> tuple[str, Text] | None:
    """The holiday that starts today and earns a greeting (its first day off), if any.
    A make-up working day (调休) is a working day: no greeting, weekend or not."""
    name = calendar.holiday_name(today)
    if not name or calendar.is_makeup_working_day(today):
        return None
    if calendar.holiday_name(today - timedelta(days=1)) == name:
        return None  # not the first day
    lowered = name.casefold()
    for word, words in GREETED_HOLIDAYS:
        if word in lowered:
            return name, words
    return None


def _birthday_this_year(birthday: date, year: int) -> date:
    try:
        return birthday.replace(year=year)
    except ValueError:  # 29 February in a common year
        return date(year, 2, 28)


def candidates(
    session: Session,
    customers: list[Customer],
    settings: FollowUpSettings,
    calendar: ShopCalendar,
    today: date,
    zone_name: str,
) -> dict[str, list[Candidate]]:
    """Everything due for each of ``customers`` today, soonest and most urgent first."""
    found: dict[str, list[Candidate]] = defaultdict(list)
    ids = {customer.id for customer in customers}
    earliest = today - timedelta(days=settings.overdue_days)
    latest = today + timedelta(days=settings.lead_days)
    intervals = list(
        session.scalars(
            select(ServiceInterval)
            .where(ServiceInterval.active.is_(True))
            .order_by(ServiceInterval.id)
        )
    )
    cars = car_histories(session, ids, zone_name)
    for car in cars.values():
        for interval in intervals:
            due = maintenance_due(car, interval)
            if due is None or not earliest <= due[0] <= latest:
                continue
            found[car.vehicle.customer_id].append(
                Candidate(
                    car.vehicle.customer_id,
                    car.vehicle.id,
                    "maintenance",
                    f"{car.vehicle.id}:{interval.service_type}",
                    due[0],
                    interval.name_en,
                    interval.name_zh,
                    interval.preset,
                    due[1],
                    PRIORITY["maintenance"],
                )
            )
    if settings.deferred_reminders:
        # Work declined before this cannot fall due within the window (green: 180 days).
        since = earliest - max(DUE_AFTER.values())
        declined_cars = [
            vehicle_id
            for vehicle_id in cars_with_declined_work(session, since, zone_name)
            if vehicle_id in cars
        ]
        deferred = open_deferred_work_by_car(
            session, declined_cars, zone_name, declined_since=since
        )
        for vehicle_id, items in deferred.items():
            owner = cars[vehicle_id].vehicle.customer_id
            for item in items:
                if not earliest <= item.due_on <= latest:
                    continue
                red = item.urgency == "red"
                found[owner].append(
                    Candidate(
                        owner,
                        vehicle_id,
                        "deferred",
                        item.line_id,
                        item.due_on,
                        item.description,
                        item.description,
                        "",
                        Text(
                            "work declined on {declined}, due by {due}",
                            "server",
                            {
                                "declined": item.declined_on.isoformat(),
                                "due": item.due_on.isoformat(),
                            },
                        ),
                        PRIORITY["deferred_red" if red else "deferred"],
                    )
                )
    if settings.birthday_greetings:
        for customer in customers:
            if customer.birthday and _birthday_this_year(customer.birthday, today.year) == today:
                found[customer.id].append(
                    Candidate(
                        customer.id,
                        None,
                        "birthday",
                        "birthday",
                        today,
                        "",
                        "",
                        "",
                        Text("birthday today", "server"),
                        PRIORITY["birthday"],
                    )
                )
    holiday = holiday_today(calendar, today) if settings.holiday_greetings else None
    if holiday is not None:
        name, words = holiday
        for customer in customers:
            found[customer.id].append(
                Candidate(
                    customer.id,
                    None,
                    "holiday",
                    name,
                    today,
                    words.message,
                    words.render("zh_CN"),
                    "",
                    Text("a public holiday starts today", "server"),
                    PRIORITY["holiday"],
                )
            )
    for items in found.values():
        items.sort(key=lambda item: (item.priority, item.due_on, item.key))
    return found
