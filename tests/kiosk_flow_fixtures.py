"""Helpers for the kiosk check-in tests: a kiosk's local store holding today's
appointments as the server's kiosk snapshot sends them (slow salted lookup hashes, no
name, phone or plate).
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from pathlib import Path
from typing import Any

from kiosk.services.local_store import LocalStore
from shared.domain import StrokePoint
from shared.lookup import SCHEME, lookup_hash

DEVICE_ID = "5e1f3a2b-0c4d-4e5f-8a6b-7c8d9e0f1a2b"


def appointment_entry(
    code: str, name: str, phone: str, plate: str, make: str, model: str, work: str,
    concerns: list[str], arrival: str = "2026-11-22T08:30:00+00:00",
) -> dict[str, Any]:  # fmt: skip
    """One appointment as ``GET /sync/changes`` gives it to a kiosk (``name`` is not
    sent: a kiosk never holds it)."""
    salt = hashlib.sha256(code.encode()).hexdigest()[:32]  # fixed, so hashes are cached
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
            "vehicle_make": make,
            "vehicle_model": model,
            "plate_region": "CN",
            "lookup_scheme": SCHEME,
            "lookup_salt": salt,
            "phone_hash": _hash(salt, "phone", phone),
            "plate_hash": _hash(salt, "plate", plate),
            "code_hash": _hash(salt, "code", code),
        },
    }


@functools.cache
def _hash(salt: str, kind: str, value: str) -> str:
    return lookup_hash(salt, kind, value)


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
