"""Changes as a device sends them, for tests that push to the server through the test
client: a hybrid logical clock value, one change, a record's wire fields, the changes of
a walk-in check-in (customer, vehicle, visit), and a push.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask.testing import FlaskClient
from server_fixtures import bearer

from shared import domain
from shared.wire import to_wire


def hlc(ms: int, node: str = "dev-a", counter: int = 0) -> str:
    return f"{ms:016d}-{counter:04d}-{node}"


def change(
    kind: str,
    record_id: str,
    fields: dict[str, Any],
    at: int,
    node: str = "dev-a",
    change_id: str | None = None,
    base: dict[str, str] | None = None,
) -> dict[str, Any]:
    made = {
        "change_id": change_id or str(uuid.uuid4()),
        "kind": kind,
        "id": record_id,
        "hlc": hlc(at, node),
        "fields": fields,
    }
    if base is not None:
        made["base"] = base
    return made


def fields_of(record: Any) -> dict[str, Any]:
    data = to_wire(record)
    data.pop("id")
    return data


def walk_in(
    at: int = 1_700_000_000_000, node: str = "dev-a", status_link_key: str = ""
) -> tuple[list[dict[str, Any]], str]:
    """The changes of one walk-in check-in: customer, vehicle, visit. With the device's
    status-link key, the visit's status token is the one the server keeps."""
    customer = domain.Customer(name="张伟", phone="+8613812345678")
    vehicle = domain.Vehicle(customer_id=customer.id, plate="京A12345")
    visit = domain.Visit(
        ticket_number="K-001",
        customer_id=customer.id,
        vehicle_id=vehicle.id,
        concern_text="Brake noise",
        checked_in_device_id=None,
    )
    visit.status_token = (
        domain.status_token_for(status_link_key, visit.id)
        if status_link_key
        else domain.new_status_token()  # a device without its key: the server replaces it
    )
    changes = [
        change("customer", customer.id, fields_of(customer), at, node),
        change("vehicle", vehicle.id, fields_of(vehicle), at + 1, node),
        change("visit", visit.id, fields_of(visit), at + 2, node),
    ]
    return changes, visit.id


def device_id_and_key(client: FlaskClient, token: str) -> tuple[str, str]:
    """The device's id and status-link key, as its status check tells it."""
    me = client.get("/api/v1/devices/me", headers=bearer(token)).json
    return me["device_id"], me["status_link_key"]


def push(client: FlaskClient, token: str, changes: list[dict[str, Any]]) -> Any:
    return client.post(
        "/api/v1/sync/push", json={"schema": 1, "changes": changes}, headers=bearer(token)
    )
