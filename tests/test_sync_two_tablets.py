"""Two tablets edit one visit offline and sync in both orders: the same final state and the
same conflict history, against a real ``checkin-server`` process on loopback (the
``live_server`` fixture: SQLite, and PostgreSQL too when ``TEST_DATABASE_URL`` is set).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from live_server import LiveServer, live_server_fixture  # noqa: F401
from server_fixtures import bearer
from sync_changes import fields_of
from sync_workload import assert_device_drained, fast_transport

from kiosk.services.local_store import LocalStore
from kiosk.services.sync import (
    API_PREFIX,
    SyncEngine,
)
from shared import domain


class FakeWallClock:
    """A wall clock the test sets: both orders of a scenario then get the very same HLCs."""

    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


def visit_view(fields: dict[str, Any]) -> dict[str, Any]:
    """A visit's fields but its ids (each run of the scenario makes new records)."""
    return {
        name: value
        for name, value in fields.items()
        if name not in ("id", "customer_id", "vehicle_id", "status_token")
    }


def conflicts_of(server: LiveServer, token: str, kind: str, record_id: str) -> dict[str, Any]:
    response = requests.get(
        f"{server.url}{API_PREFIX}/records/{kind}/{record_id}", headers=bearer(token), timeout=10
    )
    with response:
        assert response.status_code == 200, response.text
        return response.json()


def relative_hlc(hlc: str, start: int) -> str:
    """An HLC with its wall time counted from ``start``: comparable across scenarios."""
    wall, counter, node = hlc.split("-", 2)
    return f"{int(wall) - start}-{counter}-{node}"


def two_tablets_scenario(
    server: LiveServer, root: Path, tablets: dict[str, Any], order: str, start: int
) -> dict[str, Any]:
    """Tablet A makes a check-in; both edit its visit offline; they sync in ``order``.

    The tablets' wall clock is set by the test from ``start`` on, so both orders get the
    same clocks relative to their start, and their histories can be compared exactly.
    """
    clock = FakeWallClock(start)
    stores = {
        name: LocalStore(root / name, tablet.device_id, now_ms=clock)
        for name, tablet in tablets.items()
    }
    transports = {
        name: fast_transport(server.url, tablet.token) for name, tablet in tablets.items()
    }
    try:
        engines = {name: SyncEngine(stores[name], transports[name]) for name in tablets}
        for transport in transports.values():
            transport.server_time = None  # the test sets the clocks; no correction
        customer = domain.Customer(name="王芳", phone="+8613912345678")
        vehicle = domain.Vehicle(customer_id=customer.id, plate="沪B12345")
        visit = domain.Visit(
            ticket_number="T-100",
            customer_id=customer.id,
            vehicle_id=vehicle.id,
            concern_text="Noise",
            checked_in_device_id=tablets["A"].device_id,
            checked_in_at=datetime(2026, 11, 22, 9, 30, tzinfo=UTC),
        )
        # A token the server keeps (tablet A's derivation): one it replaced would be
        # stamped with the server's real clock, which both tablets would then observe
        # (the test sets the clocks).
        visit.status_token = domain.status_token_for(tablets["A"].status_link_key, visit.id)
        for kind, record in (("customer", customer), ("vehicle", vehicle), ("visit", visit)):
            stores["A"].save(kind, record.id, fields_of(record))
        engines["A"].sync_once()
        engines["B"].sync_once()  # B now knows the visit as A made it
        assert stores["B"].get("visit", visit.id)["concern_text"] == "Noise"

        # Offline: A corrects the concern and the mileage; B, a second later and without
        # knowing A's edits, ticks a box, then writes its own concern and mileage.
        clock.ms = start + 1000
        stores["A"].save("visit", visit.id, {"concern_text": "Squeal when braking"})
        stores["A"].save("visit", visit.id, {"mileage_in_km": 42_000})
        clock.ms = start + 2000
        stores["B"].save("visit", visit.id, {"reminders_opt_in": True})
        stores["B"].save("visit", visit.id, {"concern_text": "Grinding, front left"})
        stores["B"].save("visit", visit.id, {"mileage_in_km": 42_010})
        clock.ms = start + 3000
        first, second = order
        engines[first].sync_once()
        engines[second].sync_once()
        engines[first].sync_once()  # pulls the other tablet's edits

        record = conflicts_of(server, tablets["A"].token, "visit", visit.id)
        final = visit_view(record["fields"])
        for name in tablets:
            assert_device_drained(stores[name])
            assert visit_view(stores[name].get("visit", visit.id)) == final, name
            local_clocks = stores[name].clocks("visit", visit.id)
            assert {k: v for k, v in local_clocks.items() if k != "id"} == record["clocks"], name
        history = [
            {
                **conflict,
                "losing_hlc": relative_hlc(conflict["losing_hlc"], start),
                "winning_hlc": relative_hlc(conflict["winning_hlc"], start),
            }
            for conflict in record["conflicts"]
        ]
        return {
            "fields": final,
            "conflicts": sorted(history, key=lambda c: (c["field"], c["losing_hlc"])),
        }
    finally:
        for name in tablets:
            transports[name].close()
            stores[name].close()


def test_two_tablets_editing_one_visit_agree_in_either_order(
    live_server: LiveServer, tmp_path: Path
) -> None:
    tablets = {name: live_server.pair_device("tablet", f"Tablet {name}") for name in "AB"}
    # The second run starts well after every clock of the first (which it pulls too).
    start = 1_790_000_000_000
    a_then_b = two_tablets_scenario(live_server, tmp_path / "ab", tablets, "AB", start)
    b_then_a = two_tablets_scenario(live_server, tmp_path / "ba", tablets, "BA", start + 60_000)

    assert a_then_b["fields"] == b_then_a["fields"]
    assert a_then_b["conflicts"] == b_then_a["conflicts"], json.dumps(
        {"A then B": a_then_b["conflicts"], "B then A": b_then_a["conflicts"]}, indent=1
    )
    fields = a_then_b["fields"]
    # Last writer (B) wins each field; A's values are not thrown away but in the history.
    assert fields["concern_text"] == "Grinding, front left"
    assert fields["mileage_in_km"] == 42_010 and fields["reminders_opt_in"] is True
    history = {
        c["field"]: (c["losing_value"], c["losing_origin"], c["winning_value"])
        for c in a_then_b["conflicts"]
    }
    a_uid = tablets["A"].device_id
    assert history == {
        "concern_text": ("Squeal when braking", a_uid, "Grinding, front left"),
        "mileage_in_km": (42_000, a_uid, 42_010),
    }
