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
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session

from shared.i18n import Text, plural_text
from shared.shop_calendar import ShopCalendar
from shared.shop_time import shop_zone
from shared.visit_status import VisitStatus
from sync_server.customer_file.wear import km_per_day
from sync_server.follow_up.tables import CarDue, FollowUpSettings, ServiceInterval
from sync_server.record_tables import WalkaroundRow
from sync_server.visit_tables import Vehicle, Visit

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


@dataclass(frozen=True)
class Interval:
    """A service interval as the run reads it (a plain copy of the settings row)."""

    service_type: str
    name_en: str
    name_zh: str
    codes: tuple[str, ...]
    months: int | None
    km: int | None
    preset: str


@dataclass(frozen=True)
class CarRow:
    id: str
    customer_id: str
    purchase_date: date | None
    year: int | None


@dataclass
class CarHistory:
    vehicle: CarRow
    readings: list[tuple[date, int]] = field(default_factory=list)
    # The latest visit handed back with each concern code: code → (day, odometer or None)
    last_service: dict[str, tuple[date, int | None]] = field(default_factory=dict)
    _rate: tuple[float | None] | None = None

    def km_per_day(self) -> float | None:
        """The car's own kilometres per day over its history (worked out once)."""
        if self._rate is None:
            self._rate = (km_per_day(self.readings, _bought(self.vehicle)),)
        return self._rate[0]


def _bought(vehicle: CarRow) -> date | None:
    if vehicle.purchase_date is not None:
        return vehicle.purchase_date
    return date(vehicle.year, 1, 1) if vehicle.year else None


def car_histories(
    session: Session, vehicle_ids: Collection[str] | None, zone_name: str, codes: set[str]
) -> dict[str, CarHistory]:
    """The cars (those with visits; ``None``: every car) with their odometer readings
    (the walk-around's, else the check-in's) and the visits handed back, in one query."""
    zone = shop_zone(zone_name)
    readings = select(
        WalkaroundRow.visit_id.label("visit_id"),
        func.max(WalkaroundRow.odometer_km).label("km"),
    ).group_by(WalkaroundRow.visit_id)
    if vehicle_ids is not None:  # only these cars' walk-arounds, not every one grouped
        readings = readings.where(
            WalkaroundRow.visit_id.in_(
                select(Visit.id).where(Visit.vehicle_id.in_(sorted(vehicle_ids)))
            )
        )
    odometer = readings.subquery()
    cars: dict[str, CarHistory] = {}
    delivered = VisitStatus.delivered.value
    quoted = [(code, f'"{code}"') for code in sorted(codes)]
    query = (
        select(
            Visit.vehicle_id,
            Vehicle.customer_id,
            Vehicle.purchase_date,
            Vehicle.year,
            Visit.checked_in_at,
            func.coalesce(odometer.c.km, Visit.mileage_in_km),
            # The codes as their JSON text: '"oil_change"' is looked for in it.
            cast(Visit.concern_codes, String),
            Visit.status,
        )
        .join(Vehicle, Vehicle.id == Visit.vehicle_id)
        .outerjoin(odometer, odometer.c.visit_id == Visit.id)
        .where(Visit.status != VisitStatus.cancelled)
        .order_by(Visit.vehicle_id, Visit.checked_in_at)
    )
    if vehicle_ids is not None:
        query = query.where(Visit.vehicle_id.in_(sorted(vehicle_ids)))
    for row in session.execute(query):
        vehicle_id, customer_id, bought, year, at, km, json_codes, status = row
        car = cars.get(vehicle_id)
        if car is None:
            car = cars[vehicle_id] = CarHistory(CarRow(vehicle_id, customer_id, bought, year))
        day = at.astimezone(zone).date()
        if km is not None:
            car.readings.append((day, km))
        if str(getattr(status, "value", status)) == delivered and json_codes:
            for code, text in quoted:
                if text in json_codes:
                    car.last_service[code] = (day, km)
    return cars


def _add_days(day: date, days: float) -> date:
    return day + timedelta(days=math.floor(days))


@dataclass(frozen=True)
class Due:
    """When a service type falls due for a car, by what ("date" or "mileage"), and why."""

    day: date
    by: str
    reason: Text


def maintenance_due(car: CarHistory, interval: Interval) -> Due | None:
    """When the service type falls due for the car, and why; None without a last one."""
    done = [car.last_service[code] for code in interval.codes if code in car.last_service]
    if not done:
        return None
    last_day, last_km = max(done, key=lambda service: service[0])
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
        return Due(
            by_km,
            "mileage",
            Text(
                "by mileage: {km} km after the last service at {last_km} km ({last}), "
                "the car drives about {rate} km a day",
                "server",
                params,
            ),
        )
    if by_date is None:
        return None
    if interval.km and rate is None:
        return Due(
            by_date,
            "date",
            plural_text(
                "by date: {months} month after the last service ({last}); the car's "
                "driving is not known yet",
                "by date: {months} months after the last service ({last}); the car's "
                "driving is not known yet",
                interval.months or 0,
                "server",
                **params,
            ),
        )
    return Due(
        by_date,
        "date",
        plural_text(
            "by date: {months} month after the last service ({last})",
            "by date: {months} months after the last service ({last})",
            interval.months or 0,
            "server",
            **params,
        ),
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


def active_intervals(session: Session) -> list[Interval]:
    """The service intervals in force, as plain copies."""
    return [
        Interval(
            row.service_type,
            row.name_en,
            row.name_zh,
            tuple(row.concern_codes or ()),
            row.months,
            row.km,
            row.preset,
        )
        for row in session.scalars(
            select(ServiceInterval)
            .where(ServiceInterval.active.is_(True))
            .order_by(ServiceInterval.id)
        )
    ]


def candidates(
    session: Session,
    customers: list[Any],
    settings: FollowUpSettings,
    calendar: ShopCalendar,
    today: date,
    zone_name: str,
) -> dict[str, list[Candidate]]:
    """Everything due for each of ``customers`` today, soonest and most urgent first.
    Maintenance and declined work are read from each car's stored due dates
    (``follow_up_cars_due``, kept current as its history changes), not worked out here."""
    found: dict[str, list[Candidate]] = defaultdict(list)
    ids = {customer.id for customer in customers}
    earliest = today - timedelta(days=settings.overdue_days)
    latest = today + timedelta(days=settings.lead_days)
    kinds = ["maintenance", "deferred"] if settings.deferred_reminders else ["maintenance"]
    for row, owner in session.execute(
        select(CarDue, Vehicle.customer_id)
        .join(Vehicle, Vehicle.id == CarDue.vehicle_id)
        .where(CarDue.due_on >= earliest, CarDue.due_on <= latest, CarDue.kind.in_(kinds))
    ):
        if owner not in ids:
            continue
        maintenance = row.kind == "maintenance"
        found[owner].append(
            Candidate(
                owner,
                row.vehicle_id,
                row.kind,
                f"{row.vehicle_id}:{row.subject}" if maintenance else row.subject,
                row.due_on,
                row.work,
                row.work_zh,
                row.preset,
                Text.stored(row.reason, "server", row.reason_params),
                PRIORITY[
                    "maintenance"
                    if maintenance
                    else "deferred_red"
                    if row.by == "red"
                    else "deferred"
                ],
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
