"""Saving never holds the screen: the kiosk's check-in and the tablet's signed
walk-around are saved on a worker thread, driven here by touches on the headless app.

While a save runs, the screen says so and its buttons wait: a second tap (the customer
taps "Finish" twice) saves nothing more. A save the disk refuses shows a message and
keeps everything entered, and tapping again then saves it. The store's ``save_many`` is
held on a gate (or made to fail) so that the test sees the screen mid-save.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from kiosk_flow_steps import (
    kiosk_data_fixture,  # noqa: F401
    screen,
    sign,
    start_kiosk_fixture,  # noqa: F401
)
from tablet_fixtures import (
    TabletVisit,
    sign_on,
    start_tablet_fixture,  # noqa: F401
    tablet_data_fixture,  # noqa: F401
)

from kiosk.services.local_store import LocalStore
from kiosk.ui.headless import HeadlessApp

pytestmark = pytest.mark.ui

NOT_SAVED_KIOSK = "Your check-in could not be saved on this kiosk."
NOT_SAVED_TABLET = "This change could not be saved on the tablet."


class HeldSaves:
    """Wraps a store's ``save_many``: each call waits for ``release()`` (or fails with
    ``OSError`` while ``failing``) and is counted."""

    def __init__(self, store: LocalStore, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[list[str]] = []
        self.failing = False
        self._gate = threading.Event()
        self._gate.set()
        real = store.save_many

        def save_many(changes: Sequence[Any], **kwargs: Any) -> Any:
            self.calls.append([change[0] for change in changes])
            assert self._gate.wait(20), "the test never let the save go on"
            if self.failing:
                raise OSError(28, "No space left on device")
            return real(changes, **kwargs)

        monkeypatch.setattr(store, "save_many", save_many)

    def hold(self) -> None:
        self._gate.clear()

    def release(self) -> None:
        self._gate.set()


def to_the_signature(harness: HeadlessApp) -> None:
    """A customer with a booking: scanned, what is preset kept, signed."""
    harness.tap(harness.app.welcome_screen.ids.scan_appointment_qr)
    scanner = harness.app.checkin.scanner
    assert scanner.deliver("Q7M4KX")
    harness.pump(3)
    sign(harness)
    assert harness.screen == "confirm"


def visits(store: LocalStore) -> list[dict[str, Any]]:
    return [visit for visit in store.find("visit") if not visit.get("deleted")]


def test_a_double_tap_on_finish_saves_the_check_in_once(
    start_kiosk: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    harness, _scanner, _touches = start_kiosk()
    store = harness.app.local_store
    saves = HeldSaves(store, monkeypatch)
    to_the_signature(harness)
    signature = screen(harness, "confirm")
    saves.hold()

    harness.tap(signature.ids.finish, wait_for_saves=False)
    # Saving: the screen stays, says so, and its buttons wait; the UI thread is free.
    assert harness.screen == "confirm"
    assert harness.app.checkin.saving
    assert signature.ids.finish.disabled and signature.ids.clear_button.disabled
    assert signature.ids.finish.text == "Saving your check-in…"
    harness.tap(signature.ids.finish, wait_for_saves=False)  # the second tap
    harness.app.checkin.finish(signature.ids.pad.strokes)  # even if it got through
    harness.pump(3)
    assert visits(store) == []

    saves.release()
    harness.wait_until(lambda: harness.screen == "done", message="no ticket shown")
    assert saves.calls == [["visit", "consent", "signature"]]
    (visit,) = visits(store)
    assert screen(harness, "done").ids.ticket.text == visit["ticket_number"] == "K3-001"
    assert [change.kind for change in store.pending_changes()] == ["visit", "consent", "signature"]
    assert not signature.ids.finish.disabled  # ready for the next customer


def test_a_check_in_the_disk_refuses_keeps_what_was_entered_and_saves_on_the_next_tap(
    start_kiosk: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    harness, _scanner, _touches = start_kiosk()
    store = harness.app.local_store
    saves = HeldSaves(store, monkeypatch)
    to_the_signature(harness)
    signature = screen(harness, "confirm")
    strokes = [list(stroke) for stroke in signature.ids.pad.strokes]
    flow = harness.app.checkin.flow
    entered = (flow.appointment, flow.concern_codes)
    saves.failing = True

    harness.tap(signature.ids.finish)
    assert harness.screen == "confirm"
    assert signature.ids.message.text.startswith(NOT_SAVED_KIOSK)
    assert visits(store) == [] and store.pending_changes() == []
    # Nothing entered is lost: the signature on the pad, every step's answers.
    assert signature.ids.pad.strokes == strokes
    assert (flow.appointment, flow.concern_codes) == entered
    assert flow.consent_language == "en"  # agreed to the promise shown
    assert not signature.ids.finish.disabled

    saves.failing = False  # space freed: the customer taps again
    harness.tap(signature.ids.finish)
    assert harness.screen == "done"
    (visit,) = visits(store)
    assert visit["appointment_id"] == entered[0].appointment_id
    assert len(saves.calls) == 2


def test_a_double_tap_on_the_walk_around_signature_saves_it_once(
    start_tablet: Callable[..., HeadlessApp],
    tablet_data: TabletVisit,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    harness = start_tablet()
    flow, store = harness.app.walkaround, harness.app.local_store
    saves = HeldSaves(store, monkeypatch)
    harness.tap(flow.screen("damage").ids.header.ids.tab_sign)
    sign = flow.screen("sign")
    sign_on(harness, sign.ids.pad)
    saves.hold()

    harness.tap(sign.ids.sign, wait_for_saves=False)
    assert flow.saving
    assert sign.ids.sign.disabled and sign.ids.sign.text == "Saving…"
    assert sign.ids.finish.disabled
    harness.tap(sign.ids.sign, wait_for_saves=False)  # the second tap
    flow.sign(sign.ids.pad.strokes, "王芳", lambda _issues: None)  # even if it got through
    flow.close()  # and "back to the queue" waits for the save too
    assert flow.in_progress
    harness.pump(3)
    assert store.find("signature", visit_id=tablet_data.visit_id) == []

    saves.release()
    harness.wait_until(lambda: not flow.saving, message="the signature was not saved")
    assert len([kinds for kinds in saves.calls if "signature" in kinds]) == 1
    (signature,) = store.find("signature", visit_id=tablet_data.visit_id)
    assert signature["signed_sha256"] == flow.sheet.report_sha256()
    assert flow.state == "signed_unchanged"
    assert sign.ids.sign.text == "Signed" and not sign.ids.finish.disabled

    harness.tap(sign.ids.finish, wait_for_saves=False)
    harness.tap(sign.ids.finish, wait_for_saves=False)  # twice again
    harness.wait_until(lambda: not flow.in_progress, message="the walk-around did not finish")
    assert store.get("visit", tablet_data.visit_id)["status"] == "walkaround_done"
    assert len([kinds for kinds in saves.calls if "visit" in kinds]) == 1


def test_a_walk_around_signature_the_disk_refuses_keeps_the_sheet_and_the_pad(
    start_tablet: Callable[..., HeadlessApp],
    tablet_data: TabletVisit,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    harness = start_tablet()
    flow, store = harness.app.walkaround, harness.app.local_store
    saves = HeldSaves(store, monkeypatch)
    harness.tap(flow.screen("damage").ids.header.ids.tab_sign)
    sign = flow.screen("sign")
    sign_on(harness, sign.ids.pad)
    strokes = [list(stroke) for stroke in sign.ids.pad.strokes]
    saves.failing = True

    harness.tap(sign.ids.sign)
    assert sign.ids.message.text.startswith(NOT_SAVED_TABLET)
    assert flow.save_failed and flow.state == "unsigned"
    assert store.find("signature", visit_id=tablet_data.visit_id) == []
    assert sign.ids.pad.strokes == strokes and not sign.ids.sign.disabled
    assert flow.in_progress and flow.sheet.signatures == []

    saves.failing = False
    harness.tap(sign.ids.sign)
    (signature,) = store.find("signature", visit_id=tablet_data.visit_id)
    assert len(signature["strokes"]) == len(strokes)
    assert flow.state == "signed_unchanged" and not flow.save_failed
