"""The check-in flow's Kivy-free core: lookups, steps, records, tickets, and helpers."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from kiosk_flow_fixtures import DEVICE_ID, store_with_appointments, zigzag_strokes

from kiosk.services.checkin_flow import (
    CheckinFlow,
    CheckinPath,
    KioskSetup,
    LookupKind,
    next_ticket_number,
    shop_region,
)
from kiosk.services.idle import IdleState, IdleWatch
from kiosk.services.local_store import LocalStore
from kiosk.services.scanner import DummyScanner, appointment_code_from_payload
from kiosk.services.signature_image import render_signature_png
from kiosk.services.staff_pin import hash_pin, verify_pin
from shared.consent import CONSENT_VERSION, consent_sha256, consent_text
from shared.domain import StrokePoint
from shared.wire import from_wire

SETUP = KioskSetup(
    device_id=DEVICE_ID,
    ticket_prefix="K3",
    server_url="http://shop.example:5000/",
)


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    with store_with_appointments(tmp_path / "kiosk") as local:
        yield local


def appointment_flow(store: LocalStore, code: str = "q7m4-kx") -> CheckinFlow:
    flow = CheckinFlow(SETUP)
    flow.choose_appointment(flow.find_appointments(store, LookupKind.code, code).matches[0])
    flow.accept_consent("en")
    assert flow.set_signature(zigzag_strokes()) == []
    return flow


@pytest.mark.parametrize(
    ("kind", "typed"),
    [
        (LookupKind.code, "Q7M4KX"),
        (LookupKind.code, " q7m4-kx "),
        (LookupKind.phone, "138 1234 5678"),
        (LookupKind.phone, "+86 13812345678"),
        (LookupKind.plate, "京A12345"),
        (LookupKind.plate, "京a·12345"),
    ],
)
def test_appointment_found_by_code_phone_or_plate_and_shown_masked(store, kind, typed) -> None:
    result = CheckinFlow(SETUP).find_appointments(store, kind, typed)
    assert [m.vehicle for m in result.matches] == ["Toyota Camry"]
    match = result.matches[0]
    # Only what the customer typed is shown back, masked; the kiosk knows no more.
    assert match.customer_name_masked == ""
    assert (
        match.shown_as
        == {
            LookupKind.code: "Q7M4KX",
            LookupKind.phone: "138****5678",
            LookupKind.plate: "京A·***45",
        }[kind]
    )


@pytest.mark.parametrize(
    ("kind", "typed", "code"),
    [
        (LookupKind.phone, "1381234567", "phone_cn_mobile"),
        (LookupKind.phone, "13900000000", "appointment_not_found"),
        (LookupKind.plate, "京A123", "plate_too_short"),
        (LookupKind.plate, "京A54321", "appointment_not_found"),
        (LookupKind.code, "Q7M4", "code_too_short"),
    ],
)
def test_lookup_problems_are_explained(store, kind, typed, code) -> None:
    result = CheckinFlow(SETUP).find_appointments(store, kind, typed)
    assert not result.found
    assert [issue.code for issue in result.issues] == [code]
    assert result.issues[0].message.render("zh_CN") != result.issues[0].message.render("en")


def test_lookup_needs_no_key_from_pairing(store) -> None:
    result = CheckinFlow(KioskSetup()).find_appointments(store, LookupKind.code, "Q7M4KX")
    assert [m.vehicle for m in result.matches] == ["Toyota Camry"]


def test_appointment_check_in_saves_visit_consent_and_signature(store) -> None:
    flow = appointment_flow(store)
    assert flow.set_mileage("48,500 km") == []
    receipt = flow.save(store)

    assert receipt.ticket_number == "K3-001"
    assert receipt.status_url == f"http://shop.example:5000/status/{receipt.status_token}"
    assert [kind for kind, _ in receipt.saved_records] == ["visit", "consent", "signature"]
    visit = store.get("visit", receipt.visit_id)
    assert visit["mileage_in_km"] == 48500
    assert visit["concern_codes"] == ["maintenance"]  # taken from the booking
    assert visit["status_token"] == receipt.status_token
    consent_id = receipt.saved_records[1][1]
    consent = from_wire("consent", {**store.get("consent", consent_id), "id": consent_id})
    assert (consent.text_version, consent.text_sha256) == (CONSENT_VERSION, consent_sha256("en"))
    signature_id = receipt.saved_records[2][1]
    signature = store.get("signature", signature_id)
    png = store.blob_file(signature["image"]["sha256"]).read_bytes()
    assert png == render_signature_png(flow.strokes)
    outbox = store.pending_changes()
    assert [change.blob_refs for change in outbox] == [(), (), (signature["image"]["sha256"],)]


def test_walk_in_check_in_makes_customer_and_vehicle(store) -> None:
    flow = CheckinFlow(SETUP)
    flow.start_walk_in()
    assert [i.code for i in flow.set_contact("  Tom   Baker ", "12345")] == ["phone_cn_mobile"]
    assert flow.set_contact("  Tom   Baker ", "138 0000 1111") == []
    assert [i.code for i in flow.set_plate("京A12")] == ["plate_too_short"]
    assert flow.plate == ""
    assert flow.set_plate("京a 12345") == []
    issues = flow.set_vin("1HGCM82630A004353")
    assert [(i.code, i.severity) for i in issues] == [("vin_check_digit", "warning")]
    assert flow.vin == "1HGCM82630A004353"  # a warning keeps the VIN
    assert [i.code for i in flow.set_car("Honda", "Accord", "1900")] == ["year_range"]
    assert flow.set_car("Honda", "Accord", "2018") == []
    assert [i.code for i in flow.set_mileage("-5")] == ["mileage_negative"]
    assert flow.set_mileage("") == [] and flow.mileage_km is None
    assert flow.set_concerns(["noise", "brakes", "nonsense"], "x" * 501)[0].code == "too_long"
    assert flow.set_concerns(["noise", "brakes"], " squeaks ") == []
    flow.set_contact_preferences("email", True)
    flow.accept_consent("zh_CN")
    assert [i.code for i in flow.set_signature([[StrokePoint(0.5, 0.5, 0)]])] == [
        "signature_missing"
    ]
    flow.set_signature(zigzag_strokes())
    receipt = flow.save(store)

    customer_id = receipt.saved_records[0][1]
    customer = store.get("customer", customer_id)
    assert (customer["name"], customer["phone"]) == ("Tom Baker", "+8613800001111")
    assert (customer["preferred_channel"], customer["reminders_opt_in"]) == ("email", True)
    vehicle = store.get("vehicle", receipt.saved_records[1][1])
    assert (vehicle["plate"], vehicle["make"], vehicle["model"], vehicle["year"]) == (
        "京A12345",
        "Honda",
        "Accord",
        2018,
    )
    visit = store.get("visit", receipt.visit_id)
    assert visit["concern_codes"] == ["brakes", "noise"]  # in the shop's order
    assert (visit["customer_id"], visit["appointment_id"]) == (customer_id, None)


def test_nothing_is_saved_before_consent_and_signature(store) -> None:
    flow = CheckinFlow(SETUP)
    flow.start_walk_in()
    with pytest.raises(ValueError, match="walk_in_incomplete"):
        flow.save(store)
    assert store.status().pending_changes == 0


def test_reset_forgets_the_customer_but_keeps_the_kiosk(store) -> None:
    flow = appointment_flow(store)
    flow.reset()
    assert (flow.path, flow.appointment, flow.strokes, flow.consent_language) == (
        None,
        None,
        [],
        None,
    )
    assert flow.setup == SETUP
    assert CheckinPath.appointment.value == "appointment"


def test_tickets_count_per_day_and_continue_after_a_restart(tmp_path: Path) -> None:
    day = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)
    with store_with_appointments(tmp_path / "kiosk") as store:
        for code in ("Q7M4KX", "H3PZ9D"):
            appointment_flow(store, code).save(store, now=day)
    with LocalStore(tmp_path / "kiosk", DEVICE_ID) as reopened:
        assert next_ticket_number(reopened, "K3", day) == "K3-003"
        assert next_ticket_number(reopened, "K3", day + timedelta(days=1)) == "K3-001"
        assert next_ticket_number(reopened, "K9", day) == "K9-001"


def test_plate_region_follows_the_shop_setting() -> None:
    assert shop_region("generic") == "generic"
    assert shop_region("CN") == shop_region("京") == "CN"


def test_consent_text_is_versioned_and_hashed_per_language() -> None:
    assert "strictly confidential" in consent_text("en")
    assert "严格保密" in consent_text("zh_CN")
    assert consent_sha256("zh-CN") == hashlib.sha256(consent_text("zh_CN").encode()).hexdigest()
    assert consent_sha256("en") != consent_sha256("zh_CN")


def test_signature_png_is_the_same_for_the_same_strokes() -> None:
    first = render_signature_png(zigzag_strokes())
    assert first.startswith(b"\x89PNG") and first == render_signature_png(zigzag_strokes())
    assert first != render_signature_png(zigzag_strokes(8))


def test_staff_pin_is_stored_as_a_salted_hash() -> None:
    stored = hash_pin("2468", iterations=1000)
    assert "2468" not in stored and stored != hash_pin("2468", iterations=1000)
    assert verify_pin("2468", stored) and not verify_pin("2469", stored)
    assert not verify_pin("2468", "") and not verify_pin("2468", "md5$x$y$z")
    with pytest.raises(ValueError):
        hash_pin("12")


def test_idle_watch_asks_then_expires() -> None:
    now = [0.0]
    watch = IdleWatch(60, 10, clock=lambda: now[0])
    now[0] = 59.9
    assert watch.reading().state is IdleState.active
    now[0] = 62
    reading = watch.reading()
    assert (reading.state, round(reading.seconds_left)) == (IdleState.asking, 8)
    watch.touched()
    assert watch.reading().state is IdleState.active
    now[0] = 62 + 70.1
    assert watch.reading().state is IdleState.expired


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ("Q7M4KX", "Q7M4KX"),
        ("q7m4-kx", "Q7M4KX"),
        ("https://shop.example/a/Q7M4KX", "Q7M4KX"),
        ("checkin-appointment:Q7M4KX", "Q7M4KX"),
    ],
)
def test_scanner_reads_the_code_out_of_the_qr(payload: str, code: str) -> None:
    assert appointment_code_from_payload(payload) == code
    scanner = DummyScanner()
    assert not scanner.deliver(payload)  # nobody scanning: nothing happens
    seen: list[str] = []
    scanner.start(seen.append)
    assert scanner.deliver(payload) and seen == [code]
    scanner.stop()
    assert not scanner.scanning


def test_status_check_learns_ticket_prefix_and_erases_an_old_lookup_key(tmp_path: Path) -> None:
    from kiosk.services.connection import ConnectionChecker
    from kiosk.services.device_store import DeviceSettings, DeviceStore
    from kiosk.services.server_client import DeviceInfo

    class Server:
        def __init__(self, *_args: object, **_kwargs: object) -> None:
            pass

        def __enter__(self) -> Server:
            return self

        def __exit__(self, *_exc: object) -> None:
            pass

        def whoami(self) -> DeviceInfo:
            return DeviceInfo(DEVICE_ID, "Lobby", "kiosk", "Shop", "CN", "K7")

    devices = DeviceStore(tmp_path)
    devices.save(DeviceSettings(token="t", device_id=DEVICE_ID, role="kiosk", staff_pin_hash="x"))
    # A kiosk paired by an older version kept the shop's lookup key on its disk.
    stored = json.loads(devices.path.read_text())
    devices.path.write_text(json.dumps(stored | {"kiosk_lookup_key": "ab" * 32}))
    ConnectionChecker(devices, Server).check()  # type: ignore[arg-type]
    settings = devices.load()
    assert settings.ticket_prefix == "K7"
    assert settings.staff_pin_hash == "x"
    assert "kiosk_lookup_key" not in devices.path.read_text()


def test_staff_pin_option_stores_only_a_hash(tmp_path: Path) -> None:
    from kiosk.main import parse_options
    from kiosk.services.device_store import DeviceStore
    from kiosk.services.launch import resolve_settings

    options = parse_options(["--data-dir", str(tmp_path), "--staff-pin", "2468"])
    devices = DeviceStore(tmp_path)
    settings = resolve_settings(options, devices)
    assert verify_pin("2468", devices.load().staff_pin_hash)
    assert "2468" not in devices.path.read_text()
    assert settings.idle_timeout_s == 60
    with pytest.raises(SystemExit):
        parse_options(["--staff-pin", "12"])
