"""The kiosk app rendered headless and driven by touch, against a fake shop server."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.services.device_store import DeviceSettings, DeviceStore
from kiosk.ui.headless import HeadlessApp

pytestmark = pytest.mark.ui


def tap_code(harness: HeadlessApp, code: str) -> None:
    keys = harness.app.pairing_screen.keys
    for char in code:
        harness.tap(keys[char])


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")


def test_paired_kiosk_opens_on_welcome(kiosk_app, paired_store, shop_server, tmp_path) -> None:
    harness = kiosk_app(paired_store)
    assert harness.screen == "welcome"
    ids = harness.app.welcome_screen.ids
    assert ids.greeting.text == "Welcome to Bright Auto Service"
    assert [ids[name].title for name in ("scan_appointment_qr", "phone_or_plate", "new_visit")] == [
        "Scan appointment QR code",
        "Find it by plate number",
        "New visit (no appointment)",
    ]
    # The phone pad is on the welcome screen: typing starts at once, the 1 shown typed.
    assert ids.phone.label == "Booked a visit? Type your mobile number"
    assert ids.phone_pad.text == "1"
    harness.wait_until(lambda: harness.app.connection == "online", message="whoami answered")
    assert ids.status.ids.text.text == "Online: connected to the service desk"
    # The background sync asks too; the status check is what made it say "online".
    assert "/api/v1/devices/me" in [request["path"] for request in shop_server.requests]
    shot = harness.screenshot(tmp_path / "welcome.png")
    assert png_size(shot) == (1280, 800)


def test_unpaired_device_opens_on_pairing(kiosk_app, kiosk_store) -> None:
    harness = kiosk_app(kiosk_store)
    assert harness.screen == "pairing"
    screen = harness.app.pairing_screen
    assert screen.ids.title.text == "Pair this kiosk"
    assert "Ask the service manager for a pairing code" in screen.ids.explanation.text
    # Every key of the code's alphabet is on screen and big enough for a finger.
    assert len(screen.keys) == 31
    assert min(key.height for key in screen.keys.values()) >= 48
    assert screen.ids.pair_button.height >= 80


def test_pair_by_touch_then_welcome(kiosk_app, unpaired_store, shop_server, tmp_path) -> None:
    code = shop_server.issue_code(role="kiosk")
    harness = kiosk_app(unpaired_store)
    screen = harness.app.pairing_screen

    tap_code(harness, code)
    assert screen.code == code
    assert [box.text for box in screen.ids.code_boxes.children[::-1] if box.text != "–"] == list(
        code
    )
    harness.screenshot(tmp_path / "pairing-typed.png")
    harness.tap(screen.ids.pair_button)

    harness.wait_until(lambda: harness.screen == "welcome", message="paired")
    stored = unpaired_store.load()
    assert stored.token in shop_server.devices
    assert stored.shop_name == "Bright Auto Service"
    pairings = [r for r in shop_server.requests if r["path"] == "/api/v1/devices/pair"]
    assert pairings[-1]["body"]["code"] == code
    assert harness.app.welcome_screen.ids.greeting.text == "Welcome to Bright Auto Service"


def test_wrong_code_shows_error_and_keeps_what_was_typed(
    kiosk_app, unpaired_store, shop_server
) -> None:
    harness = kiosk_app(unpaired_store)
    screen = harness.app.pairing_screen

    tap_code(harness, "2345ABCD")
    harness.tap(screen.ids.pair_button)
    harness.wait_until(lambda: screen.message is not None, message="refused")

    assert harness.screen == "pairing"
    assert screen.code == "2345ABCD"
    assert (
        screen.ids.message.text == "This pairing code is not known. Check the code and try again."
    )
    harness.tap(screen.ids.language.ids.zh_CN)
    assert screen.ids.message.text == "无法识别此配对码。请核对后重试。"
    assert not unpaired_store.load().is_paired

    # Correcting the last character clears the message and keeps the rest.
    harness.tap(screen.ids.delete_key)
    assert (screen.code, screen.ids.message.text) == ("2345ABC", "")


def test_incomplete_code_is_explained_without_asking_the_server(
    kiosk_app, unpaired_store, shop_server
) -> None:
    harness = kiosk_app(unpaired_store)
    tap_code(harness, "K7QM")
    harness.tap(harness.app.pairing_screen.ids.pair_button)
    assert "this one has 4" in harness.app.pairing_screen.ids.message.text
    assert shop_server.requests == []


def test_busy_while_the_server_answers(kiosk_app, unpaired_store, shop_server) -> None:
    shop_server.delay_s = 0.6
    code = shop_server.issue_code()
    harness = kiosk_app(unpaired_store)
    screen = harness.app.pairing_screen
    tap_code(harness, code)
    harness.tap(screen.ids.pair_button)

    assert screen.busy
    assert screen.ids.pair_button.disabled
    assert screen.ids.pair_button.text == "Pairing…"
    assert screen.ids.message.text == "Contacting the shop server…"
    harness.tap(screen.keys["2"])  # ignored while busy
    assert screen.code == code
    harness.wait_until(lambda: harness.screen == "welcome", message="paired")


def test_unreachable_server_is_explained(kiosk_app, kiosk_store, unreachable_url) -> None:
    kiosk_store.save(DeviceSettings(server_url=unreachable_url))
    harness = kiosk_app(kiosk_store)
    screen = harness.app.pairing_screen
    tap_code(harness, "K7QM4XPD")
    harness.tap(screen.ids.pair_button)
    harness.wait_until(lambda: screen.message is not None, message="failed")
    assert screen.ids.message.text.startswith(f"Cannot reach the shop server at {unreachable_url}")
    assert screen.code == "K7QM4XPD"


def test_hardware_keyboard_types_the_code(kiosk_app, unpaired_store, shop_server) -> None:
    code = shop_server.issue_code()
    harness = kiosk_app(unpaired_store)
    screen = harness.app.pairing_screen

    harness.type_text("o")
    assert screen.code == ""
    assert "never use 0, O, 1, I or L" in screen.ids.message.text
    harness.type_text(f"{code[:4].lower()}-{code[4:]}X")  # a ninth character is ignored
    assert screen.code == code
    harness.press_key(8)  # Backspace
    assert screen.code == code[:-1]
    harness.type_text(code[-1])
    harness.press_key(13)  # Enter pairs
    harness.wait_until(lambda: harness.screen == "welcome", message="paired")


def test_language_toggle_by_touch_updates_every_text(kiosk_app, paired_store) -> None:
    harness = kiosk_app(paired_store)
    ids = harness.app.welcome_screen.ids
    harness.tap(ids.language.ids.zh_CN)

    assert harness.app.lang == "zh_CN"
    assert ids.greeting.text == "欢迎光临Bright Auto Service"
    assert ids.scan_appointment_qr.title == "扫描预约二维码"
    assert ids.new_visit.title == "新到店（未预约）"
    assert ids.phone.label == "已预约？请输入您的手机号"
    harness.tap(ids.language.ids.en)
    assert ids.greeting.text == "Welcome to Bright Auto Service"


def test_choices_reach_the_dispatcher_and_open_their_flows(kiosk_app, paired_store) -> None:
    harness = kiosk_app(paired_store)
    chosen: list[str] = []
    harness.app.welcome_screen.bind(on_choice=lambda _screen, choice: chosen.append(choice))
    ids = harness.app.welcome_screen.ids

    harness.tap(ids.phone_or_plate)
    assert (chosen, harness.screen) == (["phone_or_plate"], "lookup")
    assert harness.app.toast.text == ""  # no "being set up" message any more
    harness.app.checkin.start_over()
    harness.tap(ids.scan_appointment_qr)
    assert harness.screen == "scan"
    harness.app.checkin.start_over()
    harness.tap(ids.new_visit)
    assert harness.screen == "walkin_contact"
    assert chosen == ["phone_or_plate", "scan_appointment_qr", "new_visit"]


def test_revoked_device_goes_back_to_pairing(kiosk_app, paired_store, shop_server) -> None:
    harness = kiosk_app(paired_store, status_interval=0.2)
    harness.wait_until(lambda: harness.app.connection == "online")
    shop_server.revoke(paired_store.load().token)

    harness.wait_until(lambda: harness.screen == "pairing", message="revocation noticed")
    assert paired_store.load().token is None
    assert "unpaired by the shop" in harness.app.pairing_screen.ids.message.text


def test_offline_kiosk_keeps_its_welcome_screen(kiosk_app, paired_store, unreachable_url) -> None:
    paired_store.update(server_url=unreachable_url)
    harness = kiosk_app(paired_store)
    harness.wait_until(lambda: harness.app.connection == "offline")
    assert harness.screen == "welcome"
    assert harness.app.welcome_screen.ids.status.ids.text.text.startswith("Offline")
    assert paired_store.load().is_paired


def test_pair_code_option_pairs_without_touch(kiosk_app, unpaired_store, shop_server) -> None:
    code = shop_server.issue_code(role="tablet")
    harness = kiosk_app(unpaired_store, pair_code=f"{code[:4]}-{code[4:]}".lower())
    harness.wait_until(lambda: harness.screen == "advisor_sign_in", message="paired")
    assert unpaired_store.load().role == "tablet"


def test_tablet_mode_opens_on_advisor_sign_in(
    kiosk_app, paired_store: DeviceStore, shop_server
) -> None:
    token = shop_server.add_device("tablet")
    paired_store.update(token=token, role="tablet", mode="tablet", language="zh_CN")
    harness = kiosk_app(paired_store)
    assert harness.screen == "advisor_sign_in"
    screen = harness.app.sign_in_screen
    assert screen.ids.title.text == "Bright Auto Service · 服务顾问登录"
    harness.tap(screen.ids.language.ids.en)
    assert screen.ids.title.text == "Bright Auto Service · Advisor sign-in"
    harness.wait_until(lambda: harness.app.connection == "online")
    # This stand-in server knows nobody with a PIN: the screen says what to do.
    harness.wait_until(lambda: screen.loaded, message="advisor list asked for")
    assert "A manager sets each advisor's tablet PIN" in screen.ids.nobody.text


def test_chinese_glyphs_are_real_not_boxes(kiosk_app, kiosk_store) -> None:
    from kivy.core.text import DEFAULT_FONT, LabelBase
    from kivy.core.text import Label as CoreLabel

    kiosk_app(kiosk_store)
    assert LabelBase._fonts[DEFAULT_FONT][0].endswith("wqy-microhei.ttc")

    def pixels(text: str) -> bytes:
        label = CoreLabel(text=text, font_size=40)
        label.refresh()
        return label.texture.pixels

    # A font without Chinese draws every character as the same empty box.
    assert pixels("欢") != pixels("迎")


def test_a_second_app_in_the_same_process_works(kiosk_app, paired_store) -> None:
    first = kiosk_app(paired_store)
    first.stop()
    second = kiosk_app(paired_store)
    choices = second.app.welcome_screen.ids.choices.children
    assert len(choices) == 3  # kv rules applied once, not once per build
    second.tap(second.app.welcome_screen.ids.language.ids.zh_CN)
    assert second.app.title == "维修保养登记"
    assert second.app.welcome_screen.ids.phone.label.startswith("已预约")
