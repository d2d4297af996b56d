"""The walk-around end to end: a tablet records it, syncs to a real server process, and the
server puts the check-in sheet back together with the same marks, pins and hashes, and
says whether the customer's signature still covers it (sync_server.walkarounds)."""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any

import requests
from flask import Flask
from flask.testing import FlaskClient
from live_server import LiveServer, live_server_fixture  # noqa: F401
from PIL import Image
from server_fixtures import Shop, bearer
from sqlalchemy import text
from sqlalchemy.orm import Session

from kiosk.services.local_store import LocalStore
from kiosk.services.sync import SyncEngine, SyncReport, SyncTransport
from kiosk.services.walkaround import SignatureState, WalkaroundSheet
from shared import domain
from shared.domain import StrokePoint
from shared.wire import to_wire
from sync_server import db
from sync_server.walkarounds import signature_state


def photo_bytes(seed: int, size: tuple[int, int] = (2400, 1800)) -> bytes:
    """A camera-like photo: a gradient with a bright panel, different per ``seed``."""
    gradient = Image.linear_gradient("L").resize(size)
    shifted = gradient.point(lambda v: (v + seed * 60) % 256)
    image = Image.merge("RGB", (gradient, shifted, gradient))
    image.paste((230, 230, 235), (size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=88)
    for band in (gradient, shifted, image):
        band.close()
    return buffer.getvalue()


def a_signature() -> list[list[StrokePoint]]:
    wave = [
        StrokePoint(0.08 + i * 0.03, 0.55 + (0.12 if i % 2 else -0.12), i * 15) for i in range(28)
    ]
    underline = [StrokePoint(0.1 + i * 0.1, 0.85, 600 + i * 10) for i in range(8)]
    return [wave, underline]


def save_record(store: LocalStore, kind: str, record: Any) -> None:
    fields = to_wire(record)
    store.save(kind, fields.pop("id"), fields)


def new_car(store: LocalStore) -> domain.Vehicle:
    """A customer and their car, entered on the tablet at the desk."""
    customer = domain.Customer(name="王芳", phone="+8613612345678")
    vehicle = domain.Vehicle(
        customer_id=customer.id, plate="粤B·D12345", make="Toyota", model="Camry",
        vin="LVGBM51K0PG012345", year=2021,
    )  # fmt: skip
    save_record(store, "customer", customer)
    save_record(store, "vehicle", vehicle)
    return vehicle


def check_in(store: LocalStore, vehicle: domain.Vehicle, ticket: str = "T-012") -> domain.Visit:
    """Today's visit of ``vehicle``, made on the tablet (a walk-in at the desk)."""
    visit = domain.Visit(
        ticket_number=ticket,
        customer_id=vehicle.customer_id,
        vehicle_id=vehicle.id,
        concern_codes=[domain.ConcernCode.brakes, domain.ConcernCode.body_work],
        concern_text="前轮刹车有异响 / squeal from the front brakes",
        mileage_in_km=52_340,
    )
    save_record(store, "visit", visit)
    return visit


def walk_around(store: LocalStore, visit: domain.Visit) -> WalkaroundSheet:
    """What the advisor records with the customer, signed at the end."""
    sheet = WalkaroundSheet.open(store, visit.id)
    sheet.set_fuel(3)
    sheet.set_warning_lights(["tyre_pressure"])
    sheet.set_belongings(spare_wheel=True, documents=True, keys_count=2, other_note="雨伞 umbrella")
    sheet.set_notes(exterior="Dusty", interior="")
    sheet.set_tyre_tread("fl", 3.2)
    scratch = sheet.add_mark("left", 0.42, 0.55, "A", 2, note="driver's door")
    dent = sheet.add_mark("rear", 0.5, 0.62, "U", 1)
    chip = sheet.add_mark("front", 0.5, 0.2, "G", 1)
    wrong = sheet.add_mark("top", 0.5, 0.5, "S", 3)
    sheet.delete_mark(wrong.id)  # put by mistake, taken back before signing
    door = sheet.add_photo(photo_bytes(1), caption="Driver's door")
    bumper = sheet.add_photo(photo_bytes(2), caption="Rear bumper")
    sheet.pin_photo(scratch.id, door.image.sha256, 0.4, 0.45)
    sheet.pin_photo(dent.id, bumper.image.sha256, 0.6, 0.5)
    sheet.edit_mark(chip.id, note="windscreen")
    sheet.sign(a_signature(), signer_name="王芳")
    return sheet


def sync(store: LocalStore, server: LiveServer, token: str) -> SyncReport:
    with SyncTransport(server.url, token) as transport:
        report = SyncEngine(store, transport).sync_once()
    assert report.parked == 0 and report.blobs_parked == 0, store.parked()
    return report


def get_walkaround(server: LiveServer, token: str, visit_id: str) -> dict[str, Any]:
    response = requests.get(
        f"{server.url}/api/v1/visits/{visit_id}/walkaround",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


def state_in_database(server: LiveServer, visit_id: str) -> str:
    with Session(server.db_engine()) as session:
        return signature_state(session, visit_id)


def test_marks_pins_and_hashes_arrive_and_the_signature_is_checked_on_the_server(
    live_server: LiveServer, tmp_path: Path
) -> None:
    device = live_server.pair_device("tablet", "Advisor tablet 1")
    with LocalStore(tmp_path / "tablet", device.device_id) as store:
        car = new_car(store)
        earlier_visit = check_in(store, car, ticket="T-003")
        earlier_sheet = WalkaroundSheet.open(store, earlier_visit.id)
        old_chip = earlier_sheet.add_mark("right", 0.7, 0.5, "G", 1)
        earlier_sheet.save()
        visit = check_in(store, car)
        sheet = walk_around(store, visit)
        assert [item.mark.id for item in sheet.earlier] == [old_chip.id]
        report = sync(store, live_server, device.token)
        assert report.blobs_uploaded == 3  # two photos and the signature picture

        served = get_walkaround(live_server, device.token, visit.id)
        assert served["report_sha256"] == sheet.report_sha256()
        assert served["report"] == sheet.walkaround.condition_report()
        assert {
            m["id"]: (m["condition_code"], m["x"], m["y"], m["view"]) for m in served["marks"]
        } == {m.id: (m.condition_code, m.x, m.y, str(m.view)) for m in sheet.marks}
        pins = {m["condition_code"]: m["pins"] for m in served["marks"]}
        door, bumper = sheet.photos
        assert pins["A2"] == [{"photo_sha256": door.image.sha256, "x": 0.4, "y": 0.45}]
        assert pins["U1"] == [{"photo_sha256": bumper.image.sha256, "x": 0.6, "y": 0.5}]
        assert "S3" not in pins  # the tombstoned mark is not on the sheet
        assert [(p["sha256"], p["state"]) for p in served["photos"]] == [
            (door.image.sha256, "stored"),
            (bumper.image.sha256, "stored"),
        ]
        assert [m["id"] for m in served["earlier_marks"]] == [old_chip.id]
        signature = served["signature"]
        assert signature["state"] == "signed_unchanged"
        assert signature["signed_sha256"] == sheet.report_sha256()
        assert signature["image_state"] == "stored"
        assert "unchanged since it was signed" in signature["message"]["en"]
        assert state_in_database(live_server, visit.id) == "signed_unchanged"
        with live_server.db_engine().connect() as connection:
            stored = set(connection.execute(text("SELECT sha256 FROM blobs")).scalars())
        assert {door.image.sha256, bumper.image.sha256} <= stored

        # The advisor moves a mark after the customer signed: a new version, not covered.
        scratch = next(m for m in sheet.marks if m.condition_code == "A2")
        sheet.move_mark(scratch.id, 0.45, 0.55)
        assert sheet.signature_state == SignatureState.changed_after_signing
        sheet.save()
        sync(store, live_server, device.token)
        served = get_walkaround(live_server, device.token, visit.id)
        assert served["walkaround"]["version"] == 2
        assert served["signature"]["state"] == "changed_after_signing"
        assert state_in_database(live_server, visit.id) == "changed_after_signing"
        assert "changed after the customer signed" in live_server.log_tail(200)

        # The customer looks again and signs version 2.
        sheet.sign(a_signature(), signer_name="王芳")
        sync(store, live_server, device.token)
        assert get_walkaround(live_server, device.token, visit.id)["signature"]["state"] == (
            "signed_unchanged"
        )
        assert state_in_database(live_server, visit.id) == "signed_unchanged"


def test_a_photo_still_uploading_shows_as_pending_and_the_sheet_without_signature_is_unsigned(
    live_server: LiveServer, tmp_path: Path
) -> None:
    device = live_server.pair_device("tablet")
    with LocalStore(tmp_path / "tablet", device.device_id) as store:
        visit = check_in(store, new_car(store))
        sheet = WalkaroundSheet.open(store, visit.id)
        mark = sheet.add_mark("left", 0.2, 0.5, "Y", 2)
        photo = sheet.add_photo(photo_bytes(3))
        sheet.pin_photo(mark.id, photo.image.sha256, 0.5, 0.5)
        sheet.save()
        # Push the records only, as when the connection drops before the photo is sent.
        with SyncTransport(live_server.url, device.token) as transport:
            answer = transport.push([change.to_wire() for change in store.pending_changes()])
        assert {result["status"] for result in answer["results"]} == {201}
        assert photo.image.sha256 in answer["missing_blobs"]
        served = get_walkaround(live_server, device.token, visit.id)
        assert [p["state"] for p in served["photos"]] == ["pending"]
        assert served["signature"]["state"] == "unsigned"
        assert state_in_database(live_server, visit.id) == "unsigned"
        kiosk = live_server.pair("kiosk")
        refused = requests.get(
            f"{live_server.url}/api/v1/visits/{visit.id}/walkaround",
            headers={"Authorization": f"Bearer {kiosk}"},
            timeout=10,
        )
        assert refused.status_code == 403


# -- the same checks through the test client, change by change ------------------------


def push_records(client: FlaskClient, token: str, records: list[tuple[str, Any]], at: int) -> None:
    changes = []
    for offset, (kind, record) in enumerate(records):
        fields = to_wire(record)
        record_id = fields.pop("id")
        fields.pop("marks", None), fields.pop("photos", None)
        changes.append(
            {
                "change_id": str(uuid.uuid4()),
                "kind": kind,
                "id": record_id,
                "hlc": f"{at + offset:016d}-0000-tablet-b",
                "fields": fields,
            }
        )
    answer = client.post(
        "/api/v1/sync/push", json={"schema": 1, "changes": changes}, headers=bearer(token)
    )
    assert answer.status_code == 200
    assert [r["status"] for r in answer.json["results"]] == [201] * len(changes), answer.json


def signed_walkaround() -> tuple[list[tuple[str, Any]], domain.Walkaround, domain.Signature]:
    customer = domain.Customer(name="Chen Jie")
    vehicle = domain.Vehicle(customer_id=customer.id, plate="京A12345")
    visit = domain.Visit(ticket_number="A-001", customer_id=customer.id, vehicle_id=vehicle.id)
    walkaround = domain.Walkaround(visit_id=visit.id, odometer_km=81_000, fuel_eighths=2)
    photo = domain.VisitPhoto(
        visit_id=visit.id,
        walkaround_id=walkaround.id,
        image=domain.PhotoRef(
            sha256="ab" * 32, size_bytes=1000, content_type=domain.ImageType.jpeg,
            width=1600, height=1200,
        ),
    )  # fmt: skip
    marks = [
        domain.DamageMark(
            walkaround_id=walkaround.id, view=domain.DiagramView.top, x=0.5, y=0.5,
            damage_type=domain.DamageType.dent, severity=2,
            pins=[domain.PhotoPin(photo.image.sha256, 0.3, 0.3)],
        ),
        domain.DamageMark(
            walkaround_id=walkaround.id, view=domain.DiagramView.rear, x=0.2, y=0.8,
            damage_type=domain.DamageType.scratch,
        ),
    ]  # fmt: skip
    walkaround.marks, walkaround.photos = marks, [photo.image]
    signature = domain.Signature(
        visit_id=visit.id,
        purpose=domain.SignaturePurpose.checkin_sheet,
        strokes=a_signature(),
        signed_sha256=walkaround.report_sha256(),
    )
    records: list[tuple[str, Any]] = [
        ("customer", customer),
        ("vehicle", vehicle),
        ("visit", visit),
        ("walkaround", walkaround),
        ("photo", photo),
        *[("damage_mark", mark) for mark in marks],
        ("signature", signature),
    ]
    return records, walkaround, signature


def test_a_mark_taken_back_after_signing_breaks_the_signature_on_the_server(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    token = shop.device_token("tablet", "Advisor tablet 2")
    records, walkaround, _signature = signed_walkaround()
    push_records(client, token, records, at=1_700_000_000_000)
    with app.app_context():
        assert signature_state(db.session(), walkaround.visit_id) == "signed_unchanged"
    served = client.get(f"/api/v1/visits/{walkaround.visit_id}/walkaround", headers=bearer(token))
    assert served.json["report_sha256"] == walkaround.report_sha256()
    assert [p["state"] for p in served.json["photos"]] == ["pending"]  # never uploaded

    # Another tablet takes a mark back (a tombstone) without the customer seeing it.
    taken_back = walkaround.marks[1]
    taken_back.deleted = True
    push_records(client, token, [("damage_mark", taken_back)], at=1_700_000_100_000)
    with app.app_context():
        assert signature_state(db.session(), walkaround.visit_id) == "changed_after_signing"
    served = client.get(f"/api/v1/visits/{walkaround.visit_id}/walkaround", headers=bearer(token))
    assert [m["id"] for m in served.json["marks"]] == [walkaround.marks[0].id]
    assert served.json["signature"]["state"] == "changed_after_signing"
    assert "重新签字" in served.json["signature"]["message"]["zh_CN"]

    # Put back exactly as signed: the signature covers the sheet again.
    taken_back.deleted = False
    push_records(client, token, [("damage_mark", taken_back)], at=1_700_000_200_000)
    with app.app_context():
        assert signature_state(db.session(), walkaround.visit_id) == "signed_unchanged"


def test_the_walkaround_is_for_tablets_and_staff_only(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    token = shop.device_token("tablet")
    records, walkaround, _ = signed_walkaround()
    push_records(client, token, records, at=1_700_000_000_000)
    url = f"/api/v1/visits/{walkaround.visit_id}/walkaround"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=bearer(shop.device_token("kiosk"))).status_code == 403
    shop.login(client, role="advisor")
    assert client.get(url).json["signature"]["state"] == "signed_unchanged"
    unknown = client.get(f"/api/v1/visits/{uuid.uuid4()}/walkaround")
    assert unknown.status_code == 404
    bad_lang = client.get(f"/api/v1/visits/{walkaround.visit_id}/checkin-sheet.pdf?lang=fr")
    assert bad_lang.status_code == 400
