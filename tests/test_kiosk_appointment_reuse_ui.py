"""Appointments at the kiosk, by touch: the work booked comes into the visit (the
customer may add to it), and a second scan of a used appointment gives its ticket
(issue 16, items 3 and 4). Same headless kiosk and fixtures (``kiosk_flow_steps``) as
test_kiosk_flow_ui.py.
"""

from __future__ import annotations

import pytest
from kiosk_flow_fixtures import appointment_entry
from kiosk_flow_steps import (
    finish_common_steps,
    kiosk_data_fixture,  # noqa: F401
    saved,
    screen,
    shown_messages,
    start_kiosk_fixture,  # noqa: F401
)

pytestmark = pytest.mark.ui


def scan(harness, scanner, touches, code: str) -> None:  # type: ignore[no-untyped-def]
    touches.tap(harness.app.welcome_screen.ids.scan_appointment_qr)
    assert scanner.deliver(code)
    harness.pump(3)


def test_work_booked_comes_into_the_visit_and_the_customer_adds_to_it(start_kiosk) -> None:
    harness, _scanner, touches = start_kiosk()
    touches.keys(harness.app.welcome_screen.ids.phone_pad, "3912345601")
    harness.pump(2)  # looked up at the 11th digit
    assert harness.screen == "confirm"
    confirm = screen(harness, "confirm")
    assert confirm.ids.concerns.ids.value.text == ("Air conditioning; Air conditioning not cooling")
    touches.tap(confirm.ids.change_concerns)
    concern = screen(harness, "concern")
    words = concern.ids.words
    assert words.text == "Air conditioning not cooling"  # shown, for the customer to add to
    assert concern.tiles["air_conditioning"].selected
    touches.tap(words)  # the on-screen keyboard opens; the customer types on after it
    keyboard = harness.app.keyboard
    assert keyboard.shown and not keyboard.chinese
    for char in " and a rattle":
        touches.tap(keyboard.ids.space if char == " " else keyboard.key_buttons[char])
    touches.tap(keyboard.ids.done)
    assert words.text == "Air conditioning not cooling and a rattle"
    touches.tap(concern.ids.next)
    assert confirm.ids.concerns.ids.value.text.endswith("not cooling and a rattle")
    finish_common_steps(harness, touches)
    _store, visit = saved(harness)
    assert visit["concern_text"] == "Air conditioning not cooling and a rattle"
    assert visit["concern_codes"] == ["air_conditioning"]


def test_work_booked_is_kept_when_the_customer_adds_nothing(start_kiosk) -> None:
    harness, scanner, touches = start_kiosk()
    scan(harness, scanner, touches, "Q7M4KX")
    finish_common_steps(harness, touches)
    _store, visit = saved(harness)
    assert visit["concern_text"] == "Scheduled 50,000 km maintenance"


def test_a_second_scan_of_a_used_appointment_gives_its_ticket(start_kiosk) -> None:
    harness, scanner, touches = start_kiosk(done_seconds=1)
    scan(harness, scanner, touches, "Q7M4KX")
    finish_common_steps(harness, touches)
    assert screen(harness, "done").ids.ticket.text == "K3-001"
    harness.wait_until(lambda: harness.screen == "welcome", timeout=5)

    scan(harness, scanner, touches, "Q7M4KX")
    assert harness.screen == "scan"
    assert "You are already checked in — ticket K3-001." in shown_messages(harness, "scan")
    assert "could not find" not in shown_messages(harness, "scan")
    harness.app.checkin.start_over()

    # By phone, in Chinese: the same answer, in Chinese, and no customer's data shown.
    touches.tap(harness.app.welcome_screen.ids.language.ids.zh_CN)
    welcome = harness.app.welcome_screen
    touches.keys(welcome.ids.phone_pad, "13812345678")
    harness.pump(2)  # looked up at the 11th digit
    assert harness.screen == "welcome"
    assert "您已登记过了 — 排队号 K3-001。" in welcome.ids.message.text


def test_an_appointment_used_at_another_kiosk_gives_that_ticket(start_kiosk) -> None:
    harness, scanner, touches = start_kiosk()
    used = appointment_entry(
        "W8N5TR", "", "+8613700000000", "京B54321", "Honda", "Accord", "Oil change", []
    )
    used["fields"]["checked_in_ticket"] = "K1-004"  # as the server's snapshot says
    harness.app.local_store.replace_snapshot({"appointment"}, [used])
    scan(harness, scanner, touches, "W8N5TR")
    assert harness.screen == "scan"
    assert "You are already checked in — ticket K1-004." in shown_messages(harness, "scan")
