"""The advisor tablet's walk-around from the signature on, driven by touches on the headless
app: the customer signs and a change after signing needs the new version signed, the
screens follow the language, a change the disk refuses is saved with the next one, the
check-in sheet prints in the current language, and notes typed on a signed sheet are
asked about before leaving. Sync is off here, as in ``test_tablet_walkaround_ui.py``.
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
    language_button,
    message,
    sign_on,
    start_tablet_fixture,  # noqa: F401
    tablet_data_fixture,  # noqa: F401
    tap_at,
    the_mark,
    touch_path,
)

from kiosk.services.printing import LpPrinter, NoPrinter, Printer
from kiosk.ui.headless import HeadlessApp

pytestmark = pytest.mark.ui


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
