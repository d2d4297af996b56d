"""A manager makes a customer a VIP on the server; the advisor tablet, syncing with a
real server, moves that customer's car to the top of its queue with the VIP badge. The
same VIP then walks in at the lobby kiosk and is typed in anew (a new customer record,
no look-up): the server matches the phone to the VIP customer file, and the tablet flags
that car too."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from sync_changes import walk_in
from tablet_fixtures import pair_tablet
from test_tablet_queue_live import PIN, demo_server, sign_in  # noqa: F401

from kiosk.services.sync import SyncTransport
from kiosk.ui.headless import HeadlessApp
from sync_server.appointments.vip import set_vip
from sync_server.sync.records import lock_feed
from sync_server.visit_tables import Visit

pytestmark = pytest.mark.ui


def test_a_customer_made_vip_on_the_server_comes_first_on_the_tablet(
    demo_server: Any,  # noqa: F811
    kiosk_app: Any,
    tmp_path: Path,
) -> None:
    devices = pair_tablet(demo_server, tmp_path / "tablet")
    harness: HeadlessApp = kiosk_app(devices, sync_interval=0.5)
    harness.wait_until(
        lambda: harness.app.sign_in_screen.advisors, message="advisor list", timeout=30
    )
    sign_in(harness, "li.na", PIN)
    queue = harness.app.queue_screen
    harness.wait_until(lambda: len(queue.rows) == 3, timeout=30, message="visits pulled")
    assert [row["ticket"] for row in queue.rows] == ["A-001", "A-002", "A-003"]
    assert not any(row["vip"] for row in queue.rows)

    with Session(demo_server.db_engine()) as session:
        visit = session.scalar(select(Visit).where(Visit.ticket_number == "A-003"))
        assert visit is not None
        lock_feed(session)
        vip = set_vip(session, visit.customer_id, True, "Fleet manager of a taxi company")
        vip_phone = vip.phone
        session.commit()

    harness.wait_until(
        lambda: [row["ticket"] for row in queue.rows][:1] == ["A-003"],
        timeout=30,
        message="the VIP's car comes first",
    )
    assert [row["vip"] for row in queue.rows] == [True, False, False]

    kiosk = demo_server.pair_device("kiosk", "Lobby kiosk")
    changes, _visit_id = walk_in(at=int(time.time() * 1000), node=kiosk.device_id)
    changes[0]["fields"]["phone"] = vip_phone
    changes[2]["fields"]["ticket_number"] = "K1-031"
    with SyncTransport(demo_server.url, kiosk.token) as transport:
        results = transport.push(changes)["results"]
    assert [result["status"] for result in results] == [201, 201, 201], results
    harness.wait_until(
        lambda: [row["ticket"] for row in queue.rows if row["vip"]] == ["A-003", "K1-031"],
        timeout=30,
        message="the VIP typed in anew at the kiosk is flagged",
    )
