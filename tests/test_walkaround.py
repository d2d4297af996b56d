"""The advisor's walk-around on the tablet: marks, photos, belongings, earlier damage and
the customer's signature bound to the check-in sheet (kiosk.services.walkaround)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from kiosk.services.local_store import LocalStore
from kiosk.services.walkaround import (
    SheetRefused,
    SignatureState,
    VisitHeader,
    WalkaroundSheet,
    visit_header,
)
from shared import domain
from shared.domain import DamageType, DiagramView, StrokePoint
from shared.wire import from_wire, to_wire

SERVER_CLOCK = "0001700000000000-0000-server"


def photo_bytes(seed: int = 1, size: tuple[int, int] = (1200, 900)) -> bytes:
    image = Image.new("RGB", size, (seed * 50 % 256, 120, 200 - seed * 30 % 200))
    image.paste((250, 250, 250), (100, 100, 400, 300))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    image.close()
    return buffer.getvalue()


def a_signature() -> list[list[StrokePoint]]:
    return [
        [StrokePoint(0.1 + i * 0.04, 0.5 + (0.1 if i % 2 else -0.1), i * 20) for i in range(20)]
    ]


def pulled(kind: str, record: Any) -> dict[str, Any]:
    fields = to_wire(record)
    record_id = fields.pop("id")
    return {
        "seq": 1,
        "kind": kind,
        "id": record_id,
        "fields": fields,
        "clocks": dict.fromkeys(fields, SERVER_CLOCK),
    }


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    with LocalStore(tmp_path / "tablet", "tablet-1") as local:
        yield local


@pytest.fixture
def visit(store: LocalStore) -> domain.Visit:
    """Today's visit of a car that was in the shop before, with a dent seen then."""
    customer = domain.Customer(name="李娜", phone="+8613912345678")
    vehicle = domain.Vehicle(customer_id=customer.id, plate="沪B67890", last_mileage_km=40_000)
    before = domain.Visit(ticket_number="T-001", customer_id=customer.id, vehicle_id=vehicle.id)
    old_sheet = domain.Walkaround(visit_id=before.id, odometer_km=41_200)
    old_dent = domain.DamageMark(
        walkaround_id=old_sheet.id, view=DiagramView.left, x=0.3, y=0.6,
        damage_type=DamageType.dent, severity=2,
    )  # fmt: skip
    taken_back = domain.DamageMark(
        walkaround_id=old_sheet.id, view=DiagramView.left, x=0.8, y=0.2,
        damage_type=DamageType.scratch, deleted=True,
    )  # fmt: skip
    old_sheet.marks = []
    today = domain.Visit(
        ticket_number="T-007", customer_id=customer.id, vehicle_id=vehicle.id, mileage_in_km=45_210
    )
    other_car = domain.Vehicle(customer_id=customer.id, plate="沪C11111")
    other_visit = domain.Visit(
        ticket_number="T-002", customer_id=customer.id, vehicle_id=other_car.id
    )
    other_sheet = domain.Walkaround(visit_id=other_visit.id)
    other_mark = domain.DamageMark(
        walkaround_id=other_sheet.id, view=DiagramView.left, x=0.5, y=0.5,
        damage_type=DamageType.rust,
    )  # fmt: skip
    store.apply_pulled(
        [
            pulled("customer", customer),
            pulled("vehicle", vehicle),
            pulled("vehicle", other_car),
            pulled("visit", before),
            pulled("walkaround", old_sheet),
            pulled("damage_mark", old_dent),
            pulled("damage_mark", taken_back),
            pulled("visit", other_visit),
            pulled("walkaround", other_sheet),
            pulled("damage_mark", other_mark),
            pulled("visit", today),
        ],
        next_since=11,
    )
    return today


def outbox(store: LocalStore) -> list[tuple[str, dict[str, Any], tuple[str, ...]]]:
    return [(c.kind, c.fields, c.blob_refs) for c in store.pending_changes(limit=500)]


def test_marks_are_placed_moved_edited_and_taken_back(
    store: LocalStore, visit: domain.Visit
) -> None:
    sheet = WalkaroundSheet.open(store, visit.id)
    scratch = sheet.add_mark("front", 0.25, 0.4, "A", severity=2, note="bumper corner")
    dent = sheet.add_mark(DiagramView.right, 0.61234567, 0.5, DamageType.dent)
    chip = sheet.add_mark("top", 0.4, 0.5, "G")
    sheet.move_mark(scratch.id, 0.3, 0.45)
    sheet.edit_mark(dent.id, severity=3, note="deep")
    sheet.delete_mark(chip.id)
    assert {m.condition_code for m in sheet.marks} == {"A2", "U3"}
    assert dent.x == 0.6123  # kept as the report writes it
    assert [m.id for m in sheet.marks_on("front")] == [scratch.id]
    with pytest.raises(SheetRefused):
        sheet.move_mark(chip.id, 0.5, 0.5)  # taken back: not on the sheet any more
    with pytest.raises(SheetRefused):
        sheet.add_mark("left", 1.2, 0.5, "A")
    with pytest.raises(SheetRefused):
        sheet.add_mark("left", 0.5, 0.5, "A", severity=4)
    assert sheet.save() == 4

    saved = outbox(store)
    assert [kind for kind, _, _ in saved] == ["walkaround", *["damage_mark"] * 3]
    walkaround_fields = saved[0][1]
    assert "marks" not in walkaround_fields and "photos" not in walkaround_fields
    assert walkaround_fields["visit_id"] == visit.id
    assert walkaround_fields["odometer_km"] == 45_210  # what the kiosk was told
    chip_saved = store.get("damage_mark", chip.id)
    assert chip_saved is not None and chip_saved["deleted"] is True
    for kind, fields, _ in saved:
        from_wire(kind, {**fields, "id": "00000000-0000-4000-8000-000000000000"})


def test_the_cars_state_and_belongings_are_recorded(store: LocalStore, visit: domain.Visit) -> None:
    sheet = WalkaroundSheet.open(store, visit.id)
    assert sheet.set_odometer("45 300 km") == []
    warnings = sheet.set_odometer(40_500)  # lower than at the last visit (41,200)
    assert [w.code for w in warnings] == ["mileage_below_previous"]
    with pytest.raises(SheetRefused):
        sheet.set_odometer("lots")
    sheet.set_fuel(3)
    with pytest.raises(SheetRefused):
        sheet.set_fuel(9)
    sheet.set_warning_lights(["abs", "engine", "abs"])
    with pytest.raises(SheetRefused):
        sheet.set_warning_lights(["disco"])
    sheet.set_belongings(spare_wheel=True, valuables=True, keys_count=2, other_note="umbrella")
    sheet.set_notes(exterior=" muddy ", interior="dog hair")
    sheet.set_tyre_tread("fl", 4.26)
    sheet.save()
    stored = store.get("walkaround", sheet.walkaround.id)
    assert stored is not None
    assert stored["fuel_eighths"] == 3 and stored["warning_lights"] == ["abs", "engine"]
    assert stored["belongings"]["keys_count"] == 2 and stored["belongings"]["valuables"]
    assert stored["exterior_notes"] == "muddy" and stored["tyre_tread_mm"] == {"fl": 4.3}
    lines = dict(line.render("zh_CN") for line in sheet.summary())
    assert lines["油量"] == "3/8"
    assert "备胎" in lines["车内物品"] and "umbrella" in lines["车内物品"]
    english = dict(line.render("en") for line in sheet.summary())
    assert english["Keys handed over"] == "2"


def test_photos_are_kept_and_pinned_to_marks(store: LocalStore, visit: domain.Visit) -> None:
    sheet = WalkaroundSheet.open(store, visit.id)
    mark = sheet.add_mark("left", 0.5, 0.5, "A", 2)
    photo = sheet.add_photo(photo_bytes(1), caption="driver's door")
    assert sheet.add_photo(photo_bytes(1)) is photo  # the same picture twice is one photo
    sheet.pin_photo(mark.id, photo.image.sha256, 0.25, 0.3)
    sheet.pin_photo(mark.id, photo.image.sha256, 0.2, 0.35)  # moved: still one pin
    assert mark.pins == [domain.PhotoPin(photo.image.sha256, 0.2, 0.35)]
    with pytest.raises(SheetRefused):
        sheet.pin_photo(mark.id, "0" * 64, 0.5, 0.5)
    sheet.save()
    kinds = {kind: (fields, refs) for kind, fields, refs in outbox(store)}
    photo_fields, photo_refs = kinds["photo"]
    assert photo_refs == (photo.image.sha256,)
    assert photo_fields["walkaround_id"] == sheet.walkaround.id
    assert photo_fields["image"]["width"] == 1200
    assert kinds["damage_mark"][1] == (photo.image.sha256,)
    assert [blob.sha256 for blob in store.pending_blobs()] == [photo.image.sha256]
    assert sheet.photos_waiting_to_upload() == {photo.image.sha256}
    store.mark_blob_uploaded(photo.image.sha256)
    assert sheet.photos_waiting_to_upload() == set()
    assert sheet.walkaround.photos == [photo.image]


def test_damage_from_earlier_visits_of_the_same_car_is_shown_as_earlier(
    store: LocalStore, visit: domain.Visit
) -> None:
    sheet = WalkaroundSheet.open(store, visit.id)
    (earlier,) = sheet.earlier  # the dent; not the mark taken back, not the other car's rust
    assert earlier.mark.condition_code == "U2" and earlier.visit_id != visit.id
    assert sheet.earlier_on("left") == [earlier] and sheet.earlier_on("top") == []
    assert sheet.marks == []  # not on today's sheet until the advisor says it is still there
    carried = sheet.carry_over(earlier)
    assert (carried.view, carried.x, carried.y, carried.condition_code) == ("left", 0.3, 0.6, "U2")
    assert carried.id != earlier.mark.id and carried.walkaround_id == sheet.walkaround.id


def test_the_signature_binds_the_report_and_an_edit_needs_a_new_signature(
    store: LocalStore, visit: domain.Visit
) -> None:
    sheet = WalkaroundSheet.open(store, visit.id)
    mark = sheet.add_mark("left", 0.5, 0.5, "A", 1)
    sheet.set_fuel(5)
    assert sheet.signature_state == SignatureState.unsigned
    with pytest.raises(SheetRefused):
        sheet.sign([[StrokePoint(0.5, 0.5, 0)]])  # a tap is not a signature
    signature = sheet.sign(a_signature(), signer_name="李娜")
    assert signature.signed_sha256 == sheet.walkaround.report_sha256()
    assert signature.purpose == domain.SignaturePurpose.checkin_sheet
    assert sheet.walkaround.is_covered_by(signature)
    assert sheet.signature_state == SignatureState.signed_unchanged
    assert not sheet.unsaved
    assert signature.image is not None
    assert store.blob_path(signature.image.sha256).read_bytes()[:4] == b"\x89PNG"
    signature_change = [c for c in store.pending_changes() if c.kind == "signature"]
    assert signature_change[0].blob_refs == (signature.image.sha256,)

    sheet.move_mark(mark.id, 0.55, 0.5)  # the advisor moves a mark after the customer signed
    assert sheet.walkaround.version == 2
    assert not sheet.walkaround.is_covered_by(signature)
    assert sheet.signature_state == SignatureState.changed_after_signing
    sheet.set_fuel(6)  # a second edit stays in version 2
    assert sheet.walkaround.version == 2
    sheet.save()

    reopened = WalkaroundSheet.open(store, visit.id)
    assert reopened.walkaround.version == 2
    assert reopened.report_sha256() == sheet.report_sha256()
    assert reopened.signature_state == SignatureState.changed_after_signing
    again = reopened.sign(a_signature())
    assert reopened.signature_state == SignatureState.signed_unchanged
    assert again.signed_sha256 != signature.signed_sha256


def test_a_reopened_sheet_reads_back_the_same_report(
    store: LocalStore, visit: domain.Visit
) -> None:
    sheet = WalkaroundSheet.open(store, visit.id)
    mark = sheet.add_mark("rear", 0.5, 0.7, "B", 3, note="tail lamp")
    photo = sheet.add_photo(photo_bytes(2))
    sheet.pin_photo(mark.id, photo.image.sha256, 0.5, 0.5)
    sheet.set_belongings(documents=True)
    sheet.save()
    reopened = WalkaroundSheet.open(store, visit.id)
    assert reopened.walkaround.id == sheet.walkaround.id
    assert reopened.report_sha256() == sheet.report_sha256()
    assert not reopened.unsaved


def test_the_header_names_the_visit_and_the_concern_in_both_languages(
    store: LocalStore, visit: domain.Visit
) -> None:
    header = visit_header(store, visit.id)
    assert (header.ticket_number, header.plate, header.customer_name) == (
        "T-007",
        "沪B·67890",
        "李娜",
    )
    assert header.first_name == "李娜"  # a Chinese name written without spaces stays whole
    assert VisitHeader(visit.id, customer_name="Tom Becker").first_name == "Tom"
    worded = VisitHeader(visit.id, concern_codes=("brakes", "noise"), concern_text="squeal")
    assert worded.concern("en") == "Brakes · A strange noise — squeal"
    assert worded.concern("zh_CN").startswith("刹车")
    assert visit_header(store, "00000000-0000-4000-8000-000000000000").ticket_number == ""


def test_tread_typed_on_the_tablet_is_read_and_wrong_text_is_explained(
    store: LocalStore, visit: domain.Visit
) -> None:
    sheet = WalkaroundSheet.open(store, visit.id)
    sheet.set_tyre_tread("fl", " 3,5 mm")
    sheet.set_tyre_tread("rr", "4")
    assert sheet.walkaround.tyre_tread_mm == {"fl": 3.5, "rr": 4.0}
    with pytest.raises(SheetRefused) as refused:
        sheet.set_tyre_tread("fr", "deep")
    assert refused.value.issues[0].code == "not_a_number"
    with pytest.raises(SheetRefused):
        sheet.set_tyre_tread("fr", "nan")
    with pytest.raises(SheetRefused):
        sheet.set_tyre_tread("fr", "31")
    sheet.set_tyre_tread("fl", "")  # emptied: not measured
    assert sheet.walkaround.tyre_tread_mm == {"rr": 4.0}
    lines = dict(line.render("en") for line in sheet.summary())
    assert lines["Tyre tread"] == "Rear right 4.0 mm"
    assert dict(line.render("zh_CN") for line in sheet.summary())["轮胎花纹深度"] == "右后轮 4.0 mm"


def test_the_summary_shows_everything_the_customer_signs(
    store: LocalStore, visit: domain.Visit
) -> None:
    sheet = WalkaroundSheet.open(store, visit.id)
    assert dict(line.render("en") for line in sheet.summary())["Damage"] == "None recorded"
    mark = sheet.add_mark("left", 0.5, 0.5, "A", 2, note="door")
    photo = sheet.add_photo(photo_bytes(4))
    sheet.pin_photo(mark.id, photo.image.sha256, 0.5, 0.5)
    sheet.set_notes(exterior="muddy", interior="dog hair")
    lines = dict(line.render("en") for line in sheet.summary())
    assert lines["Left side"] == "A2 Scratch door (photos: 1)"
    assert (lines["Exterior notes"], lines["Interior notes"]) == ("muddy", "dog hair")
    assert lines["Photos"] == "1" and "Damage" not in lines
    assert sheet.pins_on(photo.image.sha256) == [(mark, mark.pins[0])]


def test_a_signed_walkaround_completes_the_visit_once(
    store: LocalStore, visit: domain.Visit
) -> None:
    sheet = WalkaroundSheet.open(store, visit.id)
    sheet.set_fuel(4)
    with pytest.raises(SheetRefused) as refused:
        sheet.complete()  # not signed yet
    assert refused.value.issues[0].code == "not_signed"
    assert store.get("visit", visit.id)["status"] == "checked_in"
    sheet.sign(a_signature())
    assert sheet.complete() is True
    assert store.get("visit", visit.id)["status"] == "walkaround_done"
    visit_changes = [c.fields for c in store.pending_changes() if c.kind == "visit"]
    assert visit_changes == [{"status": "walkaround_done"}]
    assert sheet.complete() is False  # moved on already: nothing sent twice
