"""A walk-around that opens fetches its car's history from a real server at once.

``checkin-server serve`` runs as a subprocess with the demo shop. A tablet is paired and
has pulled its queue, without the background sync (so nothing but the walk-around asks
for the history). The server then learns of an earlier visit of Zhao Min's car, from
another device: its walk-around (odometer 38,000 km) with a dent on the rear. Opening
today's walk-around shows that dent once the answer comes (and caches that visit), with
the screen usable meanwhile; with the server gone, the walk-around opens again with the
history from the tablet's cache.

An earlier visit's quote had two lines declined and not done since: the *Deferred* tab
(touched, in both languages) lists them, soonest due first, for the advisor to offer
again — from the server's answer, and offline from the tablet's copy.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from customer_file_fixtures import Line, VisitPlan, make_history
from live_server import LiveServer, live_server_fixture  # noqa: F401
from sqlalchemy import select
from sqlalchemy.orm import Session
from tablet_fixtures import ADVISOR, pair_tablet

from kiosk.services.local_store import LocalStore
from kiosk.services.sync import SyncEngine, SyncTransport
from kiosk.ui.headless import HeadlessApp
from shared import domain
from shared.domain import DamageType, DiagramView
from shared.wire import to_wire
from sync_server import create_app
from sync_server.demo import demo_id
from sync_server.sync.tables import SyncRecord
from sync_server.visit_tables import Visit

pytestmark = pytest.mark.ui

ZONE = ZoneInfo("Asia/Shanghai")  # the demo shop's
VISIT_KEY = "zhao-min"  # A-003, checked in 12 minutes ago, no walk-around yet


def earlier_visit_on_server(live_server: LiveServer) -> tuple[str, str]:
    """Another device sends an earlier visit of the car, walked around, then the desk
    delivers it. Returns (the visit's id, its dent's id)."""
    device = live_server.pair_device("tablet", "Tablet 2")
    vehicle_id, customer_id = demo_id("vehicle", VISIT_KEY), demo_id("customer", VISIT_KEY)
    visit = domain.Visit(
        ticket_number="A-081",
        customer_id=customer_id,
        vehicle_id=vehicle_id,
        checked_in_at=domain.utcnow() - timedelta(days=60),
    )
    sheet = domain.Walkaround(visit_id=visit.id, odometer_km=38_000)
    dent = domain.DamageMark(
        walkaround_id=sheet.id, view=DiagramView.rear, x=0.4, y=0.6, damage_type=DamageType.dent
    )
    changes = []
    for n, (kind, record) in enumerate(
        (("visit", visit), ("walkaround", sheet), ("damage_mark", dent))
    ):
        fields = to_wire(record)
        record_id = fields.pop("id")
        fields.pop("marks", None)
        fields.pop("photos", None)
        clock = f"{int(domain.utcnow().timestamp() * 1000) - 1000 + n:016d}-0000-{device.device_id}"
        changes.append(
            {"change_id": str(uuid.uuid4()), "kind": kind, "id": record_id, "hlc": clock,
             "fields": fields}
        )  # fmt: skip
    with SyncTransport(live_server.url, device.token) as transport:
        results = transport.push(changes)["results"]
    assert [result["status"] for result in results] == [201, 201, 201], results
    with Session(live_server.db_engine()) as session:  # the desk handed the car back
        session.get(Visit, visit.id).status = "delivered"
        record = session.scalars(
            select(SyncRecord).where(SyncRecord.kind == "visit", SyncRecord.id == visit.id)
        ).one()
        record.fields = {**record.fields, "status": "delivered"}
        session.commit()
    return visit.id, dent.id


def declined_work_on_server(live_server: LiveServer) -> None:
    """A visit of the car 40 days ago whose quote had the pads (yellow, due in 90 days)
    and the wiper blade (green, due in 180) declined, and the oil change done."""
    app = create_app({"DATABASE_URL": live_server.database_url, "TESTING": True})
    day = datetime.now(UTC) - timedelta(days=40)
    lines = [
        Line("Oil change", part_number="OIL-5W30", price="300"),
        Line("Rear wiper blade", "declined", part_number="WB-450", urgency="green"),
        Line("Front brake pads", "declined", part_number="BP-2231", urgency="yellow"),
    ]
    vehicle_id, customer_id = demo_id("vehicle", VISIT_KEY), demo_id("customer", VISIT_KEY)
    try:
        make_history(app, customer_id, vehicle_id, [VisitPlan(day, 36_000, lines=lines)])
    finally:
        app.extensions["db_engine"].dispose()  # no connection left for the collector


def deferred_cards(flow: Any) -> list[tuple[str, str]]:
    """What the Deferred tab lists, top first: (the work, its details)."""
    box = flow.screen("deferred").ids.deferred_list
    return [(card.title, card.details) for card in reversed(box.children)]


def test_opening_a_walk_around_fetches_the_cars_history_and_the_cache_serves_offline(
    live_server: LiveServer, kiosk_app: Callable[..., HeadlessApp], tmp_path: Path
) -> None:
    live_server.cli("demo")
    devices = pair_tablet(live_server, tmp_path / "tablet")
    settings = devices.load()
    visit_id = demo_id("visit", VISIT_KEY)
    with (
        LocalStore(tmp_path / "tablet", settings.device_id) as store,
        SyncTransport(live_server.url, settings.token) as transport,
    ):
        SyncEngine(store, transport).sync_once()  # the queue pulled; no history asked
        assert store.get("visit", visit_id) is not None
    earlier_id, dent_id = earlier_visit_on_server(live_server)
    declined_work_on_server(live_server)

    harness = kiosk_app(devices, start_sync=False, idle_timeout=3600)
    app: Any = harness.app
    store = app.local_store
    assert store.get("visit", earlier_id) is None  # not on the tablet before it opens
    app.advisor = ADVISOR
    flow = app.walkaround
    flow.open(visit_id)
    assert flow.in_progress  # shown at once, the history still on its way
    harness.wait_until(
        lambda: flow.sheet is not None and flow.sheet.earlier,
        timeout=20,
        message="the car's history never came",
    )
    assert [item.mark.id for item in flow.sheet.earlier] == [dent_id]
    assert flow.sheet.earlier[0].visit_id == earlier_id
    assert store.get("visit", earlier_id)["status"] == "delivered"  # cached
    (sheet,) = store.find("walkaround", visit_id=earlier_id)
    assert sheet["odometer_km"] == 38_000
    harness.wait_until(lambda: flow.deferred_count == 2, message="no deferred work came")
    header = flow.screen("damage").ids.header.ids
    assert header.tab_deferred.text == "Deferred (2)"
    harness.tap(header.tab_deferred)
    assert flow.manager.current == "walkaround_deferred"
    pads, wiper = deferred_cards(flow)
    declined = (datetime.now(UTC) - timedelta(days=40)).astimezone(ZONE).date()
    assert pads == (
        "Front brake pads",
        f"Needed soon · Due {declined + timedelta(days=90)} · Declined {declined} · Part BP-2231",
    )
    assert wiper[0] == "Rear wiper blade" and "Can wait" in wiper[1] and "WB-450" in wiper[1]
    harness.tap(flow.screen("deferred").ids.header.ids.language.children[0])  # 简体中文
    assert header.tab_deferred.text == "未做项目 (2)"
    assert deferred_cards(flow)[0][1].startswith("尽快需要 · 到期 ")
    harness.tap(flow.screen("deferred").ids.header.ids.language.children[1])  # English
    flow.close()

    live_server.stop()  # the shop's server is gone: the cache serves
    flow.open(visit_id)
    harness.idle_for(1.0)  # the fetch fails in the background; nothing changes
    assert flow.in_progress
    assert [item.mark.id for item in flow.sheet.earlier] == [dent_id]
    harness.tap(flow.screen("damage").ids.header.ids.tab_deferred)
    assert [title for title, _ in deferred_cards(flow)] == ["Front brake pads", "Rear wiper blade"]
    flow.close()
