"""Syncing with a real ``checkin-server`` process: nothing a device saved is lost or doubled,
whatever the network or the server does."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from device_sync import jpeg_photo, new_id, quick_retry
from live_server import LiveServer, free_port, live_server_fixture  # noqa: F401
from PIL import Image
from sqlalchemy import text

from kiosk.services.local_store import LocalStore
from kiosk.services.sync import (
    DeviceUnpaired,
    ServerUnreachable,
    SyncEngine,
    SyncTransport,
)


def fast_transport(server: LiveServer, token: str) -> SyncTransport:
    """A transport that gives up quickly when the server is down (tests only)."""
    return SyncTransport(server.url, token, timeout=(1, 10), retry=quick_retry())


def save_checkins(store: LocalStore, visits: int, photos: int) -> dict[str, list[str]]:
    """Customers, vehicles and visits as the tablet saves them, plus marked photos."""
    ids: dict[str, list[str]] = {"visit": [], "damage_mark": [], "photo": []}
    for n in range(visits):
        customer_id, vehicle_id, visit_id = new_id(), new_id(), new_id()
        store.save("customer", customer_id, {"name": f"Customer {n}", "phone": "+8613812345678"})
        store.save("vehicle", vehicle_id, {"customer_id": customer_id, "plate": f"京A{n:05d}"})
        store.save(
            "visit",
            visit_id,
            {"ticket_number": f"A-{n:03d}", "customer_id": customer_id, "vehicle_id": vehicle_id,
             "concern_text": "Brake noise"},
        )  # fmt: skip
        ids["visit"].append(visit_id)
    walkaround_id = new_id()
    for n in range(photos):
        photo = store.put_blob(jpeg_photo(n), "image/jpeg")
        mark_id = new_id()
        store.save(
            "damage_mark",
            mark_id,
            {"walkaround_id": walkaround_id, "view": "left", "x": 0.3, "y": 0.5,
             "damage_type": "A", "severity": 2,
             "pins": [{"photo_sha256": photo.sha256, "x": 0.5, "y": 0.5}]},
            blob_refs=[photo.sha256],
        )  # fmt: skip
        ids["damage_mark"].append(mark_id)
        ids["photo"].append(photo.sha256)
    return ids


def count(server: LiveServer, sql: str, **params: Any) -> int:
    with server.db_engine().connect() as connection:
        return connection.execute(text(sql), params).scalar_one()


def test_checkins_and_photos_reach_the_server_once(live_server: LiveServer, tmp_path: Path) -> None:
    device = live_server.pair_device("tablet")
    with (
        LocalStore(tmp_path / "tablet", device.device_id) as store,
        fast_transport(live_server, device.token) as transport,
    ):
        ids = save_checkins(store, visits=20, photos=3)
        engine = SyncEngine(store, transport, batch_size=25)
        report = engine.sync_once()

        assert (report.pushed, report.parked) == (63, 0)
        assert report.blobs_uploaded == 3
        assert store.status().pending_changes == store.status().pending_blobs == 0
        assert count(live_server, "SELECT count(*) FROM visits") == 20
        assert count(live_server, "SELECT count(*) FROM applied_changes") == 63
        for sha in ids["photo"]:
            assert count(live_server, "SELECT count(*) FROM blobs WHERE sha256 = :s", s=sha) == 1
            stored = live_server.instance_path / "blobs" / "originals" / sha[:2] / sha
            assert stored.read_bytes() == store.blob_path(sha).read_bytes()
        # The tablet now holds the server's view of its own records (it pulled them).
        assert store.get("visit", ids["visit"][0])["ticket_number"] == "A-000"

        again = engine.sync_once()
        assert again.requests == 1  # nothing to push or upload: one pull, empty
        assert (again.pushed, again.pulled, again.blobs_uploaded) == (0, 0, 0)
    assert count(live_server, "SELECT count(*) FROM applied_changes") == 63


def test_a_server_killed_mid_sync_loses_and_doubles_nothing(
    live_server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    device = live_server.pair_device("tablet")
    with (
        LocalStore(tmp_path / "tablet", device.device_id) as store,
        fast_transport(live_server, device.token) as transport,
    ):
        save_checkins(store, visits=10, photos=2)
        real_push = transport.push

        def push_then_power_cut(changes: list[dict[str, Any]]) -> dict[str, Any]:
            real_push(changes)  # the server commits the first batch …
            live_server.kill()  # … and loses power before the answer leaves it
            raise ServerUnreachable("connection reset by peer")

        monkeypatch.setattr(transport, "push", push_then_power_cut)
        engine = SyncEngine(store, transport, batch_size=5)
        with pytest.raises(ServerUnreachable):
            engine.sync_once()
        assert store.status().pending_changes == 32
        assert store.status().pending_blobs == 2
        with pytest.raises(ServerUnreachable):
            engine.sync_once()  # still down

        monkeypatch.setattr(transport, "push", real_push)
        live_server.start()
        report = engine.sync_once()
        assert report.pushed == 32 and report.blobs_uploaded == 2
    assert count(live_server, "SELECT count(*) FROM applied_changes") == 32
    assert count(live_server, "SELECT count(*) FROM visits") == 10
    assert count(live_server, "SELECT count(*) FROM blobs") == 2


def test_refused_records_and_photos_are_parked_without_blocking(
    live_server: LiveServer, tmp_path: Path
) -> None:
    device = live_server.pair_device("tablet")
    with (
        LocalStore(tmp_path / "tablet", device.device_id) as store,
        fast_transport(live_server, device.token) as transport,
    ):
        orphan = store.save(
            "visit",
            new_id(),
            {"ticket_number": "A-999", "customer_id": new_id(), "vehicle_id": new_id()},
        )
        # A PNG that ends half-way: the server decodes it and refuses it.
        buffer = io.BytesIO()
        Image.effect_noise((200, 200), 64).save(buffer, "PNG")
        broken = store.put_blob(buffer.getvalue()[:1500], "image/png")
        store.save(
            "damage_mark",
            new_id(),
            {"walkaround_id": new_id(), "view": "top", "x": 0.1, "y": 0.1, "damage_type": "U",
             "pins": [{"photo_sha256": broken.sha256, "x": 0.5, "y": 0.5}]},
            blob_refs=[broken.sha256],
        )  # fmt: skip
        ids = save_checkins(store, visits=2, photos=1)

        report = SyncEngine(store, transport).sync_once()

        parked = {change.change_id: change.problem for change in store.parked()}
        assert orphan.change_id in parked
        assert parked[orphan.change_id]["status"] == 422
        assert report.blobs_uploaded == 1 and report.blobs_parked == 1
        (refused_photo,) = store.parked_blobs()
        assert refused_photo.sha256 == broken.sha256 and refused_photo.problem["status"] == 422
    assert count(live_server, "SELECT count(*) FROM visits") == 2
    assert (
        count(live_server, "SELECT count(*) FROM blobs WHERE sha256 = :s", s=ids["photo"][0]) == 1
    )


def test_a_revoked_tablet_is_told_to_pair_again(live_server: LiveServer, tmp_path: Path) -> None:
    device = live_server.pair_device("tablet")
    with (
        LocalStore(tmp_path / "tablet", device.device_id) as store,
        fast_transport(live_server, device.token) as transport,
    ):
        save_checkins(store, visits=1, photos=0)
        live_server.revoke(device.device_id)
        with pytest.raises(DeviceUnpaired):
            SyncEngine(store, transport).sync_once()
        assert store.status().pending_changes == 3
        assert store.sync_history().last_error == "device_not_paired"


def test_a_kiosk_pushes_its_checkin_and_gets_todays_appointments_masked(
    live_server: LiveServer, tmp_path: Path
) -> None:
    live_server.cli("demo")
    device = live_server.pair_device("kiosk")
    with (
        LocalStore(tmp_path / "kiosk", device.device_id) as store,
        fast_transport(live_server, device.token) as transport,
    ):
        save_checkins(store, visits=1, photos=0)
        report = SyncEngine(store, transport).sync_once()
        assert report.pushed == 3 and report.parked == 0
        appointments = store.find("appointment")
        assert appointments, "the demo shop has appointments today"
        for appointment in appointments:
            assert appointment["lookup_salt"] and appointment["plate_hash"]
            assert "plate" not in appointment and "phone" not in appointment
            assert "plate_masked" not in appointment and "phone_masked" not in appointment
