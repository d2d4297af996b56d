"""A device that has seen a year of a busy shop stays quick: every look-up a screen or a
sync round makes uses an index, finished visits leave once the server has all of them,
a kiosk keeps only its recent check-ins, and a car's history is cached for the
walk-around (offline, the cache serves)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from kiosk_flow_fixtures import DEVICE_ID, store_with_appointments, zigzag_strokes
from PIL import Image

from kiosk.services.checkin_flow import (
    CheckinFlow,
    KioskSetup,
    LookupKind,
    expected_wait_minutes,
    next_ticket_number,
)
from kiosk.services.local_store import LocalStore
from kiosk.services.sync import ServerUnreachable
from kiosk.services.sync_transport import VehicleHistory
from kiosk.services.tablet_queue import WalkaroundProgress, open_visits
from kiosk.services.walkaround import WalkaroundSheet
from kiosk.services.working_set import DeviceWorkingSet
from shared import domain
from shared.domain import DamageType, DiagramView
from shared.wire import to_wire

TABLET_ID = "7a1c2e3f-4b5d-4c6e-9f70-8a9b0c1d2e3f"
SERVER_CLOCK = "0001700000000000-0000-server"
SETUP = KioskSetup(device_id=DEVICE_ID, ticket_prefix="K3")


def pulled(kind: str, record: Any) -> dict[str, Any]:
    fields = to_wire(record)
    record_id = fields.pop("id")
    fields.pop("marks", None)
    fields.pop("photos", None)
    clocks = dict.fromkeys(fields, SERVER_CLOCK)
    return {"kind": kind, "id": record_id, "fields": fields, "clocks": clocks}


def photo_bytes(seed: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (seed * 40 % 256, 80, 120)).save(buffer, "JPEG")
    return buffer.getvalue()


def a_car(store: LocalStore, status: str, *, marks: int = 1) -> dict[str, Any]:
    """A customer, car and visit as pulled, with a pulled walk-around and marks."""
    customer = domain.Customer(name="李娜", phone="+8613912345678")
    vehicle = domain.Vehicle(customer_id=customer.id, plate="沪B67890", last_mileage_km=40_000)
    visit = domain.Visit(ticket_number="T-001", customer_id=customer.id, vehicle_id=vehicle.id)
    entries = [pulled("customer", customer), pulled("vehicle", vehicle), pulled("visit", visit)]
    entries[-1]["fields"]["status"] = status
    sheet = domain.Walkaround(visit_id=visit.id, odometer_km=41_200)
    entries.append(pulled("walkaround", sheet))
    for n in range(marks):
        mark = domain.DamageMark(
            walkaround_id=sheet.id, view=DiagramView.left, x=0.1 * (n + 1), y=0.5,
            damage_type=DamageType.dent,
        )  # fmt: skip
        entries.append(pulled("damage_mark", mark))
    store.apply_pulled(entries, next_since=store.pull_cursor() + len(entries))
    return {"customer": customer, "vehicle": vehicle, "visit": visit, "walkaround": sheet}


@pytest.fixture
def tablet(tmp_path: Path) -> Iterator[LocalStore]:
    with LocalStore(tmp_path / "tablet", TABLET_ID) as store:
        yield store


def _plans(store: LocalStore, work: Any) -> list[tuple[str, str]]:
    """(statement, query plan) of every statement ``work`` ran on the records table."""
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)
    try:
        work()
    finally:
        store._db.set_trace_callback(None)
    plans = []
    for sql in statements:
        if not re.search(r"\bFROM records\b", sql):
            continue
        rows = store._db.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
        plans.append((sql, " | ".join(str(row[-1]) for row in rows)))
    return plans


def test_every_look_up_of_the_queue_a_walk_around_and_a_check_in_uses_an_index(
    tablet: LocalStore, tmp_path: Path
) -> None:
    car = a_car(tablet, "checked_in")
    a_car(tablet, "delivered")
    sheet = WalkaroundSheet.open(tablet, car["visit"].id)
    sheet.add_photo(photo_bytes(1))
    sheet.sign(zigzag_strokes(), "李娜")
    now = datetime.now(UTC)

    with store_with_appointments(tmp_path / "kiosk") as kiosk:

        def check_in() -> None:
            flow = CheckinFlow(SETUP)
            match = flow.find_appointments(kiosk, LookupKind.code, "Q7M4KX").matches[0]
            flow.choose_appointment(match)
            flow.accept_consent("en")
            flow.set_signature(zigzag_strokes())
            flow.check_in(kiosk, now)
            next_ticket_number(kiosk, "K3", now)
            expected_wait_minutes(kiosk, now)

        kiosk_plans = _plans(kiosk, check_in)
    plans = [
        *_plans(tablet, lambda: open_visits(tablet, "b67")),
        *_plans(tablet, lambda: WalkaroundSheet.open(tablet, car["visit"].id)),
        *_plans(tablet, lambda: tablet.prune_finished_visits(7)),
        *kiosk_plans,
    ]
    assert len(plans) > 15
    # Each read goes by one record (kind and id) or through a field index; reading all
    # the records of a kind ("kind=?" alone) or all records ("SCAN") is what grows.
    by_key = re.compile(
        r"records USING (INDEX sqlite_autoindex_records_1|PRIMARY KEY) \(kind=\? AND id=\?\)"
    )
    by_field = re.compile(r"records USING INDEX records_by_\w+ \(kind=\? AND <expr>")
    # A kiosk's appointments are the day's snapshot only (replaced each round): a
    # look-up among them is bounded by one day's bookings, not by history.
    whole = [
        (sql, plan)
        for sql, plan in plans
        if "SCAN records" in plan
        or not (by_key.search(plan) or by_field.search(plan) or "kind = 'appointment'" in sql)
    ]
    assert whole == []


def test_the_queue_shows_progress_of_open_visits_only(tablet: LocalStore) -> None:
    open_car, signed_car = a_car(tablet, "checked_in"), a_car(tablet, "walkaround_done")
    gone = a_car(tablet, "delivered")
    sheet = WalkaroundSheet.open(tablet, signed_car["visit"].id)
    sheet.sign(zigzag_strokes(), "李娜")
    entries = {entry.visit_id: entry.progress for entry in open_visits(tablet)}
    assert entries == {
        open_car["visit"].id: WalkaroundProgress.in_progress,
        signed_car["visit"].id: WalkaroundProgress.signed,
    }
    assert gone["visit"].id not in entries
    sheet.set_fuel(3)  # changed after the customer signed
    sheet.save()
    entries = {entry.visit_id: entry.progress for entry in open_visits(tablet)}
    assert entries[signed_car["visit"].id] == WalkaroundProgress.changed_after_signing


def _sync_everything(store: LocalStore) -> None:
    store.acknowledge(change.change_id for change in store.pending_changes(limit=1000))
    store.mark_blobs_uploaded(blob.sha256 for blob in store.pending_blobs())


def test_a_finished_visit_leaves_the_tablet_only_once_the_server_has_all_of_it(
    tablet: LocalStore,
) -> None:
    done = a_car(tablet, "checked_in")
    still_here = a_car(tablet, "in_progress")
    sheet = WalkaroundSheet.open(tablet, done["visit"].id)
    photo = sheet.add_photo(photo_bytes(2))
    sheet.sign(zigzag_strokes(), "李娜")
    # The desk delivers the car (the feed says so).
    delivered = pulled("visit", done["visit"])
    delivered["fields"] = {"status": "delivered"}
    delivered["clocks"] = {"status": "0009000000000000-0000-server"}
    tablet.apply_pulled([delivered], next_since=99)
    later = datetime.now(UTC) + timedelta(days=8)

    report = tablet.prune_finished_visits(7, later)
    assert (report.visits, report.kept_unsynced) == (0, 1)  # the walk-around is not sent yet
    assert tablet.get("visit", done["visit"].id) is not None
    assert tablet.prune_finished_visits(7).visits == 0  # not 7 days yet

    tablet.acknowledge(change.change_id for change in tablet.pending_changes(limit=1000))
    report = tablet.prune_finished_visits(7, later)
    assert report.kept_unsynced == 1  # its photos have not reached the server yet
    _sync_everything(tablet)
    report = tablet.prune_finished_visits(7, later)
    assert (report.visits, report.kept_unsynced) == (1, 0)
    assert report.photos == 2  # the photo and the signature's picture
    for kind in ("visit", "walkaround", "customer", "vehicle"):
        assert tablet.get(kind, done[kind].id) is None, kind
    assert tablet.find("damage_mark", walkaround_id=done["walkaround"].id) == []
    assert tablet.find("photo", visit_id=done["visit"].id) == []
    assert not tablet.blob_path(photo.image.sha256).exists()
    assert tablet.status().pending_changes == 0
    for kind in ("visit", "walkaround", "customer", "vehicle"):
        assert tablet.get(kind, still_here[kind].id) is not None, kind
    assert [entry.visit_id for entry in open_visits(tablet)] == [still_here["visit"].id]


def test_a_customer_with_another_visit_on_the_tablet_stays(tablet: LocalStore) -> None:
    first = a_car(tablet, "delivered")
    again = domain.Visit(
        ticket_number="T-009",
        customer_id=first["customer"].id,
        vehicle_id=first["vehicle"].id,
    )
    tablet.apply_pulled([pulled("visit", again)], next_since=100)
    later = datetime.now(UTC) + timedelta(days=8)
    assert tablet.prune_finished_visits(7, later).visits == 1
    assert tablet.get("visit", first["visit"].id) is None
    assert tablet.get("customer", first["customer"].id) is not None
    assert tablet.get("vehicle", first["vehicle"].id) is not None


def test_a_kiosk_keeps_only_its_recent_check_ins(tmp_path: Path) -> None:
    day = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)
    with store_with_appointments(tmp_path / "kiosk") as kiosk:
        old = []
        for n in range(3):
            flow = CheckinFlow(SETUP)
            flow.start_walk_in()
            flow.set_contact("", f"1381234567{n}")
            flow.set_plate(f"粤B8{n}K21")
            flow.accept_consent("en")
            flow.set_signature(zigzag_strokes())
            old.append(flow.save(kiosk, day - timedelta(days=3)))
        _sync_everything(kiosk)
        unsent = CheckinFlow(SETUP)
        unsent.choose_appointment(
            unsent.find_appointments(kiosk, LookupKind.code, "Q7M4KX").matches[0]
        )
        unsent.accept_consent("en")
        unsent.set_signature(zigzag_strokes())
        waiting = unsent.save(kiosk, day - timedelta(days=3))
        unsent.save(kiosk, day)

        report = kiosk.prune_finished_visits(1, day, checked_in_too=True)
        assert report.visits == 3 and report.kept_unsynced == 1
        assert all(kiosk.get("visit", receipt.visit_id) is None for receipt in old)
        assert (
            kiosk.find("customer") == [] and kiosk.find("consent", visit_id=old[0].visit_id) == []
        )
        assert kiosk.get("visit", waiting.visit_id) is not None  # not sent yet: kept
        assert len(kiosk.find("appointment")) == 2  # today's appointments stay
        assert next_ticket_number(kiosk, "K3", day) == "K3-002"


class FakeTransport:
    def __init__(self, history: dict[str, list[dict[str, Any]]]) -> None:
        self.history = history
        self.asked: list[str] = []
        self.offline = False

    def vehicle_history(self, vehicle_id: str) -> VehicleHistory:
        if self.offline:
            raise ServerUnreachable("no Wi-Fi")
        self.asked.append(vehicle_id)
        return VehicleHistory(self.history.get(vehicle_id, []), [])


class FakeEngine:
    def __init__(self, store: LocalStore, transport: FakeTransport) -> None:
        self.store, self.transport = store, transport


def test_a_cars_history_is_fetched_for_the_walk_around_and_serves_offline(
    tablet: LocalStore,
) -> None:
    today = a_car(tablet, "checked_in", marks=0)
    vehicle = today["vehicle"]
    earlier = domain.Visit(ticket_number="T-100", customer_id=today["customer"].id,
                           vehicle_id=vehicle.id)  # fmt: skip
    earlier_sheet = domain.Walkaround(visit_id=earlier.id, odometer_km=44_000)
    dent = domain.DamageMark(
        walkaround_id=earlier_sheet.id, view=DiagramView.rear, x=0.5, y=0.5,
        damage_type=DamageType.dent,
    )  # fmt: skip
    history = [pulled("visit", earlier), pulled("walkaround", earlier_sheet),
               pulled("damage_mark", dent)]  # fmt: skip
    history[0]["fields"]["status"] = "delivered"
    transport = FakeTransport({vehicle.id: history})
    hook = DeviceWorkingSet(7)

    assert WalkaroundSheet.open(tablet, today["visit"].id).earlier == []
    hook(FakeEngine(tablet, transport))  # type: ignore[arg-type]
    assert transport.asked == [vehicle.id]
    sheet = WalkaroundSheet.open(tablet, today["visit"].id)
    assert [item.mark.id for item in sheet.earlier] == [dent.id]
    assert sheet.previous_km == 44_000

    hook(FakeEngine(tablet, transport))  # type: ignore[arg-type]
    assert transport.asked == [vehicle.id]  # cached: not asked again
    transport.offline = True
    hook.want_history(vehicle.id)  # the walk-around opened again, offline
    hook(FakeEngine(tablet, transport))  # type: ignore[arg-type]
    sheet = WalkaroundSheet.open(tablet, today["visit"].id)
    assert [item.mark.id for item in sheet.earlier] == [dent.id]  # the cache serves
    assert [e.visit_id for e in open_visits(tablet)] == [today["visit"].id]
