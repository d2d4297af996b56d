"""The lobby kiosk's copy of today's appointments: nothing a thief could read.

A kiosk gets no changes feed but a snapshot of today's booked appointments. Per
appointment it holds what it needs to start the visit (ids, time, requested work, the
car's make and model) and, to find it offline, a random salt with slow scrypt hashes of
the phone, plate and code (``shared.lookup``): no name, no phone, no plate, not even
masked, and no key. The hashes cost CPU on purpose, so they are made once per
appointment and kept in ``appointment_lookups``.

Today's appointments already used for a check-in are listed too, with the ticket of
that check-in, so a second scan on any kiosk says "You are already checked in — ticket
K1-004" instead of "not found".
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from shared.lookup import SCHEME, lookup_hash, new_salt
from sync_server.shop import shop_settings, today_bounds
from sync_server.sync.tables import AppointmentLookup
from sync_server.table_base import utcnow
from sync_server.visit_tables import Appointment, Visit

# Hashes made at once for one snapshot (each is ~60 ms of CPU and 16 MiB).
HASH_THREADS = 2


def _inputs(appointment: Appointment) -> tuple[str, str, str]:
    return appointment.customer.phone, appointment.vehicle.plate, appointment.code


def _inputs_sha256(salt: str, inputs: tuple[str, str, str]) -> str:
    return hashlib.sha256("\x00".join((SCHEME, salt, *inputs)).encode()).hexdigest()


def _make_lookup(appointment_id: str, inputs: tuple[str, str, str]) -> dict[str, Any]:
    salt = new_salt()
    phone, plate, code = inputs
    return {
        "appointment_id": appointment_id,
        "scheme": SCHEME,
        "inputs_sha256": _inputs_sha256(salt, inputs),
        "salt": salt,
        "phone_hash": lookup_hash(salt, "phone", phone),
        "plate_hash": lookup_hash(salt, "plate", plate),
        "code_hash": lookup_hash(salt, "code", code),
        "made_at": utcnow(),
    }


def lookups_for(
    session: Session, appointments: list[Appointment], *, again: bool = True
) -> dict[str, AppointmentLookup]:
    """The lookup hashes of these appointments, made now where missing or out of date."""
    ids = [item.id for item in appointments]
    known = {
        row.appointment_id: row
        for row in session.scalars(
            select(AppointmentLookup).where(AppointmentLookup.appointment_id.in_(ids))
        )
    } if ids else {}  # fmt: skip
    stale = [
        item
        for item in appointments
        if (row := known.get(item.id)) is None
        or row.scheme != SCHEME
        or row.inputs_sha256 != _inputs_sha256(row.salt, _inputs(item))
    ]
    if stale:
        with ThreadPoolExecutor(HASH_THREADS) as pool:
            made = list(pool.map(lambda item: _make_lookup(item.id, _inputs(item)), stale))
        for values in made:
            row = known.get(values["appointment_id"])
            if row is None:
                row = AppointmentLookup(**values)
                session.add(row)
                known[row.appointment_id] = row
            else:
                for name, value in values.items():
                    setattr(row, name, value)
        try:
            session.commit()
        except IntegrityError:
            # Another kiosk's pull made them at the same moment: theirs are as good.
            session.rollback()
            if not again:
                raise
            return lookups_for(session, appointments, again=False)
    return known


def kiosk_snapshot(session: Session) -> dict[str, Any]:
    """Today's appointments for a kiosk, as ``GET /sync/changes`` gives them."""
    start, end = today_bounds(shop_settings(session))
    appointments = list(
        session.scalars(
            select(Appointment)
            .options(joinedload(Appointment.customer), joinedload(Appointment.vehicle))
            .where(
                Appointment.expected_arrival >= start,
                Appointment.expected_arrival < end,
                Appointment.status.in_(("booked", "arrived")),
            )
            .order_by(Appointment.expected_arrival)
        )
    )
    tickets = _tickets(session, [item.id for item in appointments])
    appointments = [item for item in appointments if item.status == "booked" or item.id in tickets]
    lookups = lookups_for(session, appointments)
    changes = []
    for item in appointments:
        lookup = lookups[item.id]
        fields: dict[str, Any] = {
            "customer_id": item.customer_id,
            "vehicle_id": item.vehicle_id,
            "expected_arrival": item.expected_arrival.isoformat(),
            "requested_work": item.requested_work,
            "concern_codes": list(item.concern_codes),
            "expected_duration_minutes": item.expected_duration_minutes,
            "vehicle_make": item.vehicle.make,
            "vehicle_model": item.vehicle.model,
            "plate_region": item.vehicle.plate_region,
            "lookup_scheme": lookup.scheme,
            "lookup_salt": lookup.salt,
            "phone_hash": lookup.phone_hash,
            "plate_hash": lookup.plate_hash,
            "code_hash": lookup.code_hash,
        }
        if item.id in tickets:
            fields["checked_in_ticket"] = tickets[item.id]
        changes.append({"kind": "appointment", "id": item.id, "fields": fields})
    return {
        "snapshot": True,
        "day_starts": start.isoformat(),
        "changes": changes,
        "next_since": 0,
        "more": False,
    }


def _tickets(session: Session, appointment_ids: list[str]) -> dict[str, str]:
    """The ticket of the visit each of these appointments was checked in with."""
    if not appointment_ids:
        return {}
    rows = session.execute(
        select(Visit.appointment_id, Visit.ticket_number)
        .where(Visit.appointment_id.in_(appointment_ids))
        .order_by(Visit.checked_in_at)
    )
    return {appointment_id: ticket for appointment_id, ticket in rows if appointment_id}
