"""A tablet's local store with cars in the shop, as the tablet's pull gives them.

Used by the queue tests and the screenshot script. Times are relative to ``now`` so the
waiting times read the same whenever the tests run.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kiosk.services.local_store import LocalStore

TABLET_ID = "7a1c2e3f-4b5d-4c6e-9f70-8a9b0c1d2e3f"

# (ticket, customer name, tier, plate, make, model, status, minutes waiting, concern)
CARS = (
    ("A-011", "Emily Carter", "regular", "粤B88K21", "Volkswagen", "Tiguan L",
     "checked_in", 42, "Brake noise when stopping"),
    ("A-012", "陈静", "vip", "苏ED56789", "Tesla", "Model 3",
     "checked_in", 8, "Annual inspection"),
    ("A-009", "李强", "regular", "浙A5G7H2", "Honda", "Accord",
     "in_progress", 135, "Oil change and tyre rotation"),
    ("A-010", "张伟", "vip", "京A12345", "Toyota", "Camry",
     "walkaround_done", 61, "Scheduled 50,000 km maintenance"),
    ("A-005", "王芳", "regular", "沪BD12345", "BYD", "Han EV",
     "delivered", 300, "Air conditioning not cooling"),
)  # fmt: skip


def pulled(kind: str, fields: dict[str, Any], record_id: str | None = None) -> dict[str, Any]:
    record_id = record_id or str(uuid.uuid4())
    clocks = {name: "0001763803123456-0000-server" for name in fields}
    return {"kind": kind, "id": record_id, "fields": fields, "clocks": clocks}


def store_with_cars(
    data_dir: Path, now: datetime | None = None, device_id: str = TABLET_ID
) -> tuple[LocalStore, dict[str, str]]:
    """The store and each ticket's visit id."""
    now = now or datetime.now(UTC)
    store = LocalStore(data_dir, device_id)
    entries: list[dict[str, Any]] = []
    visit_ids: dict[str, str] = {}
    for ticket, name, tier, plate, make, model, status, minutes, concern in CARS:
        customer_id, vehicle_id, visit_id = (str(uuid.uuid4()) for _ in range(3))
        visit_ids[ticket] = visit_id
        entries.append(pulled("customer", {"name": name, "tier": tier}, customer_id))
        entries.append(
            pulled(
                "vehicle",
                {"customer_id": customer_id, "plate": plate, "make": make, "model": model},
                vehicle_id,
            )
        )
        checked_in = (now - timedelta(minutes=minutes)).isoformat()
        entries.append(
            pulled(
                "visit",
                {
                    "ticket_number": ticket,
                    "customer_id": customer_id,
                    "vehicle_id": vehicle_id,
                    "status": status,
                    "checked_in_at": checked_in,
                    "concern_text": concern,
                },
                visit_id,
            )
        )
    store.apply_pulled(entries, next_since=len(entries))
    return store, visit_ids
