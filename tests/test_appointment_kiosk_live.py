"""End to end: the desk books an appointment on the web page of a real server, and the
lobby kiosk checks the customer in by that appointment's QR code; the visit on the server
belongs to the appointment and carries the requested work (no demo seed involved)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
from live_server import LiveServer, live_server_fixture  # noqa: F401
from sqlalchemy import text
from test_kiosk_flow_live import check_in_by_qr, pair_kiosk, synced

from kiosk.services.scanner import DummyScanner
from kiosk.ui.headless import HeadlessApp
from shared.shop_calendar import ShopCalendar

pytestmark = pytest.mark.ui
PASSWORD = "Lobby-Wrench-4471"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def morning_zone() -> str:
    hour = datetime.now(UTC).hour
    offset = (10 - hour) % 24
    offset = offset - 24 if offset > 14 else offset
    return "Etc/UTC" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


def csrf(web: requests.Session, url: str) -> str:
    found = CSRF.search(web.get(url, timeout=10).text)
    assert found
    return found.group(1)


def test_a_web_booked_appointment_checks_in_on_the_kiosk_with_its_requested_work(
    live_server: LiveServer, kiosk_app: Callable[..., HeadlessApp], tmp_path: Path
) -> None:
    zone_name = morning_zone()
    zone = ZoneInfo(zone_name)
    today = datetime.now(UTC).astimezone(zone)
    if not ShopCalendar(timezone=zone).is_open_day(today.date()):
        pytest.skip("the shop is closed today (a public holiday)")
    live_server.cli("shop", "--timezone", zone_name)
    live_server.cli("create-user", "desk", "--role", "advisor", "--password", PASSWORD)
    with live_server.db_engine().begin() as db:
        db.execute(text("INSERT INTO service_bays (name, active) VALUES ('Bay 1', true)"))
        db.execute(
            text(
                "INSERT INTO technicians (name, specialities, active) "
                "VALUES ('Zhao Lei', '[\"engine\"]', true)"
            )
        )

    web = requests.Session()
    login = web.post(
        f"{live_server.url}/login",
        data={
            "username": "desk",
            "password": PASSWORD,
            "csrf_token": csrf(web, f"{live_server.url}/login"),
        },
        timeout=10,
    )
    assert login.ok
    start = today.replace(minute=0, second=0, microsecond=0) + timedelta(hours=2)
    booked = web.post(
        f"{live_server.url}/appointments",
        data={
            "csrf_token": csrf(web, f"{live_server.url}/appointments"),
            "channel": "web",
            "name": "陈静",
            "phone": "13655556666",
            "plate": "苏E 24680",
            "preset": "diagnosis",
            "requested_work": "Engine warning light, rough idle",
            "starts": start.strftime("%Y-%m-%dT%H:%M"),
        },
        timeout=10,
    )
    assert booked.ok, booked.text
    code = re.search(r'id="appointment-code">([A-Z0-9]+)<', booked.text)
    assert code, booked.text

    devices = pair_kiosk(live_server, tmp_path / "kiosk")
    scanner = DummyScanner()
    harness = kiosk_app(devices, qr_scanner=scanner, sync_interval=0.5)
    store = harness.app.local_store
    harness.wait_until(lambda: len(store.find("appointment")) == 1, timeout=20, message="pulled")
    visit_id = check_in_by_qr(harness, scanner, code.group(1))
    harness.wait_until(synced(harness), timeout=30, message="pushed")
    with live_server.db_engine().connect() as db:
        row = db.execute(
            text(
                "SELECT v.concern_text, a.code, a.status FROM visits v "
                "JOIN appointments a ON a.id = v.appointment_id WHERE v.id = :id"
            ),
            {"id": visit_id},
        ).one()
    assert row.code == code.group(1) and row.status == "arrived"
    assert "Engine warning light, rough idle" in row.concern_text
