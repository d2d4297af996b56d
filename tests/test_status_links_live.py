"""The ticket's status link, made offline on the lobby kiosk, works once the check-in
reaches a real server process (issue 10, item 4): the kiosk makes it from the
status-link key it got at pairing, and the server keeps exactly that token. A kiosk
paired before keys existed gets its key from its next status check; until then the
server replaces its tokens and the kiosk shows the server's link once it knows it.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests
from live_server import LiveServer, live_server_fixture  # noqa: F401
from sqlalchemy import text
from test_kiosk_flow_live import SIGNATURE, pair_kiosk, screen, synced

from kiosk.services.device_store import DeviceStore
from kiosk.ui.headless import HeadlessApp
from shared import domain

pytestmark = pytest.mark.ui


def check_in_walk_in(harness: HeadlessApp, phone: str, plate: str) -> Any:
    """A walk-in by touch, as the customer does it; the Done screen's receipt."""
    harness.tap(harness.app.welcome_screen.ids.new_visit)
    contact = screen(harness, "walkin_contact")
    for char in phone:
        harness.tap(contact.ids.phone_pad.key_buttons[char])
    harness.pump(2)  # a whole mobile number: on to the plate without a touch
    pad = screen(harness, "walkin_plate").ids.plate
    harness.tap(pad.province_tiles[plate[0]])
    for char in plate[1:]:
        harness.tap(pad.pad.key_buttons[char])
    harness.tap(screen(harness, "walkin_plate").ids.next)
    harness.tap(screen(harness, "walkin_car").make_tiles["Toyota"])
    harness.tap(screen(harness, "walkin_car").ids.next)
    harness.tap(screen(harness, "concern").tiles["brakes"])
    harness.tap(screen(harness, "concern").ids.next)
    harness.drag(screen(harness, "confirm").ids.pad, SIGNATURE)
    harness.tap(screen(harness, "confirm").ids.finish)
    assert harness.screen == "done"
    receipt = harness.app.checkin.receipt
    # What the ticket's QR code holds is the receipt's link.
    assert screen(harness, "done").status_url == receipt.status_url
    return receipt


def server_token(live_server: LiveServer, visit_id: str) -> str:
    with live_server.db_engine().connect() as db:
        return db.execute(
            text("SELECT status_token FROM visits WHERE id = :id"), {"id": visit_id}
        ).scalar_one()


def token_of(url: str) -> str:
    return url.rsplit("/status/", 1)[1]


def test_a_status_link_printed_offline_works_after_sync(
    live_server: LiveServer, kiosk_app: Callable[..., HeadlessApp], tmp_path: Path
) -> None:
    devices = pair_kiosk(live_server, tmp_path / "kiosk")
    settings = devices.load()
    # The key is kept with the token, readable by the kiosk's user only, never shown.
    assert settings.status_link_key and settings.status_link_key not in repr(settings)
    assert stat.S_IMODE(devices.path.stat().st_mode) == 0o600
    harness = kiosk_app(devices, sync_interval=0.5)

    live_server.kill()  # the shop's Wi-Fi is down
    receipt = check_in_walk_in(harness, "13700001234", "粤B12345")
    token = token_of(receipt.status_url)
    assert token == domain.status_token_for(settings.status_link_key, receipt.visit_id)

    live_server.start()
    harness.app.sync.request_sync()
    harness.wait_until(synced(harness), timeout=60, message="pushed after the server is back")
    assert harness.app.local_store.parked() == []
    assert server_token(live_server, receipt.visit_id) == token
    page = requests.get(receipt.status_url, timeout=10)
    assert page.status_code == 200 and "粤B" in page.text


def test_a_kiosk_paired_before_keys_gets_its_key_and_shows_the_servers_link(
    live_server: LiveServer, kiosk_app: Callable[..., HeadlessApp], tmp_path: Path
) -> None:
    devices = pair_kiosk(live_server, tmp_path / "kiosk")
    # As an older version kept it: no status-link key.
    devices.save(replace(devices.load(), status_link_key=""))
    assert "status_link_key" in json.loads(devices.path.read_text())
    assert not devices.load().status_link_key
    live_server.kill()
    harness = kiosk_app(devices, sync_interval=0.5, status_interval=0.5)

    # Offline and without its key: the kiosk's own token, which the server will not keep.
    first = check_in_walk_in(harness, "13900001111", "粤B54321")
    assert not DeviceStore(devices.data_dir).load().status_link_key

    live_server.start()
    harness.app.sync.request_sync()
    harness.wait_until(synced(harness), timeout=60, message="pushed after the server is back")
    made = server_token(live_server, first.visit_id)
    assert made != token_of(first.status_url)
    assert requests.get(first.status_url, timeout=10).status_code == 404
    # The push's answer told the kiosk the server's link: shown when the customer
    # comes back to the kiosk ("already checked in") and reprinted from there.
    local = harness.app.local_store.get("visit", first.visit_id)
    assert local["status_token"] == made
    harness.app.checkin.start_over()
    again = check_in_walk_in(harness, "13900001111", "粤B54321")
    assert again.visit_id == first.visit_id and token_of(again.status_url) == made
    assert requests.get(again.status_url, timeout=10).status_code == 200

    # Its next status check brings its key; from then on the server keeps its links.
    harness.wait_until(
        lambda: bool(harness.app.flow.setup.status_link_key), timeout=30, message="key given"
    )
    key = DeviceStore(devices.data_dir).load().status_link_key
    me = requests.get(
        f"{live_server.url}/api/v1/devices/me",
        headers={"Authorization": f"Bearer {devices.load().token}"},
        timeout=10,
    ).json()
    assert key == me["status_link_key"]
    harness.app.checkin.start_over()
    later = check_in_walk_in(harness, "13600002222", "粤B67890")
    assert token_of(later.status_url) == domain.status_token_for(key, later.visit_id)
    harness.app.sync.request_sync()
    harness.wait_until(synced(harness), timeout=60, message="second check-in pushed")
    assert server_token(live_server, later.visit_id) == token_of(later.status_url)
    assert requests.get(later.status_url, timeout=10).status_code == 200
