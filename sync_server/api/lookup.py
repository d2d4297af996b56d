"""Finding customers and today's appointments.

Staff may search customers. A lobby kiosk may only find today's appointment by an exact
code, phone or plate, and sees masked names, plates and phones: the person at the
kiosk may be someone else who typed a plate they saw in the car park.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from shared.i18n import Text
from shared.masking import mask_name, mask_phone, mask_plate
from shared.validation import check_phone, check_plate
from sync_server import db
from sync_server.access import STAFF, allow, require_caller
from sync_server.api.body import whole_number_arg
from sync_server.problems import Problem
from sync_server.shop import shop_settings, today_bounds
from sync_server.visit_tables import Appointment, Customer, Vehicle

bp = Blueprint("lookup", __name__)

MAX_CUSTOMERS_PER_PAGE = 50


def _issues_problem(checked: Any) -> Problem:
    return Problem(422, "validation", errors=[issue.to_dict() for issue in checked.issues])


def appointment_json(appointment: Appointment, *, masked: bool) -> dict[str, Any]:
    customer, vehicle = appointment.customer, appointment.vehicle
    body: dict[str, Any] = {
        "id": appointment.id,
        "expected_arrival": appointment.expected_arrival.isoformat(),
        "requested_work": appointment.requested_work,
        "concern_codes": list(appointment.concern_codes),
        "expected_duration_minutes": appointment.expected_duration_minutes,
        "customer_id": customer.id,
        "vehicle_id": vehicle.id,
        "vehicle": {"make": vehicle.make, "model": vehicle.model, "year": vehicle.year},
    }
    if masked:
        body["customer_name"] = mask_name(customer.name)
        body["phone"] = mask_phone(customer.phone)
        body["plate"] = mask_plate(vehicle.plate)
    else:
        body |= {
            "code": appointment.code,
            "customer_name": customer.name,
            "phone": customer.phone,
            "plate": vehicle.plate,
            "vin": vehicle.vin,
            "tier": customer.tier,
        }
    return body


@bp.get("/appointments/lookup")
@allow("kiosk", "tablet", *STAFF)
def lookup_appointment() -> ResponseReturnValue:
    given = {key: request.args.get(key, "").strip() for key in ("code", "phone", "plate")}
    given = {key: value for key, value in given.items() if value}
    if len(given) != 1:
        raise Problem(
            400,
            "lookup-needs-one-key",
            Text("Look up by exactly one of: code, phone or plate.", "server"),
        )
    ((key, value),) = given.items()
    shop = shop_settings(db.session())
    start, end = today_bounds(shop)
    query = (
        select(Appointment)
        .join(Appointment.customer)
        .join(Appointment.vehicle)
        .options(joinedload(Appointment.customer), joinedload(Appointment.vehicle))
        .where(
            Appointment.expected_arrival >= start,
            Appointment.expected_arrival < end,
            Appointment.status == "booked",
        )
    )
    if key == "code":
        query = query.where(Appointment.code == value.upper().replace("-", "").replace(" ", ""))
    elif key == "phone":
        checked = check_phone(value, shop.phone_region, field="phone")
        if not checked.ok:
            raise _issues_problem(checked)
        query = query.where(Customer.phone == checked.value)
    else:
        checked = check_plate(value, shop.plate_region, field="plate")
        if not checked.ok:
            raise _issues_problem(checked)
        query = query.where(Vehicle.plate == checked.value)
    appointments = db.session().scalars(query.order_by(Appointment.expected_arrival)).all()
    masked = require_caller().role == "kiosk"
    return jsonify(
        {"appointments": [appointment_json(item, masked=masked) for item in appointments]}
    )


def customer_json(customer: Customer) -> dict[str, Any]:
    return {
        "id": customer.id,
        "name": customer.name,
        "phone": customer.phone,
        "email": customer.email,
        "tier": customer.tier,
        "preferred_channel": customer.preferred_channel,
        "reminders_opt_in": customer.reminders_opt_in,
        "vehicles": [
            {"id": v.id, "plate": v.plate, "vin": v.vin, "make": v.make, "model": v.model}
            for v in customer.vehicles
        ],
    }


@bp.get("/customers")
@allow("tablet", *STAFF)
def list_customers() -> ResponseReturnValue:
    search = request.args.get("q", "").strip()
    offset = whole_number_arg("offset", 0)
    query = select(Customer).options(joinedload(Customer.vehicles))
    if search:
        pattern = f"%{search}%"
        query = query.outerjoin(Customer.vehicles).where(
            or_(
                Customer.name.ilike(pattern),
                Customer.phone.contains(search),
                Vehicle.plate.ilike(pattern),
                Vehicle.vin.ilike(pattern),
            )
        )
    rows = (
        db.session()
        .scalars(query.order_by(Customer.name).offset(offset).limit(MAX_CUSTOMERS_PER_PAGE))
        .unique()
        .all()
    )
    return jsonify({"customers": [customer_json(c) for c in rows], "offset": offset})
