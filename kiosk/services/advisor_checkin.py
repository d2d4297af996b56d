"""The advisor's check-in at the car, on the tablet, without Kivy.

Most customers prefer a person to a kiosk: the advisor meets them at the car with the
tablet, taps their appointment among today's arrivals (or starts a walk-in), confirms
the car and the mileage, records the concern, and hands the tablet over so the customer
reads the privacy promise and signs. The walk-around of the same visit follows.

There is one check-in: this module only finds today's arrivals in the tablet's local
store and prepares :class:`kiosk.services.checkin_flow.CheckinFlow` for them — the same
validation, the same records (visit, consent with its text version and hash, signature),
the same single-transaction save into the local store and the same offline guarantees
as the lobby kiosk. The visit carries the advisor who took it (greeted on arrival).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from kiosk.services.appointment_lookup import AppointmentMatch
from kiosk.services.checkin_flow import CheckinFlow, KioskSetup
from kiosk.services.local_store import LocalStore
from shared.validation import format_plate

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Arrival:
    """One of today's appointments not yet checked in, as the advisor sees it."""

    appointment_id: str
    customer_id: str
    vehicle_id: str
    customer_name: str
    phone: str
    vip: bool
    plate: str  # formatted, e.g. 京A·12345
    make: str
    model: str
    last_mileage_km: int | None
    requested_work: str
    concern_codes: tuple[str, ...]
    expected_arrival: datetime
    expected_duration_minutes: int
    code: str

    @property
    def car(self) -> str:
        return " ".join(part for part in (self.make, self.model) if part)

    def match(self) -> AppointmentMatch:
        """The appointment as the check-in flow takes it (the tablet is staff's: the
        names are shown whole to the advisor, never on the lobby kiosk)."""
        return AppointmentMatch(
            appointment_id=self.appointment_id,
            customer_id=self.customer_id,
            vehicle_id=self.vehicle_id,
            customer_name_masked=self.customer_name,
            plate_masked=self.plate,
            phone_masked=self.phone,
            vehicle_make=self.make,
            vehicle_model=self.model,
            requested_work=self.requested_work,
            concern_codes=self.concern_codes,
            expected_arrival=self.expected_arrival.isoformat(),
            expected_duration_minutes=self.expected_duration_minutes,
            code=self.code,
        )


def _moment(value: object) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def todays_arrivals(store: LocalStore, zone: tzinfo, now: datetime | None = None) -> list[Arrival]:
    """Today's appointments (the shop's day, in ``zone``) that no visit has checked in
    yet, earliest first, VIPs first among equals."""
    today: date = (now or datetime.now(UTC)).astimezone(zone).date()
    booked: list[tuple[datetime, dict[str, Any]]] = []
    for record in store.find("appointment"):
        when = _moment(record.get("expected_arrival"))
        if record.get("deleted") or when is None or when.astimezone(zone).date() != today:
            continue
        if record.get("status", "booked") != "booked":
            continue
        booked.append((when, record))
    if not booked:
        return []
    taken = {
        str(visit.get("appointment_id"))
        for visit in store.find_in("visit", "appointment_id", [r["id"] for _w, r in booked])
        if not visit.get("deleted")
    }
    customers = store.get_many("customer", {str(r.get("customer_id")) for _w, r in booked})
    vehicles = store.get_many("vehicle", {str(r.get("vehicle_id")) for _w, r in booked})
    arrivals = []
    for when, record in booked:
        if record["id"] in taken:
            continue
        customer = customers.get(str(record.get("customer_id")), {})
        vehicle = vehicles.get(str(record.get("vehicle_id")), {})
        mileage = vehicle.get("last_mileage_km")
        arrivals.append(
            Arrival(
                appointment_id=record["id"],
                customer_id=str(record.get("customer_id") or ""),
                vehicle_id=str(record.get("vehicle_id") or ""),
                customer_name=str(customer.get("name") or ""),
                phone=str(customer.get("phone") or ""),
                vip=customer.get("tier") == "vip",
                plate=format_plate(str(vehicle.get("plate") or "")),
                make=str(vehicle.get("make") or ""),
                model=str(vehicle.get("model") or ""),
                last_mileage_km=mileage if isinstance(mileage, int) else None,
                requested_work=str(record.get("requested_work") or ""),
                concern_codes=tuple(str(c) for c in record.get("concern_codes") or ()),
                expected_arrival=when,
                expected_duration_minutes=int(record.get("expected_duration_minutes") or 60),
                code=str(record.get("code") or ""),
            )
        )
    arrivals.sort(key=lambda a: (a.expected_arrival, not a.vip, a.plate))
    return arrivals


def advisor_flow(setup: KioskSetup, advisor_user_id: int | None) -> CheckinFlow:
    """A fresh check-in taken by this advisor on this tablet."""
    return CheckinFlow(setup=setup, advisor_user_id=advisor_user_id)


def begin_arrival(flow: CheckinFlow, arrival: Arrival) -> None:
    """The advisor tapped an arrival: the check-in starts from its appointment."""
    flow.reset()
    flow.choose_appointment(arrival.match())
    flow.mileage_km = None


def begin_walk_in(flow: CheckinFlow) -> None:
    flow.reset()
    flow.start_walk_in()
