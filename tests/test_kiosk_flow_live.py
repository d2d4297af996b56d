"""Check-ins on the lobby kiosk reach a real sync server.

``checkin-server serve`` runs as a subprocess (``tests/live_server.py``) with the demo
shop seeded (``checkin-server demo``); the kiosk pairs with a code from
``checkin-server pair --role kiosk --quiet`` over HTTP, pulls today's appointments,
and a customer checks in by touch. The records must arrive on the server, and the
customer must see no error while the server is down.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from live_server import LiveServer, live_server_fixture  # noqa: F401
from sqlalchemy import text

from kiosk.services.device_store import DeviceSettings, DeviceStore
from kiosk.services.pairing import PairingService
from kiosk.services.scanner import DummyScanner
from kiosk.ui.headless import HeadlessApp

pytestmark = pytest.mark.ui

SIGNATURE = [(0.1, 0.6), (0.3, 0.3), (0.5, 0.7), (0.7, 0.3), (0.9, 0.6)]


def pair_kiosk(live_server: LiveServer, data_dir: Path) -> DeviceStore:
    devices = DeviceStore(data_dir)
    devices.save(DeviceSettings(server_url=live_server.url, mode="kiosk"))
    code = live_server.cli("pair", "--role", "kiosk", "--quiet").strip()
    settings = PairingService(devices).pair(code, "Lobby kiosk")
    assert settings.ticket_prefix.startswith("K")
    assert "lookup_key" not in devices.path.read_text()  # a stolen kiosk holds no key
    return devices


def screen(harness: HeadlessApp, name: str) -> Any:
    return harness.app.checkin.screen(name)


def check_in_by_qr(harness: HeadlessApp, scanner: DummyScanner, code: str) -> str:
    harness.tap(harness.app.welcome_screen.ids.scan_appointment_qr)
    assert scanner.deliver(code)
    harness.pump(3)
    assert harness.screen == "confirm", screen(harness, "scan").ids.message.text
    harness.tap(screen(harness, "confirm").ids.change_mileage)
    for char in "48500":
        harness.tap(screen(harness, "vehicle").ids.mileage_pad.key_buttons[char])
    harness.tap(screen(harness, "vehicle").ids.next)
    harness.drag(screen(harness, "confirm").ids.pad, SIGNATURE)
    harness.tap(screen(harness, "confirm").ids.finish)
    assert harness.screen == "done"
    return harness.app.checkin.receipt.visit_id


def check_in_walk_in(harness: HeadlessApp) -> str:
    harness.tap(harness.app.welcome_screen.ids.new_visit)
    contact = screen(harness, "walkin_contact")
    for char in "13700001234":
        harness.tap(contact.ids.phone_pad.key_buttons[char])
    harness.pump(2)  # a whole number: on to the plate without a touch
    plate = screen(harness, "walkin_plate").ids.plate
    harness.tap(plate.province_tiles["粤"])
    for char in "B12345":
        harness.tap(plate.pad.key_buttons[char])
    harness.tap(screen(harness, "walkin_plate").ids.next)
    harness.tap(screen(harness, "walkin_car").make_tiles["BYD"])
    harness.tap(screen(harness, "walkin_car").ids.next)
    harness.tap(screen(harness, "concern").tiles["tyres"])
    harness.tap(screen(harness, "concern").ids.next)
    harness.drag(screen(harness, "confirm").ids.pad, SIGNATURE)
    harness.tap(screen(harness, "confirm").ids.finish)
    assert harness.screen == "done"
    return harness.app.checkin.receipt.visit_id


def synced(harness: HeadlessApp) -> Callable[[], bool]:
    def everything_sent() -> bool:
        status = harness.app.local_store.status()
        return status.pending_changes == 0 and status.pending_blobs == 0

    return everything_sent


def test_check_ins_reach_the_server_and_survive_it_being_down(
    live_server: LiveServer, kiosk_app: Callable[..., HeadlessApp], tmp_path: Path
) -> None:
    live_server.cli("demo")
    devices = pair_kiosk(live_server, tmp_path / "kiosk")
    scanner = DummyScanner()
    harness = kiosk_app(devices, qr_scanner=scanner, sync_interval=0.5)
    store = harness.app.local_store
    harness.wait_until(lambda: len(store.find("appointment")) == 5, timeout=20, message="pulled")
    assert all("phone" not in record for record in store.find("appointment"))

    # Appointment by QR, while the server is up.
    visit_id = check_in_by_qr(harness, scanner, "Q7M4KX")
    harness.wait_until(synced(harness), timeout=30, message="pushed")
    with live_server.db_engine().connect() as db:
        row = db.execute(
            text("SELECT ticket_number, mileage_in_km, appointment_id FROM visits WHERE id = :id"),
            {"id": visit_id},
        ).one()
        assert row.ticket_number == harness.app.settings.ticket_prefix + "-001"
        assert row.mileage_in_km == 48500
        status = db.execute(
            text("SELECT status FROM appointments WHERE id = :id"), {"id": row.appointment_id}
        ).scalar_one()
        assert status == "arrived"
        kinds = db.execute(
            text(
                "SELECT kind FROM sync_records WHERE kind IN ('consent', 'signature') "
                "AND created_by = :device"
            ),
            {"device": harness.app.settings.device_id},
        ).scalars()
        assert sorted(kinds) == ["consent", "signature"]
    assert harness.app.local_store.parked() == []
    # The ticket's QR code opens the customer's status page on the server.
    page = requests.get(harness.app.checkin.receipt.status_url, timeout=10)
    assert page.status_code == 200

    # A walk-in: the kiosk makes the customer and the vehicle too.
    harness.app.checkin.start_over()
    walk_in = check_in_walk_in(harness)
    harness.wait_until(synced(harness), timeout=30, message="walk-in pushed")
    with live_server.db_engine().connect() as db:
        row = db.execute(
            text(
                "SELECT c.phone, v.plate, v.make, t.concern_codes FROM visits t "
                "JOIN customers c ON c.id = t.customer_id "
                "JOIN vehicles v ON v.id = t.vehicle_id WHERE t.id = :id"
            ),
            {"id": walk_in},
        ).one()
        assert (row.phone, row.plate, row.make) == ("+8613700001234", "粤B12345", "BYD")
        assert "tyres" in str(row.concern_codes)
    assert harness.app.local_store.parked() == []

    # The server goes down: the next customer notices nothing; it syncs when back.
    harness.app.checkin.start_over()
    live_server.kill()
    second = check_in_by_qr(harness, scanner, "H3PZ9D")
    assert screen(harness, "done").ids.ticket.text.endswith("-003")
    assert harness.app.local_store.status().pending_changes == 3
    live_server.start()
    harness.app.sync.request_sync()
    harness.wait_until(synced(harness), timeout=60, message="pushed after restart")
    with live_server.db_engine().connect() as db:
        assert (
            db.execute(
                text("SELECT count(*) FROM visits WHERE id = :id"), {"id": second}
            ).scalar_one()
            == 1
        )
