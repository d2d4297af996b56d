"""A tablet's local store with today's arrivals (appointments) besides the cars in the
shop, for the advisor check-in tests and the screenshot script."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tablet_queue_fixtures import TABLET_ID, pulled, store_with_cars

from kiosk.services.device_store import DeviceSettings, DeviceStore

APPOINTMENT = "5b0c7c36-2a5c-4d9f-8a8b-6f3c1e2d4a10"
TOMORROW = "5b0c7c36-2a5c-4d9f-8a8b-6f3c1e2d4a11"
ALREADY_HERE = "5b0c7c36-2a5c-4d9f-8a8b-6f3c1e2d4a12"
CUSTOMER = "6c1d8d47-3b6d-4e0a-9b9c-7a4d2f3e5b20"
VEHICLE = "7d2e9e58-4c7e-4f1b-8cad-8b5e3a4f6c30"


def store_with_arrivals(data_dir: Path, language: str = "zh_CN") -> DeviceStore:
    """A paired tablet whose store holds the queue's cars and today's arrivals: one to
    check in, one tomorrow, one already checked in (visit A-020)."""
    now = datetime.now(UTC)
    store, _visits = store_with_cars(data_dir, now)
    soon = (now + timedelta(minutes=1)).isoformat()
    store.apply_pulled(
        [
            pulled(
                "customer", {"name": "周杰", "phone": "+8613912345678", "tier": "vip"}, CUSTOMER
            ),
            pulled(
                "vehicle",
                {
                    "customer_id": CUSTOMER,
                    "plate": "京N88888",
                    "make": "Audi",
                    "model": "A6L",
                    "last_mileage_km": 51000,
                },
                VEHICLE,
            ),
            pulled(
                "appointment",
                {
                    "customer_id": CUSTOMER,
                    "vehicle_id": VEHICLE,
                    "code": "Q7K2M9",
                    "expected_arrival": soon,
                    "requested_work": "Front brake pads",
                    "concern_codes": ["brakes"],
                },
                APPOINTMENT,
            ),
            pulled(
                "appointment",
                {
                    "customer_id": CUSTOMER,
                    "vehicle_id": VEHICLE,
                    "code": "Q7K2M8",
                    "expected_arrival": (now + timedelta(days=1)).isoformat(),
                    "requested_work": "Tomorrow's work",
                },
                TOMORROW,
            ),
            pulled(
                "appointment",
                {
                    "customer_id": CUSTOMER,
                    "vehicle_id": VEHICLE,
                    "code": "Q7K2M7",
                    "expected_arrival": soon,
                    "requested_work": "Already here",
                },
                ALREADY_HERE,
            ),
            pulled(
                "visit",
                {
                    "ticket_number": "A-020",
                    "customer_id": CUSTOMER,
                    "vehicle_id": VEHICLE,
                    "appointment_id": ALREADY_HERE,
                    "status": "checked_in",
                    "checked_in_at": now.isoformat(),
                },
            ),
        ],
        next_since=100,
    )
    store.close()
    devices = DeviceStore(data_dir)
    devices.save(
        DeviceSettings(
            server_url="http://shop.invalid",
            mode="tablet",
            role="tablet",
            token="tablet-token",
            device_id=TABLET_ID,
            shop_name="Bright Auto Service",
            language=language,
            ticket_prefix="T",
        )
    )
    return devices
