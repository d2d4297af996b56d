"""A walk-around done by touch on the advisor tablet reaches a real sync server.

``checkin-server serve`` runs as a subprocess (``tests/live_server.py``) with the demo
shop; the tablet pairs with a code from ``checkin-server pair --role tablet``, pulls the
visits, and Li Na walks around the car of visit A-003 with its customer on the headless
app: marks placed by touch (one moved, one taken back), photos imported and pinned, the
car's state and belongings, the customer's signature; the background sync sends it.
On the server, the sheet put back together (``sync_server.walkarounds.assemble``) must
have exactly the tablet's marks, pins and photo hashes, the photo files byte for byte,
and the signature must check as "signed, unchanged" — and, after an edit on the tablet,
as "changed after signing" until the customer signs the new version.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from live_server import LiveServer, live_server_fixture  # noqa: F401
from sqlalchemy.orm import Session
from tablet_fixtures import (
    ADVISOR,
    diagram_point,
    make_photo,
    pair_tablet,
    photo_point,
    settle_toast,
    sign_on,
    tap_at,
    touch_path,
)

from kiosk.services.camera import FileImportCamera
from kiosk.ui.headless import HeadlessApp
from sync_server.demo import demo_id
from sync_server.visit_tables import Visit
from sync_server.walkarounds import AssembledWalkaround, assemble

pytestmark = pytest.mark.ui

VISIT_KEY = "zhao-min"  # A-003, checked in 12 minutes ago, no walk-around yet


def synced(harness: HeadlessApp) -> Callable[[], bool]:
    def everything_sent() -> bool:
        status = harness.app.local_store.status()
        return status.pending_changes == 0 and status.pending_blobs == 0

    return everything_sent


def on_server(live_server: LiveServer, visit_id: str) -> AssembledWalkaround:
    with Session(live_server.db_engine()) as session:
        return assemble(session, visit_id)


def served_walkaround(live_server: LiveServer, token: str, visit_id: str) -> dict[str, Any]:
    response = requests.get(
        f"{live_server.url}/api/v1/visits/{visit_id}/walkaround",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


def marks_of(marks: list[Any]) -> dict[str, tuple[Any, ...]]:
    return {
        m.id: (
            str(m.view), m.x, m.y, str(m.damage_type), m.severity, m.note,
            sorted((p.photo_sha256, p.x, p.y) for p in m.pins),
        )
        for m in marks
    }  # fmt: skip


def test_a_walkaround_by_touch_arrives_whole_and_its_signature_checks_on_the_server(
    live_server: LiveServer, kiosk_app: Callable[..., HeadlessApp], tmp_path: Path
) -> None:
    live_server.cli("demo")
    devices = pair_tablet(live_server, tmp_path / "tablet")
    token = devices.load().token
    assert token
    door = make_photo(tmp_path / "door.jpg", seed=5, size=(2400, 1800))
    bumper = make_photo(tmp_path / "bumper.jpg", seed=6)
    harness = kiosk_app(devices, sync_interval=0.5, idle_timeout=3600)
    app = harness.app
    store = app.local_store
    visit_id = demo_id("visit", VISIT_KEY)
    harness.wait_until(
        lambda: (
            store.get("visit", visit_id) is not None
            and store.get("vehicle", demo_id("vehicle", VISIT_KEY)) is not None
        ),
        timeout=30,
        message="the visit pulled",
    )
    app.advisor = ADVISOR
    flow = app.walkaround
    flow.camera = FileImportCamera([door, bumper])
    flow.open(visit_id)
    harness.pump(2)
    assert flow.title.startswith("A-003 · ")

    # Damage: a scratch on the left (graded, noted), a chip on the front; a mark put by
    # mistake is taken back, another is moved.
    damage = flow.screen("damage")
    diagram = damage.ids.diagram
    tap_at(harness, *diagram_point(diagram, 0.33, 0.6))
    harness.tap(damage.severity_tiles[2])
    damage.ids.note.text = "driver's door"
    harness.tap(damage.ids.editor_done)
    tap_at(harness, *diagram_point(diagram, 0.8, 0.35))
    harness.tap(damage.ids.delete_mark)
    harness.tap(damage.view_tiles["front"])
    tap_at(harness, *diagram_point(diagram, 0.5, 0.25))
    harness.tap(damage.type_tiles["G"])
    harness.tap(damage.severity_tiles[1])  # a new mark starts as the last one: grade 2
    harness.tap(damage.ids.editor_done)
    start, end = diagram_point(diagram, 0.5, 0.25), diagram_point(diagram, 0.45, 0.2)
    touch_path(harness, [start, (start[0] - 10, start[1] + 10), end])
    scratch, chip = sorted(flow.sheet.marks, key=lambda m: str(m.view), reverse=True)
    assert (scratch.condition_code, chip.condition_code) == ("A2", "G1")
    assert (chip.x, chip.y) == (pytest.approx(0.45, abs=0.003), pytest.approx(0.2, abs=0.003))

    # Photos, pinned where the damage shows.
    harness.tap(damage.ids.header.ids.tab_photos)
    photos = flow.screen("photos")
    for count in (1, 2):
        harness.tap(photos.ids.take)
        harness.wait_until(lambda n=count: len(flow.sheet.photos) == n, message="photo read")
    door_photo, bumper_photo = flow.sheet.photos
    pinning = ((door_photo, scratch, (0.4, 0.45)), (bumper_photo, chip, (0.6, 0.3)))
    for photo, mark, spot in pinning:
        harness.tap(photos.thumbs[photo.image.sha256])
        harness.tap(photos.mark_tiles[mark.id])
        tap_at(harness, *photo_point(photos.ids.photo, *spot))

    # The car and the belongings.
    harness.tap(photos.ids.header.ids.tab_car)
    car = flow.screen("car")
    for key in "61250":
        harness.tap(car.ids.odometer_pad.key_buttons[key])
    harness.tap(car.ids.save_odometer)
    harness.tap(car.fuel_tiles[6])
    harness.tap(car.light_tiles["engine"])
    harness.tap(car.ids.header.ids.tab_belongings)
    belongings = flow.screen("belongings")
    harness.tap(belongings.item_tiles["spare_wheel"])
    harness.tap(belongings.item_tiles["documents"])
    harness.tap(belongings.ids.more_keys)

    # The customer signs under the summary; the walk-around is finished.
    harness.tap(belongings.ids.header.ids.tab_sign)
    sign = flow.screen("sign")
    sign_on(harness, sign.ids.pad)
    harness.tap(sign.ids.sign)
    assert flow.state == "signed_unchanged"
    sheet = flow.sheet
    local_marks = marks_of(sheet.marks)
    local_photos = [photo.image.sha256 for photo in sheet.photos]
    signed_hash = sheet.report_sha256()
    closed: list[bool] = []
    flow.on_closed = lambda: closed.append(True)
    harness.tap(sign.ids.finish)
    assert closed == [True]
    harness.wait_until(synced(harness), timeout=60, message="everything sent")
    assert store.parked() == [] and store.parked_blobs() == []

    # On the server: the same marks, pins and photos, and a signature that checks.
    server = on_server(live_server, visit_id)
    assert server.walkaround is not None
    assert marks_of(server.walkaround.marks) == local_marks
    assert {m.id for m in server.walkaround.marks} == {scratch.id, chip.id}  # not the deleted
    assert [photo.image.sha256 for photo in server.photos] == local_photos
    assert set(local_photos) <= server.stored_blobs
    blobs = live_server.instance_path / "blobs" / "originals"
    for sha256 in local_photos:
        data = (blobs / sha256[:2] / sha256).read_bytes()
        assert hashlib.sha256(data).hexdigest() == sha256  # byte for byte
        assert data == store.blob_path(sha256).read_bytes()
    assert server.walkaround.odometer_km == 61250 and server.walkaround.fuel_eighths == 6
    assert server.walkaround.belongings.keys_count == 2
    assert server.walkaround.report_sha256() == signed_hash
    assert server.latest_signature is not None
    assert server.latest_signature.signed_sha256 == signed_hash
    assert server.state == "signed_unchanged"
    served = served_walkaround(live_server, token, visit_id)
    assert served["signature"]["state"] == "signed_unchanged"
    assert served["signature"]["image_state"] == "stored"
    with Session(live_server.db_engine()) as session:
        assert session.get(Visit, visit_id).status == "walkaround_done"

    # Opened again and changed after signing: the server says so.
    flow.open(visit_id)
    harness.tap(flow.screen("damage").ids.header.ids.tab_car)
    harness.tap(car.fuel_tiles[5])
    harness.tap(flow.dialog.ids.change)
    assert flow.state == "changed_after_signing"
    harness.wait_until(synced(harness), timeout=60, message="the change sent")
    server = on_server(live_server, visit_id)
    assert server.state == "changed_after_signing"
    assert server.walkaround.version == 2 and server.walkaround.fuel_eighths == 5
    assert served_walkaround(live_server, token, visit_id)["signature"]["state"] == (
        "changed_after_signing"
    )

    # The customer signs version 2: unchanged again.
    harness.tap(flow.screen("car").ids.header.ids.tab_sign)
    sign_on(harness, sign.ids.pad)
    harness.tap(sign.ids.sign)
    harness.wait_until(synced(harness), timeout=60, message="the new signature sent")
    server = on_server(live_server, visit_id)
    assert server.state == "signed_unchanged"
    assert server.latest_signature.signed_sha256 == flow.sheet.report_sha256()
    assert len([s for s in server.signatures if s.purpose == "checkin_sheet"]) == 2
    settle_toast(harness)
