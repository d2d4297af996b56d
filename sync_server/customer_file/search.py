"""Find customers and cars by name, phone (any part), plate (with or without its province
character: 粤B12345 or B12345) or VIN (whole, or its end).

Each kind of query goes to its own index where there is one: a plate to
``vehicles.plate_search`` (``sync_server.search``), a VIN to ``vehicles.vin``, four digits
to ``customers.phone_last4``; any other part of a phone and a part of a name are matched
with ``LIKE`` over the customers (a few tens of thousands of rows: milliseconds).
Merged customers are found too, marked, so a desk that types an old number still lands
on the right file.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from shared.validation import normalize_vin, plate_key
from sync_server.search import is_last4_query, plate_search_key
from sync_server.visit_tables import Customer, Vehicle

LIMIT = 50
_PHONE_CHARS = re.compile(r"[\s\-+()]+")
_VIN_PART = re.compile(r"^[A-HJ-NPR-Z0-9]{6,17}$")


@dataclass
class Found:
    """A customer the search found, with their cars (the matching ones first)."""

    customer: Customer
    vehicles: list[Vehicle] = field(default_factory=list)
    matched_on: set[str] = field(default_factory=set)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def find_customers(session: Session, query: str, limit: int = LIMIT) -> list[Found]:
    """Customers matching ``query`` by name, phone, plate or VIN, best matches first."""
    text = unicodedata.normalize("NFKC", query or "").strip()[:64]
    if not text:
        return []
    found: dict[str, Found] = {}
    order: list[str] = []

    def take(customer: Customer, how: str, vehicle: Vehicle | None = None) -> None:
        entry = found.get(customer.id)
        if entry is None:
            entry = found[customer.id] = Found(customer)
            order.append(customer.id)
        entry.matched_on.add(how)
        if vehicle is not None and vehicle not in entry.vehicles:
            entry.vehicles.append(vehicle)

    # Plate: the key without the province; with a province typed, only that province.
    plate = plate_search_key(text)
    if len(plate) >= 3:
        wanted_full = plate_key(text)
        rows = session.execute(
            select(Vehicle, Customer)
            .join(Customer, Customer.id == Vehicle.customer_id)
            .where(Vehicle.plate_search == plate)
            .limit(limit)
        ).all()
        for vehicle, customer in rows:
            if wanted_full != plate and plate_key(vehicle.plate) != wanted_full:
                continue
            take(customer, "plate", vehicle)

    # VIN: whole, or its last characters (six or more; a part that is also a plate on
    # file is taken as the plate, so the desk's plate search stays an index look-up).
    vin = normalize_vin(text)
    plate_found = bool(found)
    if (
        _VIN_PART.match(vin)
        and any(ch.isdigit() for ch in vin)
        and (len(vin) == 17 or not plate_found)
    ):
        condition = (
            Vehicle.vin == vin if len(vin) == 17 else Vehicle.vin.like(_like(vin), escape="\\")
        )
        rows = session.execute(
            select(Vehicle, Customer)
            .join(Customer, Customer.id == Vehicle.customer_id)
            .where(condition)
            .limit(limit)
        ).all()
        for vehicle, customer in rows:
            take(customer, "vin", vehicle)

    # Phone: any part of the number (spaces, dashes and + ignored).
    digits = _PHONE_CHARS.sub("", text)
    if digits.isascii() and digits.isdigit() and len(digits) >= 3:
        condition = (
            Customer.phone_last4 == digits
            if is_last4_query(digits)
            else Customer.phone.like(_like(digits), escape="\\")
        )
        for customer in session.scalars(
            select(Customer).where(condition).order_by(Customer.name).limit(limit)
        ):
            take(customer, "phone")
        if is_last4_query(digits):  # four digits may also be in the middle of a number
            for customer in session.scalars(
                select(Customer)
                .where(
                    Customer.phone.like(_like(digits), escape="\\"), Customer.phone_last4 != digits
                )
                .order_by(Customer.name)
                .limit(limit)
            ):
                take(customer, "phone")

    # Name or e-mail: any part, in any case; not for letters and digits alone (a plate,
    # a VIN), which no name is made of.
    if not (text.isascii() and text.isalnum() and not text.isalpha()):
        for customer in session.scalars(
            select(Customer)
            .where(
                or_(
                    Customer.name.ilike(_like(text), escape="\\"),
                    Customer.email.ilike(_like(text), escape="\\"),
                )
            )
            .order_by(Customer.name)
            .limit(limit)
        ):
            take(customer, "name")

    results = [found[customer_id] for customer_id in order][:limit]
    _add_vehicles(session, results)
    return results


def _add_vehicles(session: Session, results: list[Found]) -> None:
    ids = [entry.customer.id for entry in results]
    if not ids:
        return
    by_customer: dict[str, list[Vehicle]] = {}
    for vehicle in session.scalars(
        select(Vehicle).where(Vehicle.customer_id.in_(ids)).order_by(Vehicle.plate)
    ):
        by_customer.setdefault(vehicle.customer_id, []).append(vehicle)
    for entry in results:
        for vehicle in by_customer.get(entry.customer.id, []):
            if vehicle not in entry.vehicles:
                entry.vehicles.append(vehicle)


__all__ = ["Found", "find_customers"]
