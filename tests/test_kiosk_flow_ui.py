"""The lobby kiosk's check-in flows, driven by simulated touches on the headless app.

Each test starts a paired kiosk whose local store already holds today's appointments
(as the server's kiosk snapshot sends them), walks a flow by touch, and checks what was
committed to the local store (records and outbox). Sync is off here; the flows against
a real server are in ``test_kiosk_flow_live.py``.

How touches are counted: every tap on the screen is one touch (a key on a keypad too,
and each signature stroke: the test signatures are one stroke). The QR code comes from
the dummy scanner, as a camera would deliver it. Goals (issue 16, item 5): phone
look-up at most 12 touches, a first-time walk-in at most 25 without the optional VIN,
odometer and car tiles.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kiosk_flow_fixtures import (
    DEVICE_ID,
    store_with_appointments,
)

from kiosk.services.device_store import DeviceSettings, DeviceStore
from kiosk.services.idle import IdleWatch
from kiosk.services.local_store import LocalStore
from kiosk.services.scanner import DummyScanner
from kiosk.services.staff_pin import hash_pin
from kiosk.ui.headless import HeadlessApp
from shared.consent import CONSENT_VERSION, consent_sha256, consent_text

pytestmark = pytest.mark.ui

SIGNATURE = [(0.1, 0.6), (0.25, 0.3), (0.4, 0.7), (0.55, 0.3), (0.7, 0.65), (0.9, 0.4)]


class Touches:
    """Counts the touches a customer makes (a signature stroke is one)."""

    def __init__(self, harness: HeadlessApp) -> None:
        self.harness = harness
        self.count = 0

    def tap(self, widget: Any) -> None:
        self.count += 1
        self.harness.tap(widget)

    def keys(self, pad: Any, text: str) -> None:
        for char in text:
            self.tap(pad.key_buttons[char])

    def sign(self, pad: Any, strokes: list[list[tuple[float, float]]] | None = None) -> None:
        for stroke in strokes or [SIGNATURE]:
            self.count += 1
            self.harness.drag(pad, stroke)


@pytest.fixture
def kiosk_data(tmp_path: Path) -> DeviceStore:
    """A paired kiosk (offline server) with today's appointments in its local store."""
    data = tmp_path / "kiosk"
    store_with_appointments(data).close()
    devices = DeviceStore(data)
    devices.save(
        DeviceSettings(
            server_url="http://127.0.0.1:9",
            mode="kiosk",
            role="kiosk",
            token="token",
            device_id=DEVICE_ID,
            shop_name="Bright Auto Service",
            plate_region="CN",
            ticket_prefix="K3",
        )
    )
    return devices


@pytest.fixture
def start_kiosk(kiosk_app: Callable[..., HeadlessApp], kiosk_data: DeviceStore):
    def start(**kwargs: Any) -> tuple[HeadlessApp, DummyScanner, Touches]:
        scanner = DummyScanner()
        harness = kiosk_app(kiosk_data, qr_scanner=scanner, start_sync=False, **kwargs)
        return harness, scanner, Touches(harness)

    return start


def screen(harness: HeadlessApp, name: str) -> Any:
    return harness.app.checkin.screen(name)


def sign(harness: HeadlessApp) -> None:
    harness.drag(screen(harness, "confirm").ids.pad, SIGNATURE)


def shown_messages(harness: HeadlessApp, name: str) -> str:
    return screen(harness, name).ids.message.text


def finish_common_steps(harness: HeadlessApp, touches: Touches) -> None:
    """The confirm screen with what is preset: sign, then "I agree — check in"."""
    assert harness.screen == "confirm"
    touches.sign(screen(harness, "confirm").ids.pad)
    touches.tap(screen(harness, "confirm").ids.finish)


def saved(harness: HeadlessApp) -> tuple[LocalStore, dict[str, Any]]:
    store = harness.app.local_store
    receipt = harness.app.checkin.receipt
    assert store is not None and receipt is not None
    visit = store.get("visit", receipt.visit_id)
    assert visit is not None
    return store, visit


def test_returning_customer_checks_in_by_qr_in_three_touches(start_kiosk) -> None:
    harness, scanner, touches = start_kiosk()
    touches.tap(harness.app.welcome_screen.ids.scan_appointment_qr)
    assert harness.screen == "scan"
    assert scanner.deliver("Q7M4KX")  # what the camera reads off the customer's phone
    harness.pump(3)

    assert harness.screen == "confirm"
    confirm = screen(harness, "confirm")
    # The kiosk knows no name or plate: it shows what the customer gave it.
    assert (confirm.ids.owner.text, confirm.ids.plate.text, confirm.ids.car.text) == (
        "Q7M4KX",
        "",
        "Toyota Camry",
    )
    # What the booking says, the promise of this version, and the pad, on one screen.
    assert confirm.ids.concerns.ids.value.words == (
        "Scheduled maintenance; Scheduled 50,000 km maintenance"
    )
    assert confirm.ids.promise.words == consent_text("en")
    assert CONSENT_VERSION in confirm.ids.version.text
    finish_common_steps(harness, touches)

    assert harness.screen == "done"
    assert touches.count <= 3, f"{touches.count} touches"
    store, visit = saved(harness)
    assert visit["ticket_number"] == "K3-001"
    booked = {r["vehicle_model"]: r["id"] for r in store.find("appointment")}
    assert visit["appointment_id"] == booked["Camry"]
    assert visit["concern_codes"] == ["maintenance"]
    assert visit["reminders_opt_in"] is False
    assert visit["mileage_in_km"] is None  # left to the advisor
    assert visit["checked_in_device_id"] == DEVICE_ID
    done = screen(harness, "done")
    assert done.ids.ticket.text == "K3-001"
    assert done.status_url == f"http://127.0.0.1:9/status/{visit['status_token']}"
    assert done.ids.qr.texture is not None
    # One outbox change per record, the signature image waiting as a photo.
    kinds = [change.kind for change in store.pending_changes()]
    assert kinds == ["visit", "consent", "signature"]
    assert store.status().pending_blobs == 1
    consent = store.find("consent", visit_id=harness.app.checkin.receipt.visit_id)[0]
    assert (consent["text_version"], consent["text_sha256"], consent["language"]) == (
        CONSENT_VERSION,
        consent_sha256("en"),
        "en",
    )
    signature = store.find("signature", visit_id=harness.app.checkin.receipt.visit_id)[0]
    assert store.blob_info(signature["image"]["sha256"]) is not None
    assert len(signature["strokes"][0]) == len(SIGNATURE)


def test_appointment_by_typed_code(start_kiosk) -> None:
    harness, _scanner, touches = start_kiosk()
    touches.tap(harness.app.welcome_screen.ids.scan_appointment_qr)
    touches.tap(screen(harness, "scan").ids.type_code)
    code = screen(harness, "code")
    touches.keys(code.ids.pad, "H3PZ9")
    touches.tap(code.ids.find)
    assert "6 characters" in shown_messages(harness, "code")
    assert code.ids.pad.text == "H3PZ9"  # kept
    touches.keys(code.ids.pad, "D")
    touches.tap(code.ids.find)
    assert harness.screen == "confirm"
    assert screen(harness, "confirm").ids.car.text == "BYD Han EV"


def test_appointment_by_phone_on_the_welcome_screen_with_mileage(start_kiosk) -> None:
    harness, _scanner, touches = start_kiosk()
    welcome = harness.app.welcome_screen
    pad = welcome.ids.phone_pad
    assert pad.text == "1"  # every Chinese mobile number starts with 1: shown typed
    touches.keys(pad, "1381234567")  # a customer who types the 1 anyway loses nothing
    harness.pump(2)
    assert pad.text == "1381234567" and harness.screen == "welcome"  # 10 digits: waits
    touches.keys(pad, "9")  # a phone with no appointment today
    harness.pump(2)  # 11 digits: looked up without a touch on "Find"
    assert "could not find an appointment" in welcome.ids.message.text
    touches.tap(pad.delete_key)
    assert welcome.ids.message.text == ""  # the message goes as soon as the number changes
    touches.keys(pad, "8")
    harness.pump(2)
    assert harness.screen == "confirm"
    confirm = screen(harness, "confirm")
    assert confirm.ids.owner.text == "138****5678"  # masked: a lobby screen
    touches.tap(confirm.ids.change_mileage)
    vehicle = screen(harness, "vehicle")
    touches.keys(vehicle.ids.mileage_pad, "3000000")
    touches.tap(vehicle.ids.next)
    assert "more than any car drives" in shown_messages(harness, "vehicle")
    assert vehicle.ids.mileage_pad.text == "3000000"
    touches.tap(vehicle.ids.mileage_pad.clear_key)
    touches.keys(vehicle.ids.mileage_pad, "48500")
    touches.tap(vehicle.ids.next)
    assert harness.screen == "confirm"  # the detour comes back
    assert confirm.ids.change_mileage.text == "Change"
    assert confirm.ids.mileage.ids.value.words == "48,500 km"
    assert harness.app.flow.mileage_km == 48500
    finish_common_steps(harness, touches)
    _store, visit = saved(harness)
    assert visit["mileage_in_km"] == 48500


def test_returning_customer_checks_in_by_phone_in_twelve_touches(start_kiosk) -> None:
    """The phone look-up path, counted: 10 digits after the shown 1 (looked up at the
    last), one signature stroke, "I agree — check in"."""
    harness, _scanner, touches = start_kiosk()
    touches.keys(harness.app.welcome_screen.ids.phone_pad, "3812345678")
    harness.pump(2)
    assert harness.screen == "confirm"
    finish_common_steps(harness, touches)
    assert harness.screen == "done"
    assert touches.count <= 12, f"{touches.count} touches"
    _store, visit = saved(harness)
    assert visit["concern_codes"] == ["maintenance"]
    assert visit["concern_text"] == "Scheduled 50,000 km maintenance"


def test_back_keeps_what_was_entered_and_changes_come_back(start_kiosk) -> None:
    harness, _scanner, touches = start_kiosk()
    welcome = harness.app.welcome_screen
    touches.keys(welcome.ids.phone_pad, "3812345678")
    harness.pump(2)
    confirm = screen(harness, "confirm")
    touches.tap(confirm.ids.change_concerns)
    concern = screen(harness, "concern")
    touches.tap(concern.tiles["brakes"])
    touches.tap(concern.ids.next)
    assert harness.screen == "confirm"
    assert confirm.ids.concerns.ids.value.words.startswith("Scheduled maintenance; Brakes; ")
    touches.tap(confirm.ids.change_contact)
    contact = screen(harness, "contact")
    touches.tap(contact.ids.phone)
    touches.tap(contact.ids.back)
    assert harness.screen == "confirm"  # Back from a detour: nothing changed
    assert confirm.ids.contact.ids.value.words == "Text message, no reminders"
    touches.tap(confirm.ids.change_contact)
    touches.tap(contact.ids.reminders)
    touches.tap(contact.ids.next)
    assert confirm.ids.contact.ids.value.words == "Text message, maintenance reminders"
    touches.sign(confirm.ids.pad)
    touches.tap(confirm.ids.back)
    assert harness.screen == "welcome"
    assert welcome.ids.phone_pad.text == "13812345678"  # kept for the customer
    touches.tap(welcome.ids.phone_pad.delete_key)
    touches.keys(welcome.ids.phone_pad, "8")
    harness.pump(2)
    assert harness.screen == "confirm"
    finish_common_steps(harness, touches)
    _store, visit = saved(harness)
    assert visit["concern_codes"] == ["maintenance", "brakes"]
    assert visit["reminders_opt_in"] is True


def test_first_time_walk_in_counted_without_optional_fields(start_kiosk) -> None:
    """A walk-in with only what is required (mobile, plate, consent, signature) and the
    car picked from tiles (make and model: two touches, nothing typed). The mobile is
    typed on the welcome screen first, as a customer who hoped for an appointment."""
    harness, _scanner, touches = start_kiosk()
    welcome = harness.app.welcome_screen
    touches.tap(welcome.ids.language.ids.zh_CN)
    touches.count = 0  # the language is not part of the check-in
    touches.keys(welcome.ids.phone_pad, "3800001111")
    harness.pump(2)
    assert "未找到" in welcome.ids.message.text  # no appointment today with this number
    touches.tap(welcome.ids.new_visit)  # the number goes with the new visit
    assert harness.screen == "walkin_plate"
    plate_screen = screen(harness, "walkin_plate")
    touches.tap(plate_screen.ids.plate.province_tiles["京"])
    touches.keys(plate_screen.ids.plate.pad, "A12345")
    touches.tap(plate_screen.ids.next)
    car = screen(harness, "walkin_car")
    touches.tap(car.make_tiles["Nissan"])
    assert car.make_tiles["Nissan"].text == "日产"
    touches.tap(car.model_tiles["Sylphy"])
    assert car.model_tiles["Sylphy"].text == "轩逸 Sylphy"
    touches.tap(car.ids.next)
    touches.tap(screen(harness, "concern").ids.next)
    finish_common_steps(harness, touches)
    assert harness.screen == "done"
    assert touches.count - 2 <= 25, f"{touches.count - 2} touches without the car tiles"
    store, visit = saved(harness)
    customer = store.get("customer", visit["customer_id"])
    vehicle = store.get("vehicle", visit["vehicle_id"])
    assert customer is not None and customer["phone"] == "+8613800001111"
    assert vehicle is not None and (vehicle["make"], vehicle["model"]) == ("Nissan", "Sylphy")
    assert vehicle["plate"] == "京A12345" and vehicle["vin"] == ""


def test_appointment_by_plate_in_chinese(start_kiosk) -> None:
    harness, _scanner, touches = start_kiosk()
    touches.tap(harness.app.welcome_screen.ids.language.ids.zh_CN)
    touches.tap(harness.app.welcome_screen.ids.phone_or_plate)
    lookup = screen(harness, "lookup")
    assert lookup.kind == "plate"  # the choice was the plate: no second touch for it
    plate = lookup.ids.plate
    touches.tap(plate.province_tiles["沪"])
    touches.keys(plate.pad, "BD123")
    touches.tap(lookup.ids.find)
    assert "太短" in shown_messages(harness, "lookup")  # too short, in Chinese
    assert plate.text == "沪BD123"
    touches.keys(plate.pad, "45")
    touches.tap(lookup.ids.find)
    assert harness.screen == "confirm"
    confirm = screen(harness, "confirm")
    assert confirm.ids.plate.text == "沪B·****45"
    assert confirm.ids.promise.words == consent_text("zh_CN")
    finish_common_steps(harness, touches)
    store, _visit = saved(harness)
    consent = store.find("consent", visit_id=harness.app.checkin.receipt.visit_id)[0]
    assert (consent["language"], consent["text_sha256"]) == ("zh_CN", consent_sha256("zh_CN"))
    assert screen(harness, "done").ids.told.text.startswith("已通知您的服务顾问")


def test_consent_is_for_the_language_shown_when_agreeing(start_kiosk) -> None:
    harness, scanner, touches = start_kiosk()
    touches.tap(harness.app.welcome_screen.ids.scan_appointment_qr)
    scanner.deliver("Q7M4KX")
    harness.pump(3)
    confirm = screen(harness, "confirm")
    touches.sign(confirm.ids.pad)
    header_language = confirm.ids.header.ids.language
    touches.tap(header_language.ids.zh_CN)  # switched after signing, before agreeing
    assert confirm.ids.promise.words == consent_text("zh_CN")
    touches.tap(confirm.ids.finish)
    store, _visit = saved(harness)
    consent = store.find("consent", visit_id=harness.app.checkin.receipt.visit_id)[0]
    assert (consent["language"], consent["text_sha256"]) == ("zh_CN", consent_sha256("zh_CN"))


def test_walk_in_with_bad_input_on_every_field(start_kiosk) -> None:
    harness, _scanner, touches = start_kiosk()
    touches.tap(harness.app.welcome_screen.ids.new_visit)
    contact = screen(harness, "walkin_contact")
    touches.keys(contact.ids.phone_pad, "12345")
    touches.tap(contact.ids.next)
    assert "11 digits" in shown_messages(harness, "walkin_contact")
    assert contact.ids.phone_pad.text == "12345"
    touches.tap(contact.ids.phone_pad.clear_key)
    touches.keys(contact.ids.phone_pad, "3800001111")
    harness.pump(2)  # a whole number: on without a touch on Continue

    assert harness.screen == "walkin_plate"
    plate_screen = screen(harness, "walkin_plate")
    plate = plate_screen.ids.plate
    touches.tap(plate.province_tiles["京"])
    touches.keys(plate.pad, "A12")
    touches.tap(plate_screen.ids.next)
    assert "too short" in shown_messages(harness, "walkin_plate")
    assert plate.text == "京A12"
    touches.keys(plate.pad, "345")
    touches.tap(plate_screen.ids.next)

    assert harness.screen == "walkin_car"
    car = screen(harness, "walkin_car")
    car.ids.name.text = "Tom Baker"  # a hardware or on-screen keyboard
    touches.tap(car.ids.add_vin)  # the optional VIN: a detour from this screen
    vin = screen(harness, "walkin_vin")
    touches.keys(vin.ids.vin_pad, "1HGCM8263")
    touches.tap(vin.ids.next)
    assert "exactly 17 characters" in shown_messages(harness, "walkin_vin")
    touches.keys(vin.ids.vin_pad, "0A004353")  # the check digit should be 0
    touches.tap(vin.ids.next)
    assert harness.screen == "walkin_vin"  # the VIN warning is shown once ...
    assert "should be 0, not 3" in shown_messages(harness, "walkin_vin")
    assert vin.ids.vin_pad.text == "1HGCM82630A004353"
    assert vin.ids.next.text == "Continue anyway"
    touches.tap(vin.ids.next)  # ... and the customer may go on: back to the car
    assert harness.screen == "walkin_car"
    assert car.ids.name.text == "Tom Baker"  # nothing lost on the way
    assert car.ids.add_vin.text == "VIN: 1HGCM82630A004353"
    touches.keys(car.ids.year_pad, "1900")
    touches.tap(car.ids.next)
    assert "between 1950" in shown_messages(harness, "walkin_car")
    assert car.ids.year_pad.text == "1900"
    touches.tap(car.ids.year_pad.clear_key)
    touches.keys(car.ids.year_pad, "2018")
    touches.tap(car.make_tiles["Honda"])
    touches.tap(car.ids.next)

    assert harness.screen == "concern"
    concern = screen(harness, "concern")
    touches.tap(concern.tiles["brakes"])
    touches.tap(concern.tiles["noise"])
    concern.ids.words.text = "Squeaks when braking"
    touches.tap(concern.ids.next)
    confirm = screen(harness, "confirm")
    assert confirm.ids.owner.text == "Tom **"  # masked on the lobby screen
    assert confirm.ids.plate.text == "京A·12345"
    assert confirm.ids.concerns.ids.value.words == ("Brakes; A strange noise; Squeaks when braking")
    touches.tap(confirm.ids.change_mileage)
    touches.keys(screen(harness, "vehicle").ids.mileage_pad, "61000")
    touches.tap(screen(harness, "vehicle").ids.next)
    touches.tap(confirm.ids.change_contact)
    contact_prefs = screen(harness, "contact")
    touches.tap(contact_prefs.ids.phone)
    touches.tap(contact_prefs.ids.reminders)
    touches.tap(contact_prefs.ids.next)
    assert harness.screen == "confirm"
    touches.tap(confirm.ids.finish)  # no signature yet
    assert shown_messages(harness, "confirm") == "Please sign in the box with your finger."
    assert harness.screen == "confirm"
    touches.sign(confirm.ids.pad, [[(0.5, 0.5), (0.52, 0.5)]])  # a dot
    touches.tap(confirm.ids.finish)
    assert harness.screen == "confirm"
    touches.tap(confirm.ids.clear_button)
    touches.sign(confirm.ids.pad)
    touches.tap(confirm.ids.finish)

    assert harness.screen == "done"
    store, visit = saved(harness)
    customer = store.get("customer", visit["customer_id"])
    vehicle = store.get("vehicle", visit["vehicle_id"])
    assert customer is not None and vehicle is not None
    assert (customer["name"], customer["phone"]) == ("Tom Baker", "+8613800001111")
    assert customer["reminders_opt_in"] is True
    assert (vehicle["plate"], vehicle["vin"], vehicle["make"], vehicle["year"]) == (
        "京A12345",
        "1HGCM82630A004353",
        "Honda",
        2018,
    )
    assert visit["concern_codes"] == ["brakes", "noise"]
    assert visit["concern_text"] == "Squeaks when braking"
    assert (visit["contact_channel"], visit["mileage_in_km"]) == ("phone", 61000)
    assert visit["appointment_id"] is None
    kinds = [change.kind for change in store.pending_changes()]
    assert kinds == ["customer", "vehicle", "visit", "consent", "signature"]


def test_ticket_numbers_count_up_and_done_returns_to_welcome(start_kiosk) -> None:
    harness, scanner, touches = start_kiosk(done_seconds=1)
    tickets = []
    for code in ("Q7M4KX", "H3PZ9D"):
        touches.tap(harness.app.welcome_screen.ids.scan_appointment_qr)
        scanner.deliver(code)
        harness.pump(3)
        finish_common_steps(harness, touches)
        tickets.append(screen(harness, "done").ids.ticket.text)
        harness.wait_until(lambda: harness.screen == "welcome", timeout=5)
    assert tickets == ["K3-001", "K3-002"]
    assert screen(harness, "done").ticket == ""  # nothing of the last customer stays
    assert screen(harness, "confirm").ids.pad.strokes == []
    assert screen(harness, "confirm").owner == ""


def test_idle_timeout_asks_then_wipes_everything(start_kiosk) -> None:
    harness, _scanner, touches = start_kiosk()
    now = [1000.0]
    harness.app.idle = IdleWatch(60, 10, clock=lambda: now[0])  # time moved by the test
    touches.tap(harness.app.welcome_screen.ids.new_visit)
    pad = screen(harness, "walkin_contact").ids.phone_pad
    touches.keys(pad, "38")
    overlay = harness.app.idle_overlay
    now[0] += 59
    harness.idle_for(0.4)
    assert not overlay.shown
    now[0] += 2  # 61 s without a touch
    harness.wait_until(lambda: overlay.shown, timeout=3, message="asked")
    assert overlay.ids.question.text == "Are you still there?"
    assert "cleared in 9 seconds" in overlay.ids.countdown.text
    touches.tap(overlay.ids.still_here)  # the customer is still there: nothing lost
    assert not overlay.shown and pad.text == "138"
    assert harness.screen == "walkin_contact"
    now[0] += 60 + 10.5  # gone: asked, then nobody answered
    harness.wait_until(lambda: harness.screen == "welcome", timeout=5, message="wiped")
    assert pad.text == "1" and not overlay.shown
    assert harness.app.flow.phone == "" and harness.app.flow.path is None


def test_digits_left_on_the_welcome_screen_are_wiped(start_kiosk) -> None:
    harness, _scanner, touches = start_kiosk()
    now = [1000.0]
    harness.app.idle = IdleWatch(60, 10, clock=lambda: now[0])
    welcome = harness.app.welcome_screen
    touches.keys(welcome.ids.phone_pad, "3912345601")
    harness.pump(2)
    assert harness.screen == "confirm"
    touches.tap(screen(harness, "confirm").ids.back)  # walked away from the welcome screen
    assert welcome.ids.phone_pad.text == "13912345601"
    now[0] += 61
    harness.wait_until(lambda: harness.app.idle_overlay.shown, timeout=3, message="asked")
    now[0] += 10.5
    harness.wait_until(lambda: welcome.ids.phone_pad.text == "1", timeout=5, message="wiped")
    assert welcome.ids.message.text == "" and not harness.app.idle_overlay.shown
    assert harness.app.flow.appointment is None


def hold_corner(harness: HeadlessApp, widget: Any, seconds: float) -> None:
    """A finger held still on ``widget`` for ``seconds``."""
    from kivy.base import EventLoop

    from kiosk.ui.headless import _Finger

    x, y = widget.to_window(*widget.center)
    finger = _Finger(x, y)
    EventLoop.post_dispatch_input("begin", finger)
    harness.idle_for(seconds)
    EventLoop.post_dispatch_input("end", finger)
    harness.pump()


def test_staff_pin_guards_leaving_kiosk_mode(start_kiosk, kiosk_data, monkeypatch) -> None:
    harness, _scanner, touches = start_kiosk()
    app = harness.app
    stopped: list[bool] = []
    monkeypatch.setattr(app, "stop", lambda *args: stopped.append(True))
    assert app._on_request_close() is True  # the window refuses to close

    app.staff_corner.dispatch("on_long_press")
    overlay = app.staff_overlay
    assert overlay.shown and "No staff PIN is set" in overlay.ids.pin_message.text
    overlay.close()

    kiosk_data.update(staff_pin_hash=hash_pin("2468"))
    app.staff_corner.hold_s = 0.2
    corner_touch = app.staff_corner
    harness.drag(corner_touch, [(0.5, 0.5)] * 2)  # a quick touch does nothing
    assert not overlay.shown
    hold_corner(harness, app.staff_corner, 0.5)  # held long enough: the PIN pad opens
    assert overlay.shown and overlay.ids.pin_message.text == "Enter the staff PIN."
    touches.keys(overlay.ids.pin_pad, "1111")
    touches.tap(overlay.ids.unlock)
    assert overlay.ids.pin_message.text == "That PIN is not right."
    assert not overlay.unlocked
    app.leave_kiosk_mode()
    assert stopped == []
    touches.keys(overlay.ids.pin_pad, "2468")
    touches.tap(overlay.ids.unlock)
    assert overlay.unlocked
    touches.tap(overlay.ids.exit_kiosk)
    assert stopped == [True]
