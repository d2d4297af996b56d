"""A server restored from an older backup loses nothing (issue 10, item 16).

Real ``checkin-server`` processes (SQLite, and PostgreSQL with ``TEST_DATABASE_URL``):
two tablets and a kiosk sync; the shop takes a backup with ``checkin-server backup``;
the devices keep working and syncing; the server is restored from that (now older)
backup with ``checkin-server restore`` while one tablet keeps saving offline. Then
every record any device holds must be back on the server, each change applied once,
every photo byte-identical, and every tablet's feed complete.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from live_server import LiveServer, live_server_fixture  # noqa: F401
from sync_changes import fields_of
from sync_workload import (
    WORKLOAD_KINDS,
    blob_dir,
    column,
    device_records,
    fast_transport,
    file_sha256,
    save_workload,
    server_records,
    without_id,
)

from kiosk.services import feed_recovery
from kiosk.services.local_store import LocalStore
from kiosk.services.sync import ServerUnreachable, SyncEngine
from shared import domain


class Device:
    """A device with its own store and transport, as in the shop."""

    def __init__(self, server: LiveServer, root: Path, role: str) -> None:
        paired = server.pair_device(role, f"{role} {root.name}")
        self.role = role
        self.data_dir = root
        self.store = LocalStore(root, paired.device_id)
        self.transport = fast_transport(server.url, paired.token)
        self.engine = SyncEngine(self.store, self.transport)
        self.change_ids: list[str] = []

    def sync(self) -> Any:
        return self.engine.sync_once()

    def save_tablet_work(self, visits: int, photos: int, seed: int) -> None:
        self.change_ids += save_workload(self.store, visits, photos, seed=seed).change_ids

    def save_kiosk_checkins(self, visits: int, seed: int) -> None:
        for n in range(visits):
            customer = domain.Customer(name=f"Kiosk {seed}-{n}", phone="+8613912345601")
            vehicle = domain.Vehicle(customer_id=customer.id, plate=f"沪B{seed}{n:04d}")
            visit = domain.Visit(
                ticket_number=f"K1-{seed}{n:02d}",
                customer_id=customer.id,
                vehicle_id=vehicle.id,
                concern_text="Air conditioning not cooling",
            )
            for kind, record in (("customer", customer), ("vehicle", vehicle), ("visit", visit)):
                self.change_ids.append(
                    self.store.save(kind, record.id, fields_of(record)).change_id
                )

    def close(self) -> None:
        self.transport.close()
        self.store.close()


def as_written(values: dict[str, Any]) -> dict[str, Any]:
    """A record's fields (or clocks) as devices write them: the server makes each
    visit's status token itself (a kiosk, which pulls no feed, never sees it)."""
    return {name: value for name, value in without_id(values).items() if name != "status_token"}


def own_records(device: Device) -> dict[tuple[str, str], tuple[dict[str, Any], dict[str, Any]]]:
    return {key: value for key, value in device_records(device.data_dir).items()
            if key[0] in WORKLOAD_KINDS}  # fmt: skip


def test_restoring_an_older_backup_loses_nothing_devices_hold(
    live_server: LiveServer, tmp_path: Path
) -> None:
    tablet_a = Device(live_server, tmp_path / "tablet-a", "tablet")
    tablet_b = Device(live_server, tmp_path / "tablet-b", "tablet")
    kiosk = Device(live_server, tmp_path / "kiosk", "kiosk")
    devices = (tablet_a, tablet_b, kiosk)
    try:
        # Before the backup: all three sync some work, and the tablets see each other's.
        tablet_a.save_tablet_work(visits=6, photos=2, seed=1)
        tablet_b.save_tablet_work(visits=3, photos=1, seed=2)
        kiosk.save_kiosk_checkins(visits=2, seed=3)
        for device in (*devices, tablet_a):
            device.sync()

        backups = tmp_path / "backups"
        out = live_server.cli("backup", "--to", str(backups))
        (backup,) = backups.glob("backup-*")
        assert str(backup) in out
        manifest = json.loads((backup / "manifest.json").read_text())
        assert manifest["photos"] == 3
        for line in (backup / "photos.sha256").read_text().splitlines():
            sha, name = line.split()
            assert file_sha256(backup / name) == sha

        # After the backup: more work, synced and acknowledged (then lost by the restore).
        tablet_a.save_tablet_work(visits=6, photos=2, seed=4)
        tablet_b.save_tablet_work(visits=3, photos=1, seed=5)
        kiosk.save_kiosk_checkins(visits=2, seed=6)
        for device in devices:
            assert device.sync().pushed > 0
        assert feed_recovery.known_epoch(tablet_a.store) == manifest["feed_epoch"]

        # The shop restores last night's backup; tablet B keeps working meanwhile.
        live_server.stop()
        tablet_b.save_tablet_work(visits=2, photos=1, seed=7)
        with pytest.raises(ServerUnreachable):
            tablet_b.sync()
        restored = live_server.cli("restore", str(backup), "--yes")
        assert "new feed epoch" in restored
        live_server.start()
        assert len(column(live_server, "SELECT change_id FROM applied_changes")) < sum(
            len(device.change_ids) for device in devices
        )

        # The devices sync as usual: each offers what it holds, sends what is missing.
        kiosk.sync()
        tablet_b.sync()
        report = tablet_a.sync()
        assert report.resent_after_restore > 0
        tablet_b.sync()  # the feed again, with tablet A's records

        on_server = server_records(live_server)
        for device in devices:
            assert device.store.status().pending_changes == 0
            assert device.store.parked() == [] and device.store.status().parked_blobs == 0
            held = own_records(device)
            assert set(held) <= set(on_server), sorted(set(held) - set(on_server))[:5]
            for key, (fields, clocks) in held.items():
                assert as_written(on_server[key][0]) == as_written(fields), key
                assert as_written(on_server[key][1]) == as_written(clocks), key
        # Every tablet's feed is complete: it holds every record the server has.
        for tablet in (tablet_a, tablet_b):
            assert set(on_server) <= set(own_records(tablet)), tablet.data_dir.name
        # Each change applied once; every photo back and whole.
        applied = column(live_server, "SELECT change_id FROM applied_changes")
        assert len(applied) == len(set(applied))
        assert set(applied) == {cid for device in devices for cid in device.change_ids}
        photos = {fields["image"]["sha256"] for (kind, _), (fields, _) in on_server.items()
                  if kind == "photo"}  # fmt: skip
        assert len(photos) == 7
        assert set(column(live_server, "SELECT sha256 FROM blobs")) == photos
        for sha in photos:
            assert file_sha256(blob_dir(live_server) / "originals" / sha[:2] / sha) == sha
    finally:
        for device in devices:
            device.close()


def test_restore_refuses_what_is_not_a_backup(live_server: LiveServer, tmp_path: Path) -> None:
    (tmp_path / "not-a-backup").mkdir()
    live_server.stop()
    with pytest.raises(RuntimeError, match="is not a backup"):
        live_server.cli("restore", str(tmp_path / "not-a-backup"), "--yes")
