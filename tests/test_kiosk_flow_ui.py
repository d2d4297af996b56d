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

import pytest
from kiosk_flow_fixtures import (
    DEVICE_ID,
)
from kiosk_flow_steps import (
    SIGNATURE,
    finish_common_steps,
    kiosk_data_fixture,  # noqa: F401
    saved,
    screen,
    shown_messages,
    start_kiosk_fixture,  # noqa: F401
)

from shared.consent import CONSENT_VERSION, consent_sha256, consent_text

pytestmark = pytest.mark.ui


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
    assert confirm.ids.concerns.ids.value.text == (
        "Scheduled maintenance; Scheduled 50,000 km maintenance"
    )
    assert confirm.ids.promise.text == consent_text("en")
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
    assert confirm.ids.mileage.ids.value.text == "48,500 km"
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
    assert confirm.ids.concerns.ids.value.text.startswith("Scheduled maintenance; Brakes; ")
    touches.tap(confirm.ids.change_contact)
    contact = screen(harness, "contact")
    touches.tap(contact.ids.phone)
    touches.tap(contact.ids.back)
    assert harness.screen == "confirm"  # Back from a detour: nothing changed
    assert confirm.ids.contact.ids.value.text == "Text message, no reminders"
    touches.tap(confirm.ids.change_contact)
    touches.tap(contact.ids.reminders)
    touches.tap(contact.ids.next)
    assert confirm.ids.contact.ids.value.text == "Text message, maintenance reminders"
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
    assert confirm.ids.promise.text == consent_text("zh_CN")
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
    assert confirm.ids.promise.text == consent_text("zh_CN")
    touches.tap(confirm.ids.finish)
    store, _visit = saved(harness)
    consent = store.find("consent", visit_id=harness.app.checkin.receipt.visit_id)[0]
    assert (consent["language"], consent["text_sha256"]) == ("zh_CN", consent_sha256("zh_CN"))
