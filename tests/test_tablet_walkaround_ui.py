"""The advisor tablet's walk-around screens, driven by touches on the headless app.

Each test starts a paired tablet whose local store holds today's visit of a car that was
in the shop before (with a dent recorded then), signs Li Na in, opens the walk-around
and works it by touch: marks placed, moved, edited and deleted on the car diagram,
generated photos imported and pinned, the car's state and belongings entered. What
counts is what the local store committed (the records the sync will send) and what the
screens say. Sync is off here; the same against a real server is
``test_tablet_walkaround_live.py``. The signature, the language, saving and printing are
in ``test_tablet_walkaround_signing_ui.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tablet_fixtures import (
    TabletVisit,
    diagram_point,
    make_photo,
    message,
    photo_point,
    start_tablet_fixture,  # noqa: F401
    tablet_data_fixture,  # noqa: F401
    tap_at,
    the_mark,
    touch_path,
)

from kiosk.services.camera import FileImportCamera
from kiosk.services.local_store import LocalStore
from kiosk.ui.headless import HeadlessApp

pytestmark = pytest.mark.ui


def stored_marks(store: LocalStore, sheet: Any) -> dict[str, dict[str, Any]]:
    """The damage marks committed to the tablet's store for the open sheet, by id."""
    return {m["id"]: m for m in store.find("damage_mark", walkaround_id=sheet.walkaround.id)}


def count_saves(harness: HeadlessApp) -> list[int]:
    """Counts the controller's ``on_saved`` calls (each asks the sync to send)."""
    calls: list[int] = []
    flow = harness.app.walkaround
    original = flow.on_saved

    def counted() -> None:
        calls.append(harness.app.local_store.status().pending_changes)
        original()

    flow.on_saved = counted
    return calls


# -- damage -----------------------------------------------------------------------------


def test_marks_are_placed_by_touch_then_moved_edited_and_deleted(
    start_tablet: Callable[..., HeadlessApp], tablet_data: TabletVisit
) -> None:
    harness = start_tablet()
    flow = harness.app.walkaround
    store = harness.app.local_store
    saves = count_saves(harness)
    assert harness.screen == "walkaround_damage"
    header = flow.screen("damage").ids.header.ids
    assert header.visit_title.text == "T-012 · 粤B·D12345 · 王芳 · Toyota Camry 2021"
    assert header.visit_concern.text == "Brakes — Squeal from the front brakes"
    assert header.state_chip.text == "Not signed yet"
    damage = flow.screen("damage")
    diagram = damage.ids.diagram
    assert diagram.view == "left"

    # A tap on the driver's door: a scratch, opened in the editor; graded and noted.
    tap_at(harness, *diagram_point(diagram, 0.3, 0.6))
    (scratch,) = flow.sheet.marks
    assert (scratch.view, scratch.damage_type, scratch.severity) == ("left", "A", 1)
    assert scratch.x == pytest.approx(0.3, abs=0.003)
    assert scratch.y == pytest.approx(0.6, abs=0.003)
    assert damage.selected_mark == scratch.id
    assert damage.ids.editor.parent is not None  # the editor is what the panel shows
    harness.tap(damage.type_tiles["U"])
    harness.tap(damage.severity_tiles[3])
    harness.tap(damage.ids.note)
    harness.type_text("door")
    harness.tap(damage.ids.editor_done)
    saved = stored_marks(store, flow.sheet)[scratch.id]
    assert (saved["damage_type"], saved["severity"], saved["note"]) == ("U", 3, "door")
    assert saved["x"] == pytest.approx(0.3, abs=0.003)
    assert diagram.badge(scratch.id).text == "U3"
    assert damage.ids.editor.parent is None and damage.ids.lists.parent is not None
    assert [row.code for row in damage.ids.mark_rows.children] == ["U3"]

    # A second mark, dragged somewhere else, then taken back.
    tap_at(harness, *diagram_point(diagram, 0.7, 0.4))
    second = next(mark for mark in flow.sheet.marks if mark.id != scratch.id)
    harness.tap(damage.ids.editor_done)
    start, end = diagram_point(diagram, 0.7, 0.4), diagram_point(diagram, 0.55, 0.3)
    touch_path(harness, [start, (start[0] - 20, start[1] + 10), end])
    moved = stored_marks(store, flow.sheet)[second.id]
    assert moved["x"] == pytest.approx(0.55, abs=0.003)
    assert moved["y"] == pytest.approx(0.3, abs=0.003)
    assert len(flow.sheet.marks) == 2  # a drag is not a tap: nothing placed
    tap_at(harness, *diagram_point(diagram, 0.55, 0.3))  # opens it
    assert damage.selected_mark == second.id
    harness.tap(damage.ids.delete_mark)
    assert [mark.id for mark in flow.sheet.marks] == [scratch.id]
    assert stored_marks(store, flow.sheet)[second.id]["deleted"] is True  # a tombstone
    assert diagram.badge(second.id) is None

    # The dent seen at the car's visit in May shows apart and is carried over.
    harness.tap(damage.view_tiles["right"])
    old = diagram.badge(tablet_data.earlier_mark_id)
    assert old is not None and old.earlier and old.text == "U2"
    tap_at(harness, *diagram_point(diagram, 0.7, 0.55))
    assert damage.ids.earlier_panel.parent is not None
    assert "2026-05-12" in damage.ids.earlier_text.text
    harness.tap(damage.ids.carry_over)
    carried = next(mark for mark in flow.sheet.marks if mark.view == "right")
    assert (carried.damage_type, carried.severity) == ("U", 2)
    assert (carried.x, carried.y) == (0.7, 0.55)
    assert carried.id != tablet_data.earlier_mark_id  # today's own record

    # Each change was committed before the sync was asked to send it.
    assert len(saves) >= 8 and all(pending > 0 for pending in saves)
    assert header.saved.text.startswith("Saved on this tablet")
    kinds = {change.kind for change in store.pending_changes(limit=500)}
    assert kinds == {"walkaround", "damage_mark"}


# -- photos -----------------------------------------------------------------------------


def test_photos_are_imported_pinned_to_marks_and_zoomed(
    start_tablet: Callable[..., HeadlessApp], tmp_path: Path
) -> None:
    door = make_photo(tmp_path / "door.jpg", seed=1, size=(2400, 1800))
    bumper = make_photo(tmp_path / "bumper.jpg", seed=2)
    not_a_photo = tmp_path / "notes.jpg"
    not_a_photo.write_text("not a picture", encoding="utf-8")
    harness = start_tablet(camera=FileImportCamera([door, not_a_photo, bumper]))
    flow = harness.app.walkaround
    store = harness.app.local_store
    damage = flow.screen("damage")
    tap_at(harness, *diagram_point(damage.ids.diagram, 0.3, 0.6))
    harness.tap(damage.ids.editor_done)
    (mark,) = flow.sheet.marks

    harness.tap(damage.ids.header.ids.tab_photos)
    photos = flow.screen("photos")
    assert harness.screen == "walkaround_photos"
    assert photos.ids.take.text == "Import a photo"  # no camera on this machine
    harness.tap(photos.ids.take)
    harness.wait_until(lambda: len(flow.sheet.photos) == 1, message="first photo read")
    harness.tap(photos.ids.take)  # the file that is not a picture
    harness.wait_until(lambda: not flow.busy)
    assert "not a photo this tablet can read" in message(photos)
    assert len(flow.sheet.photos) == 1  # nothing added, nothing lost
    harness.tap(photos.ids.take)
    harness.wait_until(lambda: len(flow.sheet.photos) == 2, message="second photo read")

    first, second = flow.sheet.photos
    assert (first.image.width, first.image.height) == (1600, 1200)  # long edge ≤ 1600
    visit_id = flow.sheet.walkaround.visit_id
    records = {r["image"]["sha256"]: r for r in store.find("photo", visit_id=visit_id)}
    assert set(records) == {first.image.sha256, second.image.sha256}
    assert store.blob_path(first.image.sha256).exists()
    assert set(photos.thumbs) == set(records)
    assert photos.current == second.image.sha256  # the new one is shown
    assert photos.thumbs[second.image.sha256].waiting  # not on the server yet

    # Pin the mark to the door photo where the scratch is: the pin is drawn there.
    harness.tap(photos.thumbs[first.image.sha256])
    harness.tap(photos.mark_tiles[mark.id])
    assert photos.hint == "Now touch the photo where the damage A1 is."
    view = photos.ids.photo
    tap_at(harness, *photo_point(view, 0.25, 0.4))
    (pin,) = the_mark(flow.sheet, mark.id).pins
    assert pin.photo_sha256 == first.image.sha256
    assert (pin.x, pin.y) == (pytest.approx(0.25, abs=0.003), pytest.approx(0.4, abs=0.003))
    stored = store.find("damage_mark", walkaround_id=flow.sheet.walkaround.id)[0]
    assert stored["pins"] == [{"photo_sha256": first.image.sha256, "x": pin.x, "y": pin.y}]
    badge = view.badge(mark.id)
    assert badge is not None and badge.text == "A1"
    assert badge.center == pytest.approx(view.to_widget(*photo_point(view, 0.25, 0.4)), abs=1)
    assert photos.thumbs[first.image.sha256].pins == 1
    assert photos.pin_mark == ""  # one pin per choice

    # With no mark chosen, a touch on the photo zooms; the pins come along.
    tap_at(harness, *photo_point(view, 0.6, 0.6))
    zoom = photos.zoom_view
    assert zoom is not None and zoom.parent is not None
    assert zoom.ids.zoomed.pins == [(mark.id, "A1", pin.x, pin.y)]
    harness.tap(zoom.ids.zoom_in)
    assert zoom.zoom == pytest.approx(1.6)
    harness.tap(zoom.ids.close_zoom)
    assert zoom.parent is None

    # Taken off again.
    harness.tap(photos.mark_tiles[mark.id])
    assert photos.pinned_here
    harness.tap(photos.ids.unpin)
    assert the_mark(flow.sheet, mark.id).pins == []
    assert store.find("damage_mark", walkaround_id=flow.sheet.walkaround.id)[0]["pins"] == []


def test_without_a_camera_a_photo_is_chosen_from_a_folder(
    start_tablet: Callable[..., HeadlessApp], tmp_path: Path
) -> None:
    folder = tmp_path / "from-phone"
    (folder / "older").mkdir(parents=True)
    make_photo(folder / "IMG_0001.JPG", seed=3)
    make_photo(folder / "older" / "IMG_0002.png", seed=4)
    harness = start_tablet()  # a camera with nothing queued: the chooser opens
    flow = harness.app.walkaround
    flow.show("photos")
    photos = flow.screen("photos")
    harness.tap(photos.ids.take)
    chooser = flow.chooser
    assert chooser is not None and chooser.parent is not None
    chooser.show_folder(str(folder))
    harness.pump(2)
    assert set(chooser.thumbs) == {"IMG_0001.JPG"} and set(chooser.folders) == {"older"}
    assert chooser.ids.import_photo.disabled
    harness.tap(chooser.folders["older"])
    assert set(chooser.thumbs) == {"IMG_0002.png"}
    harness.tap(chooser.thumbs["IMG_0002.png"])
    harness.tap(chooser.ids.import_photo)
    harness.wait_until(lambda: len(flow.sheet.photos) == 1, message="chosen photo read")
    assert chooser.parent is None
    assert flow.sheet.photos[0].image.content_type == "image/jpeg"  # a PNG becomes a JPEG


# -- the car and the belongings ---------------------------------------------------------


def test_the_cars_state_and_belongings_are_entered_with_clear_messages(
    start_tablet: Callable[..., HeadlessApp],
) -> None:
    harness = start_tablet()
    flow = harness.app.walkaround
    store = harness.app.local_store
    harness.tap(flow.screen("damage").ids.header.ids.tab_car)
    car = flow.screen("car")
    pad = car.ids.odometer_pad
    assert car.ids.odometer.placeholder == "52,340 km"  # from the check-in
    assert car.ids.previous_km.text == "Last recorded for this car: 48,210 km"

    def walkaround() -> dict[str, Any]:
        (record,) = store.find("walkaround", visit_id=flow.sheet.walkaround.visit_id)
        return record

    for key in "3000000":
        harness.tap(pad.key_buttons[key])
    harness.tap(car.ids.save_odometer)
    assert "more than any car drives" in message(car)
    assert pad.text == "3000000"  # kept, to correct
    assert walkaround()["odometer_km"] == 52340
    harness.tap(pad.clear_key)
    for key in "47900":
        harness.tap(pad.key_buttons[key])
    harness.tap(car.ids.save_odometer)
    assert "lower than the 48,210 km recorded at the last visit" in message(car)
    assert walkaround()["odometer_km"] == 47900  # a warning: kept, and said
    assert car.ids.odometer.placeholder == "47,900 km" and pad.text == ""

    harness.tap(car.fuel_tiles[5])
    assert walkaround()["fuel_eighths"] == 5
    assert [e for e, tile in car.fuel_tiles.items() if tile.filled] == [1, 2, 3, 4, 5]
    assert car.ids.fuel_value.text == "5/8"
    harness.tap(car.light_tiles["abs"])
    harness.tap(car.light_tiles["tyre_pressure"])
    harness.tap(car.light_tiles["abs"])  # off again
    assert walkaround()["warning_lights"] == ["tyre_pressure"]
    assert car.light_tiles["tyre_pressure"].selected and not car.light_tiles["abs"].selected

    tread = car.ids.tread_fl
    harness.tap(tread)
    harness.type_text("deep")
    harness.tap(car.ids.tread_fr)  # leaving the field takes it
    assert "as a number" in message(car)
    assert tread.text == "deep"  # kept, to correct
    assert walkaround()["tyre_tread_mm"] == {}
    tread.text = ""
    harness.tap(tread)
    harness.type_text("3,5")
    harness.tap(car.ids.tread_rr)
    assert walkaround()["tyre_tread_mm"] == {"fl": 3.5}
    assert message(car) == ""

    # Belongings: ticks, keys, the other items and the notes, typed.
    harness.tap(car.ids.header.ids.tab_belongings)
    belongings = flow.screen("belongings")
    harness.tap(belongings.item_tiles["spare_wheel"])
    harness.tap(belongings.item_tiles["child_seat"])
    harness.tap(belongings.ids.more_keys)
    harness.tap(belongings.ids.more_keys)
    harness.tap(belongings.ids.fewer_keys)
    harness.tap(belongings.ids.other_note)
    harness.type_text("umbrella")
    harness.tap(belongings.ids.exterior_notes)
    harness.type_text("Dusty")
    harness.tap(belongings.ids.interior_notes)
    harness.type_text("Stain on the rear seat")
    harness.tap(belongings.ids.header.ids.tab_sign)  # leaving the screen takes the notes
    record = walkaround()
    assert record["belongings"] == {
        "spare_wheel": True, "jack": False, "documents": False, "valuables": False,
        "child_seat": True, "keys_count": 2, "other_note": "umbrella",
    }  # fmt: skip
    assert (record["exterior_notes"], record["interior_notes"]) == (
        "Dusty",
        "Stain on the rear seat",
    )
    summary = dict(line.render("en") for line in flow.sheet.summary())
    assert summary["Odometer"] == "47,900 km" and summary["Fuel"] == "5/8"
    assert summary["Items left in the car"] == "Spare wheel · Child seat · umbrella"
    assert summary["Tyre tread"] == "Front left 3.5 mm"
