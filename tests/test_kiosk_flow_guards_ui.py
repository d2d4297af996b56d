"""The lobby kiosk guards what a customer types and leaves behind: bad input on every field
of the walk-in form, ticket numbers, the idle wipe, the staff PIN to leave kiosk mode.
Driven by touches on the headless app, as in ``test_kiosk_flow_ui.py``."""

from __future__ import annotations

from typing import Any

import pytest
from kiosk_flow_steps import (
    finish_common_steps,
    kiosk_data_fixture,  # noqa: F401
    saved,
    screen,
    shown_messages,
    start_kiosk_fixture,  # noqa: F401
)

from kiosk.services.idle import IdleWatch
from kiosk.services.staff_pin import hash_pin
from kiosk.ui.headless import HeadlessApp

pytestmark = pytest.mark.ui


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
    assert confirm.ids.concerns.ids.value.text == ("Brakes; A strange noise; Squeaks when braking")
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
    harness.wait_until(lambda: overlay.shown, timeout=10, message="asked")
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
    harness.wait_until(lambda: harness.app.idle_overlay.shown, timeout=10, message="asked")
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
