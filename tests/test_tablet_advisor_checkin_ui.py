"""The advisor's check-in at the car, by touch on the tablet (headless Kivy): today's
arrivals, the car and mileage confirmed, the concern, the customer's consent and
signature, then the walk-around of the same visit — the kiosk's check-in records,
saved in the tablet's local store (the live test sends them to a real server)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from advisor_checkin_fixtures import APPOINTMENT, CUSTOMER, store_with_arrivals
from tablet_fixtures import SIGNATURE_WAVE
from tablet_queue_fixtures import TABLET_ID
from test_tablet_queue_ui import TabletShop, sign_in, start

from kiosk.services.device_store import DeviceStore
from kiosk.services.local_store import LocalStore
from kiosk.services.server_client import DeviceInfo
from shared.consent import CONSENT_VERSION, consent_sha256

pytestmark = pytest.mark.ui


@pytest.fixture
def tablet_store(tmp_path: Path) -> DeviceStore:
    return store_with_arrivals(tmp_path)


def records(devices: DeviceStore, kind: str, **match: Any) -> list[dict[str, Any]]:
    store = LocalStore(devices.data_dir, TABLET_ID)
    try:
        return store.find(kind, **match)
    finally:
        store.close()


def open_arrivals(harness: Any) -> Any:
    queue = harness.app.queue_screen
    harness.wait_until(lambda: queue.loaded, message="queue read")
    harness.tap(queue.ids.check_in)
    screen = harness.app.advisor_checkin.arrivals_screen
    harness.wait_until(lambda: screen.loaded, message="arrivals read")
    harness.pump(2)
    return screen


def test_an_appointment_checked_in_at_the_car_then_the_walkaround(
    kiosk_app: Any, tablet_store: DeviceStore
) -> None:
    harness = start(kiosk_app, tablet_store)
    sign_in(harness, "li.na")
    arrivals = open_arrivals(harness)
    # Today's, not yet checked in: not tomorrow's, not the one already here.
    assert [row["work"] for row in arrivals.rows] == ["Front brake pads"]
    assert arrivals.ids.title.text == "今天的预约到店  (1)"
    harness.app.set_language("en")
    assert arrivals.ids.title.text == "Today's arrivals  (1)"
    row = next(w for w in arrivals.ids.list.layout_manager.children if w.appointment_id)
    assert row.plate == "京N·88888" and row.vip and "周杰" in row.customer
    harness.tap(row)

    car = harness.app.advisor_checkin.car_screen
    assert harness.screen == "advisor_car"
    assert car.ids.concern.text == "Front brake pads"  # the work booked
    assert "51,000" in car.last_mileage
    harness.tap(car.ids.next)  # no mileage read yet
    assert "Read the odometer" in car.ids.message.text
    assert harness.screen == "advisor_car"
    car.ids.mileage.text = "52300"
    car.ids.concern.text = "Front brake pads; squeal when cold"
    harness.tap(car.ids.next)

    sign = harness.app.advisor_checkin.sign_screen
    assert harness.screen == "advisor_sign"
    harness.app.set_language("zh_CN")  # the customer reads the promise in Chinese
    assert sign.ids.promise.text == sign.text_for("zh_CN")
    harness.tap(sign.ids.agree)  # not signed yet
    assert harness.screen == "advisor_sign" and sign.ids.message.text
    harness.drag(sign.ids.pad, SIGNATURE_WAVE)
    harness.tap(sign.ids.agree)

    # The walk-around of the very visit opens at once.
    harness.wait_until(lambda: harness.screen == "walkaround_damage", message="walk-around")
    [visit] = records(tablet_store, "visit", appointment_id=APPOINTMENT)
    assert visit["mileage_in_km"] == 52300 and visit["advisor_user_id"] == 2
    assert visit["concern_text"] == "Front brake pads; squeal when cold"
    assert visit["customer_id"] == CUSTOMER and visit["ticket_number"].startswith("T-")
    assert harness.app.walkaround.sheet.walkaround.visit_id == visit["id"]
    [consent] = records(tablet_store, "consent", visit_id=visit["id"])
    assert consent["text_version"] == CONSENT_VERSION and consent["language"] == "zh_CN"
    assert consent["text_sha256"] == consent_sha256("zh_CN")
    [signature] = records(tablet_store, "signature", visit_id=visit["id"], purpose="consent")
    assert signature["image"]["sha256"]

    # Back on the queue the car is there; the arrival is gone from the list.
    header = harness.app.manager.get_screen("walkaround_damage").ids.header
    harness.tap(header.ids.close)
    harness.wait_until(lambda: harness.screen == "queue", message="queue")
    arrivals = open_arrivals(harness)
    assert arrivals.rows == []


def test_a_walk_in_at_the_car_keeps_what_was_typed_when_a_field_is_wrong(
    kiosk_app: Any, tablet_store: DeviceStore
) -> None:
    harness = start(kiosk_app, tablet_store)
    sign_in(harness, "tom")
    arrivals = open_arrivals(harness)
    harness.tap(arrivals.ids.walk_in)
    car = harness.app.advisor_checkin.car_screen
    assert harness.screen == "advisor_car" and car.walk_in
    car.ids.phone.text = "12345"
    car.ids.plate_input.text = "粤B88K22"
    car.ids.make.text = "BYD"
    car.ids.model.text = "Seal"
    car.ids.mileage.text = "8000"
    car.ids.concern.text = "Warning light on"
    harness.tap(car.ids.next)
    assert harness.screen == "advisor_car" and car.ids.message.text
    assert car.ids.plate_input.text == "粤B88K22" and car.ids.concern.text == "Warning light on"
    car.ids.phone.text = "13800138000"
    harness.tap(car.ids.next)
    sign = harness.app.advisor_checkin.sign_screen
    assert harness.screen == "advisor_sign"
    harness.drag(sign.ids.pad, SIGNATURE_WAVE)
    harness.tap(sign.ids.agree)
    harness.wait_until(lambda: harness.screen == "walkaround_damage", message="walk-around")
    [customer] = records(tablet_store, "customer", phone="+8613800138000")
    [vehicle] = records(tablet_store, "vehicle", customer_id=customer["id"])
    assert vehicle["plate"] == "粤B88K22" and vehicle["make"] == "BYD"
    [visit] = records(tablet_store, "visit", vehicle_id=vehicle["id"])
    assert visit["advisor_user_id"] == 3 and visit["appointment_id"] is None


def test_cancel_leaves_nothing_of_the_customer_on_the_screens(
    kiosk_app: Any, tablet_store: DeviceStore
) -> None:
    harness = start(kiosk_app, tablet_store)
    sign_in(harness, "li.na")
    arrivals = open_arrivals(harness)
    harness.tap(arrivals.ids.walk_in)
    car = harness.app.advisor_checkin.car_screen
    car.ids.phone.text = "13800138000"
    harness.tap(car.ids.cancel)
    assert harness.screen == "queue"
    assert car.ids.phone.text == ""
    assert records(tablet_store, "customer", phone="+8613800138000") == []
    assert TabletShop.down is False


def test_the_queue_highlights_customers_not_greeted_within_the_target(
    kiosk_app: Any, tablet_store: DeviceStore
) -> None:
    harness = start(kiosk_app, tablet_store)
    sign_in(harness, "li.na")
    queue = harness.app.queue_screen
    harness.wait_until(lambda: queue.loaded, message="queue read")
    late = {row["ticket"]: row["not_greeted"] for row in queue.rows}
    # A-011 waits 42 minutes without a walk-around; A-012 only 8; are
    # past check-in; A-020 was checked in just now.
    assert late == {
        "A-011": "已等待接待 42 分钟",
        "A-012": "",
        "A-009": "",
        "A-010": "",
        "A-020": "",
    }
    harness.app.set_language("en")
    harness.pump(3)  # the list redrawn in English before the app stops
    row = next(r for r in queue.rows if r["ticket"] == "A-011")
    assert row["not_greeted"] == "Not greeted for 42 min"


class PatientShop(TabletShop):
    """A shop whose greeting target is 45 minutes (its server's setting)."""

    def whoami(self) -> DeviceInfo:
        return replace(super().whoami(), greeting_target_minutes=45)


def test_the_greeting_target_is_the_shops_setting(
    kiosk_app: Any, tablet_store: DeviceStore
) -> None:
    harness = kiosk_app(tablet_store, client_factory=PatientShop, start_sync=False)
    harness.wait_until(lambda: tablet_store.load().greeting_target_minutes == 45)
    harness.wait_until(lambda: harness.app.sign_in_screen.loaded, message="advisor list")
    sign_in(harness, "li.na")
    queue = harness.app.queue_screen
    harness.wait_until(lambda: queue.loaded, message="queue read")
    assert queue.greeting_target_minutes == 45
    # A-011 has waited 42 minutes: within this shop's 45.
    assert [row["ticket"] for row in queue.rows if row["not_greeted"]] == []


def test_a_customer_checked_in_by_an_advisor_counts_as_greeted() -> None:
    from kiosk.services.tablet_queue import QueueEntry, WalkaroundProgress
    from shared.visit_status import VisitStatus

    long_ago = datetime.now(UTC) - timedelta(minutes=30)
    entry = QueueEntry(
        visit_id="v",
        ticket_number="T-001",
        plate="京A·12345",
        customer_name="",
        vip=False,
        checked_in_at=long_ago,
        status=VisitStatus.checked_in,
        concern="",
        make_model="",
        progress=WalkaroundProgress.not_started,
    )
    assert entry.not_greeted_in_time(10)
    assert not entry.not_greeted_in_time(31)
    assert not replace(entry, taken_by_advisor=True).not_greeted_in_time(10)
    assert not replace(entry, progress=WalkaroundProgress.in_progress).not_greeted_in_time(10)
