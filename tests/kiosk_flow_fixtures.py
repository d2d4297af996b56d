"""Helpers for the kiosk check-in tests: a kiosk's local store holding today's
appointments as the server's kiosk snapshot sends them (masked, with lookup hashes).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from kiosk.services.local_store import LocalStore
from shared.domain import StrokePoint
from shared.lookup import lookup_hash
from shared.masking import mask_name, mask_phone, mask_plate

LOOKUP_KEY = bytes(range(32))
DEVICE_ID = "5e1f3a2b-0c4d-4e5f-8a6b-7c8d9e0f1a2b"


def appointment_entry(
    code: str, name: str, phone: str, plate: str, make: str, model: str, work: str,
    concerns: list[str], arrival: str = "2026-11-22T08:30:00+00:00",
) -> dict[str, Any]:  # fmt: skip
    """One appointment as ``GET /sync/changes`` gives it to a kiosk."""
    return {
        "kind": "appointment",
        "id": str(uuid.uuid4()),
        "fields": {
            "customer_id": str(uuid.uuid4()),
            "vehicle_id": str(uuid.uuid4()),
            "expected_arrival": arrival,
            "requested_work": work,
            "concern_codes": concerns,
            "expected_duration_minutes": 90,
            "customer_name_masked": mask_name(name),
            "phone_masked": mask_phone(phone),
            "plate_masked": mask_plate(plate),
            "vehicle_make": make,
            "vehicle_model": model,
            "plate_region": "CN",
            "vip": False,
            "phone_hash": lookup_hash(LOOKUP_KEY, "phone", phone),
            "plate_hash": lookup_hash(LOOKUP_KEY, "plate", plate),
            "code_hash": lookup_hash(LOOKUP_KEY, "code", code),
        },
    }


DEMO_APPOINTMENTS = (
    ("Q7M4KX", "Zhang Wei", "+8613812345678", "京A12345", "Toyota", "Camry",
     "Scheduled 50,000 km maintenance", ["maintenance"]),
    ("H3PZ9D", "王芳", "+8613912345601", "沪BD12345", "BYD", "Han EV",
     "Air conditioning not cooling", ["air_conditioning"]),
)  # fmt: skip


def store_with_appointments(data_dir: Path, device_id: str = DEVICE_ID) -> LocalStore:
    """A kiosk's local store with :data:`DEMO_APPOINTMENTS` pulled in."""
    store = LocalStore(data_dir, device_id)
    store.replace_snapshot(
        {"appointment"}, [appointment_entry(*entry) for entry in DEMO_APPOINTMENTS]
    )
    return store


def zigzag_strokes(points: int = 12) -> list[list[StrokePoint]]:
    """A signature-like zigzag across most of the pad."""
    return [
        [
            StrokePoint(0.1 + 0.8 * i / (points - 1), 0.3 + 0.4 * (i % 2), i * 20)
            for i in range(points)
        ]
    ]
