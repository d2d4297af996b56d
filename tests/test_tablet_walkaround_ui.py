"""The advisor tablet's walk-around screens, driven by touches on the headless app.

Each test starts a paired tablet whose local store holds today's visit of a car that was
in the shop before (with a dent recorded then), signs Li Na in, opens the walk-around
and works it by touch: marks placed, moved, edited and deleted on the car diagram,
generated photos imported and pinned, the car's state and belongings entered, the
customer's signature drawn on the pad. What counts is what the local store committed
(the records the sync will send) and what the screens say. Sync is off here; the same
against a real server is ``test_tablet_walkaround_live.py``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tablet_fixtures import (
    TabletVisit,
    diagram_point,
    make_photo,
    photo_point,
    sign_on,
    start_tablet_fixture,  # noqa: F401
    tablet_data_fixture,  # noqa: F401
    tap_at,
    touch_path,
)

from kiosk.services.camera import FileImportCamera
from kiosk.services.local_store import LocalStore
from kiosk.services.printing import LpPrinter, NoPrinter, Printer
from kiosk.ui.headless import HeadlessApp
from shared.domain import DamageMark

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


def message(screen: Any) -> str:
    return screen.ids.message.text


def language_button(screen: Any, lang: str) -> Any:
    toggle = screen.ids.header.ids.language
    return next(button for button in toggle.children if button.language == lang)


def the_mark(sheet: Any, mark_id: str) -> DamageMark:
    return next(mark for mark in sheet.marks if mark.id == mark_id)


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


# -- the signature ----------------------------------------------------------------------


def test_the_customer_signs_and_a_change_after_signing_needs_the_new_version_signed(
    start_tablet: Callable[..., HeadlessApp], tablet_data: TabletVisit
) -> None:
    harness = start_tablet()
    app, flow, store = harness.app, harness.app.walkaround, harness.app.local_store
    damage = flow.screen("damage")
    tap_at(harness, *diagram_point(damage.ids.diagram, 0.4, 0.55))
    harness.tap(damage.severity_tiles[2])
    harness.tap(damage.ids.editor_done)
    (mark,) = flow.sheet.marks
    harness.tap(damage.ids.header.ids.tab_sign)
    sign = flow.screen("sign")
    rows = {row.label: row.value for row in sign.ids.summary.children}
    assert rows["Left side"] == "A2 Scratch"
    assert rows["Odometer"] == "52,340 km"
    assert sign.ids.report_title.text == "Condition report, version 1"
    assert sign.ids.signer_name.text == "王芳"
    assert sign.ids.finish.disabled

    harness.tap(sign.ids.sign)  # nothing drawn yet
    assert "a dot or a tap is not enough" in message(sign)
    assert store.find("signature", visit_id=tablet_data.visit_id) == []
    sign_on(harness, sign.ids.pad)
    harness.tap(sign.ids.sign)
    (signature,) = store.find("signature", visit_id=tablet_data.visit_id)
    assert signature["purpose"] == "checkin_sheet"
    assert signature["signed_sha256"] == flow.sheet.report_sha256()
    assert signature["signer_name"] == "王芳"
    assert len(signature["strokes"]) == 2
    assert store.blob_info(signature["image"]["sha256"]) is not None  # the PNG, kept first
    assert flow.state == "signed_unchanged" and flow.locked
    chip = sign.ids.header.ids.state_chip
    assert chip.text == "Signed by the customer"
    assert sign.ids.sign.disabled and not sign.ids.finish.disabled
    assert sign.ids.pad.strokes  # the signature stays on the pad

    # The signed sheet is locked: a mark dragged stays put, nothing is written.
    harness.tap(sign.ids.header.ids.tab_damage)
    diagram = damage.ids.diagram
    assert diagram.locked
    pending = store.status().pending_changes
    start = diagram_point(diagram, 0.4, 0.55)
    touch_path(harness, [start, (start[0] + 40, start[1]), diagram_point(diagram, 0.6, 0.3)])
    assert (the_mark(flow.sheet, mark.id).x, the_mark(flow.sheet, mark.id).y) == (0.4, 0.55)
    assert store.status().pending_changes == pending

    # A change is asked about first; "keep it" changes nothing.
    tap_at(harness, *diagram_point(diagram, 0.4, 0.55))
    harness.tap(damage.severity_tiles[3])
    dialog = flow.dialog
    assert dialog is not None and dialog.parent is not None
    assert "becomes version 2" in dialog.ids.dialog_text.text
    harness.tap(dialog.ids.keep)
    assert the_mark(flow.sheet, mark.id).severity == 2
    assert flow.state == "signed_unchanged" and store.status().pending_changes == pending

    # "Change it": version 2, which the old signature does not cover.
    harness.tap(damage.severity_tiles[3])
    harness.tap(dialog.ids.change)
    assert the_mark(flow.sheet, mark.id).severity == 3
    assert flow.state == "changed_after_signing" and not flow.locked
    (record,) = store.find("walkaround", visit_id=tablet_data.visit_id)
    assert record["version"] == 2
    assert damage.ids.header.ids.state_chip.text == "Changed after signing: sign the new version"
    harness.tap(damage.ids.header.ids.tab_sign)
    assert sign.ids.report_title.text == "Condition report, version 2"
    assert "this is version 2" in sign.ids.state_detail.text
    assert sign.ids.pad.strokes == []  # the old signature was for version 1
    assert sign.ids.finish.disabled

    # Further changes before the new signature are not asked about again.
    harness.tap(sign.ids.header.ids.tab_car)
    harness.tap(flow.screen("car").fuel_tiles[4])
    assert dialog.parent is None and flow.sheet.walkaround.fuel_eighths == 4

    harness.tap(flow.screen("car").ids.header.ids.tab_sign)
    sign_on(harness, sign.ids.pad)
    harness.tap(sign.ids.sign)
    signatures = store.find("signature", visit_id=tablet_data.visit_id)
    assert len(signatures) == 2
    assert {s["signed_sha256"] for s in signatures} >= {flow.sheet.report_sha256()}
    assert flow.state == "signed_unchanged"

    # Finished: the visit moves on, and the tablet goes back to the queue.
    closed: list[bool] = []
    flow.on_closed = lambda: closed.append(True)
    harness.tap(sign.ids.finish)
    assert closed == [True]
    assert store.get("visit", tablet_data.visit_id)["status"] == "walkaround_done"
    assert not flow.in_progress
    # Opened again, the sheet reads back as signed, and locked.
    flow.open(tablet_data.visit_id)
    harness.pump(2)
    assert flow.state == "signed_unchanged" and flow.locked and flow.version == 2
    assert app.manager.current == "walkaround_damage"


def test_the_screens_follow_the_language(start_tablet: Callable[..., HeadlessApp]) -> None:
    harness = start_tablet()
    flow = harness.app.walkaround
    damage = flow.screen("damage")
    tap_at(harness, *diagram_point(damage.ids.diagram, 0.4, 0.55))
    harness.tap(language_button(damage, "zh_CN"))
    assert harness.app.lang == "zh_CN"
    header = damage.ids.header.ids
    assert (header.tab_damage.text, header.tab_sign.text) == ("损伤", "签字与打印")
    assert header.state_chip.text == "客户尚未签字"
    assert header.visit_concern.text.startswith("刹车")
    assert damage.type_tiles["A"].text == "A  划痕"
    assert damage.ids.editor_title.text == "损伤标记 A1"
    assert damage.view_tiles["left"].text == "左侧 (1)"
    for step in ("photos", "car", "belongings", "sign"):
        harness.tap(flow.screen(flow.step).ids.header.ids[f"tab_{step}"])
        assert harness.screen == f"walkaround_{step}"
    sign = flow.screen("sign")
    rows = {row.label: row.value for row in sign.ids.summary.children}
    assert rows["左侧"] == "A1 划痕" and rows["油量"] == "—"
    assert sign.ids.report_title.text == "车况报告（第 1 版）"
    assert flow.screen("car").ids.previous_km.text == "此车上次记录：48,210 公里"
    assert flow.screen("belongings").item_tiles["spare_wheel"].text == "备胎"


# -- saving and printing ----------------------------------------------------------------


def test_a_change_the_disk_refuses_says_so_and_is_saved_with_the_next_one(
    start_tablet: Callable[..., HeadlessApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    harness = start_tablet()
    flow = harness.app.walkaround
    store = harness.app.local_store
    harness.tap(flow.screen("damage").ids.header.ids.tab_car)
    car = flow.screen("car")
    real_save, real_save_many = store.save, store.save_many

    def full_disk(*_args: Any, **_kwargs: Any) -> Any:
        raise OSError(28, "No space left on device")

    # A walk-around is saved in one transaction (save_many): the disk refuses both ways.
    monkeypatch.setattr(store, "save", full_disk)
    monkeypatch.setattr(store, "save_many", full_disk)
    harness.tap(car.fuel_tiles[2])
    assert "could not be saved on the tablet" in message(car)
    assert car.ids.header.ids.saved.text == "Not saved: see the message"
    assert flow.sheet.walkaround.fuel_eighths == 2  # still on the screen
    assert car.fuel_tiles[2].selected
    monkeypatch.setattr(store, "save", real_save)
    monkeypatch.setattr(store, "save_many", real_save_many)
    harness.tap(car.light_tiles["oil"])
    (record,) = store.find("walkaround", visit_id=flow.sheet.walkaround.visit_id)
    assert (record["fuel_eighths"], record["warning_lights"]) == (2, ["oil"])
    assert car.ids.header.ids.saved.text.startswith("Saved on this tablet")


FAKE_LP = """
import shutil, sys
args = sys.argv[1:]
shutil.copy(args[-1], sys.argv[0] + ".printed.pdf")
title = args[args.index("-t") + 1] if "-t" in args else ""
print("request id is Office-42 (1 file(s))", title)
"""


def fake_lp(tmp_path: Path, fails: bool = False) -> tuple[Printer, Path]:
    script = tmp_path / "lp.py"
    body = "import sys\nprint('lp: printer is on fire', file=sys.stderr)\nsys.exit(1)\n"
    script.write_text(body if fails else FAKE_LP, encoding="utf-8")
    return LpPrinter([sys.executable, str(script)]), tmp_path / "lp.py.printed.pdf"


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")
def test_the_check_in_sheet_prints_from_the_tablet_in_the_current_language(
    start_tablet: Callable[..., HeadlessApp], tmp_path: Path
) -> None:
    harness = start_tablet()
    flow = harness.app.walkaround
    damage = flow.screen("damage")
    tap_at(harness, *diagram_point(damage.ids.diagram, 0.4, 0.55))
    harness.tap(damage.ids.header.ids.tab_sign)
    sign = flow.screen("sign")
    sign_on(harness, sign.ids.pad)
    harness.tap(sign.ids.sign)
    harness.tap(language_button(sign, "zh_CN"))

    flow.printer, printed = fake_lp(tmp_path)
    harness.tap(sign.ids.print_sheet)
    assert sign.ids.print_sheet.disabled  # while it is drawn
    harness.wait_until(lambda: not flow.printing, timeout=60, message="sheet printed")
    outcome = flow.last_print
    assert outcome.printed and outcome.job.startswith("request id is Office-42")
    assert "接车单 T-012" in outcome.job  # the job's title, in the sheet's language
    assert outcome.path.name == "checkin-sheet-T-012-zh_CN.pdf"
    assert outcome.path.parent == harness.app.local_store.data_dir / "sheets"
    assert sign.ids.print_message.text.startswith("接车单已发送到打印机")
    text = subprocess.run(
        ["pdftotext", "-layout", str(printed), "-"], capture_output=True, text=True, check=True
    ).stdout
    words = " ".join(text.split())
    for expected in (
        "接车单",
        "王芳",
        "粤BD12345",
        "A1",
        "U2",
        "客户已签字；签字后接车单未被改动。",
    ):
        assert expected in words, expected
    assert flow.sheet.report_sha256() in words

    # No printer: the sheet is saved, and the advisor is told where.
    flow.printer = NoPrinter()
    harness.tap(language_button(sign, "en"))
    harness.tap(sign.ids.print_sheet)
    harness.wait_until(lambda: not flow.printing, timeout=60)
    path = harness.app.local_store.data_dir / "sheets" / "checkin-sheet-T-012-en.pdf"
    assert path.read_bytes().startswith(b"%PDF-")
    assert sign.ids.print_message.text == (
        f"No printer on this tablet: the check-in sheet is saved at {path}"
    )

    # A printer that refuses: said, with the file kept.
    broken = tmp_path / "broken"
    broken.mkdir()
    flow.printer, _ = fake_lp(broken, fails=True)
    harness.tap(sign.ids.print_sheet)
    harness.wait_until(lambda: not flow.printing, timeout=60)
    assert "printer is on fire" in sign.ids.print_message.text
    assert str(path) in sign.ids.print_message.text and not flow.last_print.printed


def test_notes_typed_on_a_signed_sheet_are_asked_about_before_leaving(
    start_tablet: Callable[..., HeadlessApp], tablet_data: TabletVisit
) -> None:
    harness = start_tablet()
    flow, store = harness.app.walkaround, harness.app.local_store
    flow.show("sign")
    sign = flow.screen("sign")
    sign_on(harness, sign.ids.pad)
    harness.tap(sign.ids.sign)
    harness.tap(sign.ids.header.ids.tab_belongings)
    belongings = flow.screen("belongings")
    closed: list[bool] = []
    flow.on_closed = lambda: closed.append(True)

    harness.tap(belongings.ids.exterior_notes)
    harness.type_text("Scratch on the roof")
    harness.tap(belongings.ids.header.ids.close)  # "Back to the queue"
    assert flow.asking and closed == []  # not gone: the sheet would change
    harness.tap(flow.dialog.ids.keep)
    assert belongings.ids.exterior_notes.text == ""  # as signed
    assert flow.state == "signed_unchanged"
    harness.tap(belongings.ids.header.ids.close)
    assert closed == [True]
    (record,) = store.find("walkaround", visit_id=tablet_data.visit_id)
    assert record["exterior_notes"] == "" and record["version"] == 1
