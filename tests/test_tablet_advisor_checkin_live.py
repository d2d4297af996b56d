"""The advisor's check-in at the car reaches a real server: the visit (with its
appointment, mileage, concern and advisor), the consent with its text version and hash,
and the customer's signature with its image — the same records the lobby kiosk sends.

``checkin-server serve`` runs as a subprocess with the demo shop (today's appointments
are in it); the tablet pairs, pulls, and Li Na checks in an arrival by touch.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from live_server import LiveServer, live_server_fixture  # noqa: F401
from sqlalchemy import select
from sqlalchemy.orm import Session
from tablet_fixtures import ADVISOR, SIGNATURE_WAVE, pair_tablet

from kiosk.ui.headless import HeadlessApp
from shared.consent import CONSENT_VERSION, consent_sha256
from sync_server.demo import demo_id
from sync_server.record_tables import ConsentRow, SignatureRow
from sync_server.sync.tables import Blob
from sync_server.visit_tables import Visit

pytestmark = pytest.mark.ui


def test_an_arrival_checked_in_at_the_car_arrives_on_the_server(
    live_server: LiveServer, kiosk_app: Callable[..., HeadlessApp], tmp_path: Path
) -> None:
    live_server.cli("demo")
    devices = pair_tablet(live_server, tmp_path / "tablet")
    harness = kiosk_app(devices, sync_interval=0.5, idle_timeout=3600)
    app = harness.app
    appointment_id = demo_id("appointment", "emily-carter")
    harness.wait_until(
        lambda: app.local_store.get("appointment", appointment_id) is not None,
        timeout=30,
        message="today's appointments pulled",
    )
    app.advisor = ADVISOR
    app.advisor_name = ADVISOR.display_name
    app.show_queue()
    queue = app.queue_screen
    harness.wait_until(lambda: queue.loaded, message="queue")
    harness.tap(queue.ids.check_in)
    arrivals = app.advisor_checkin.arrivals_screen
    harness.wait_until(lambda: arrivals.loaded and arrivals.rows, message="arrivals")
    harness.pump(2)
    row = next(
        w for w in arrivals.ids.list.layout_manager.children if w.appointment_id == appointment_id
    )
    harness.tap(row)
    car = app.advisor_checkin.car_screen
    car.ids.mileage.text = "86420"
    harness.tap(car.ids.next)
    sign = app.advisor_checkin.sign_screen
    assert harness.screen == "advisor_sign"
    harness.drag(sign.ids.pad, SIGNATURE_WAVE)
    harness.tap(sign.ids.agree)
    harness.wait_until(lambda: harness.screen == "walkaround_damage", message="walk-around")

    def everything_sent() -> bool:
        status = app.local_store.status()
        return status.pending_changes == 0 and status.pending_blobs == 0

    harness.wait_until(everything_sent, timeout=60, message="sent to the server")
    # No more sync rounds: the queue's last redraw is laid out while the app still runs.
    app.link.stop_background_sync()
    harness.pump(5)
    with Session(live_server.db_engine()) as session:
        visit = session.scalars(select(Visit).where(Visit.appointment_id == appointment_id)).one()
        assert visit.mileage_in_km == 86420 and visit.advisor_user_id == ADVISOR.user_id
        assert visit.concern_text == "Brake noise when stopping"
        assert visit.customer_id == demo_id("customer", "emily-carter")
        consent = session.scalars(select(ConsentRow).where(ConsentRow.visit_id == visit.id)).one()
        assert consent.text_version == CONSENT_VERSION
        assert consent.text_sha256 == consent_sha256(consent.language)
        signature = session.scalars(
            select(SignatureRow).where(SignatureRow.visit_id == visit.id)
        ).one()
        assert signature.purpose == "consent" and signature.strokes
        assert session.get(Blob, signature.image_sha256) is not None
