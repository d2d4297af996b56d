"""The sync promise under faults: nothing a customer or an advisor entered is lost or doubled.

Every test here runs the real client code (``LocalStore``, ``SyncEngine``,
``SyncTransport``) against a real ``checkin-server`` process on loopback (the
``live_server`` fixture: SQLite, and PostgreSQL too when ``TEST_DATABASE_URL`` is set).
The end state is always checked the same way (``sync_workload``): the server holds
exactly the device's records, each saved change applied once, every photo stored
byte-identical by SHA-256 and none referred to but missing.

- the client, as an OS process of its own, is SIGKILLed at random moments while it
  syncs (``SYNC_KILLS`` kills, 20 by default; ``SYNC_KILLS=200`` for a long run);
- a fault-injecting TCP proxy cuts requests, resets connections, drops answers the
  server has committed, and delays;
- the server is SIGKILLed during ingest: everything it acknowledged is still there.

Two tablets editing one visit are in ``test_sync_two_tablets.py``, random interleavings
of edits, syncs and crashes in ``test_sync_interleavings.py``, bad input in
``test_sync_bad_input.py``.

Environment: ``SYNC_KILLS`` (client kills, default 20; the workload grows with it).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fault_proxy import Fault, FaultProxy
from live_server import LiveServer, live_server_fixture  # noqa: F401
from sync_workload import (
    assert_device_drained,
    assert_server_matches,
    blob_dir,
    column,
    fast_transport,
    file_sha256,
    save_workload,
    scalar,
    short_retry,
)

from kiosk.services.local_store import LocalStore
from kiosk.services.sync import (
    PARALLEL_UPLOADS,
    SyncEngine,
    SyncError,
    SyncTransport,
)
from sync_server.sync.blob_folder import FolderBlobStore

CLIENT_SCRIPT = Path(__file__).with_name("sync_client.py")
SYNC_KILLS = int(os.environ.get("SYNC_KILLS", "20"))
# Enough work that every kill lands mid-sync: a kill comes at the latest once the server
# has taken a fair share of what is left, and there must be shares for all of them. The
# photos the killed client had fully sent (up to PARALLEL_UPLOADS) are still stored after
# the kill, so each kill takes a few more.
VISITS = max(100, SYNC_KILLS // 2)
PHOTOS = max(300, (5 + PARALLEL_UPLOADS) * SYNC_KILLS)


def progress(server: LiveServer) -> int:
    """How far the server has got: changes applied plus photos stored."""
    changes = scalar(server, "SELECT count(*) FROM applied_changes")
    return changes + scalar(server, "SELECT count(*) FROM blobs")


def sync_until_drained(engine: SyncEngine, rounds: int = 400) -> int:
    """Run rounds until the outbox and the photo queue are empty; returns failed rounds."""
    failures = 0
    for _ in range(rounds):
        try:
            engine.sync_once()
        except SyncError:
            failures += 1
            continue
        counts = engine.store.status()
        if counts.pending_changes == counts.pending_blobs == 0:
            return failures
    raise AssertionError(f"still not synced after {rounds} rounds: {engine.store.status()}")


# --- 1. the client killed at random moments ---------------------------------------------


@dataclass
class KillLog:
    during_sync: int = 0
    during_start: int = 0
    by_progress: int = 0
    by_timer: int = 0
    runs: int = 0


# The long mode (SYNC_KILLS=200) needs more than pytest's default 300 s.
@pytest.mark.timeout(max(300, 3 * SYNC_KILLS))
def test_client_killed_at_random_moments_loses_and_doubles_nothing(
    live_server: LiveServer, tmp_path: Path
) -> None:
    rng = random.Random(20261122)
    device = live_server.pair_device("tablet")
    data_dir = tmp_path / "tablet"
    with LocalStore(data_dir, device.device_id) as store:
        work = save_workload(store, VISITS, PHOTOS, device=device.device_id)
    assert len(work.photo_shas) >= 300 and len(work.visit_ids) >= 100

    command = [sys.executable, str(CLIENT_SCRIPT), str(data_dir)]
    command += [device.device_id, live_server.url, device.token]
    client_log = (tmp_path / "client.log").open("ab")
    # Progress: changes applied plus photos stored on the server.
    total = len(work.change_ids) + len(work.photo_shas)
    kills = KillLog()
    try:
        while kills.during_sync < SYNC_KILLS:
            kills.runs += 1
            client = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=client_log, text=True, cwd=tmp_path
            )
            try:
                if rng.random() < 0.1:
                    # Now and then during start-up: opening the store, recovering its WAL.
                    time.sleep(rng.uniform(0.0, 0.2))
                    client.send_signal(signal.SIGKILL)
                    kills.during_start += 1
                    continue
                assert client.stdout is not None
                assert client.stdout.readline().strip() == "ready", client_log.name
                # Every other time, kill after a random while (50-400 ms), else once the
                # server has taken k more changes or photos; and in any case before the
                # server has taken a fair share of what is left (half of one when
                # counting: a push brings 50 changes at once, several photos may be in
                # flight and are stored even after the kill), so every kill lands while
                # there is still work to do.
                kills_left = SYNC_KILLS - kills.during_sync
                done_so_far = progress(live_server)
                left = total - done_so_far - PARALLEL_UPLOADS * kills_left
                fair_share = max(1, left // (kills_left + 1))
                if rng.random() < 0.5:
                    wait_s, target = rng.uniform(0.05, 0.4), done_so_far + fair_share
                else:
                    wait_s = 3.0
                    target = done_so_far + rng.randint(1, max(1, fair_share // 2))
                deadline = time.monotonic() + wait_s
                while client.poll() is None:
                    if time.monotonic() >= deadline:
                        kills.by_timer += 1
                        break
                    if progress(live_server) >= target:
                        kills.by_progress += 1
                        break
                    time.sleep(0.01)
                assert client.poll() is None, (
                    f"the client finished before kill {kills.during_sync + 1} of {SYNC_KILLS}"
                )
                client.send_signal(signal.SIGKILL)
                kills.during_sync += 1
            finally:
                client.wait()
                assert client.stdout is not None
                client.stdout.close()

        # Restarted once more and left alone, it finishes.
        finished = subprocess.run(
            command, stdout=subprocess.PIPE, stderr=client_log, text=True, timeout=180
        )
    finally:
        client_log.close()
    assert finished.returncode == 0 and "done" in finished.stdout, finished.stdout

    print(f"client kills: {kills}")
    assert kills.during_sync >= SYNC_KILLS
    with LocalStore(data_dir, device.device_id) as store:
        assert_device_drained(store)
    assert_server_matches(live_server, data_dir, work)


# --- 2. a network that cuts, resets, drops and delays -----------------------------------


FAULT_KINDS = ("cut_request", "reset", "drop_response", "delay")


def test_faulty_network_loses_and_doubles_nothing(live_server: LiveServer, tmp_path: Path) -> None:
    device = live_server.pair_device("tablet")
    data_dir = tmp_path / "tablet"
    # Every kind of fault surely happens (the plan), then at random, seeded.
    plan = [
        Fault("drop_response"),  # the first push: committed, its answer lost
        Fault("cut_request", after_bytes=120),  # inside the request line and headers
        Fault("reset"),
        Fault("delay", seconds=0.2),
        Fault("cut_request", after_bytes=2500),  # inside a body
        Fault("drop_response"),
    ]
    proxy = FaultProxy(live_server.port, plan, fault_rate=0.35, seed=1122)
    try:
        with (
            LocalStore(data_dir, device.device_id) as store,
            fast_transport(proxy.url, device.token, fresh_connections=True) as transport,
        ):
            work = save_workload(store, 30, 60, device=device.device_id)
            failed_rounds = sync_until_drained(SyncEngine(store, transport, batch_size=20))
            assert_device_drained(store)
    finally:
        proxy.close()
    print(f"proxy: {proxy.counts}, failed rounds: {failed_rounds}")
    for kind in FAULT_KINDS:
        assert proxy.counts.faults.get(kind, 0) >= 1, (kind, proxy.counts)
    assert failed_rounds >= 1
    assert_server_matches(live_server, data_dir, work)


# --- 3. the server killed during ingest ---------------------------------------------------


class RecordingTransport(SyncTransport):
    """Remembers every change the server acknowledged (201) and every photo it stored."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lock = threading.Lock()
        self.acknowledged: set[str] = set()
        self.photos_stored: set[str] = set()

    def push(self, changes: Any, epoch: str = "") -> dict[str, Any]:
        answer = super().push(changes, epoch)
        with self.lock:
            self.acknowledged.update(
                result["change_id"] for result in answer["results"] if result.get("status") == 201
            )
        return answer

    def upload_blob(self, sha256: str, path: Path, content_type: str) -> int:
        status = super().upload_blob(sha256, path, content_type)
        with self.lock:
            self.photos_stored.add(sha256)
        return status


def test_server_killed_during_ingest_keeps_everything_it_acknowledged(
    live_server: LiveServer, tmp_path: Path
) -> None:
    device = live_server.pair_device("tablet")
    data_dir = tmp_path / "tablet"
    store = LocalStore(data_dir, device.device_id)
    transport = RecordingTransport(
        live_server.url, device.token, timeout=(1, 10), retry=short_retry()
    )
    work = save_workload(store, 40, 80, device=device.device_id)
    engine = SyncEngine(store, transport, batch_size=10)
    finished = threading.Event()
    errors: list[BaseException] = []

    def device_loop() -> None:
        try:
            while not finished.is_set():
                try:
                    engine.sync_once()
                except SyncError:
                    time.sleep(0.05)
                    continue
                counts = store.status()
                if counts.pending_changes == counts.pending_blobs == 0:
                    finished.set()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
            finished.set()

    # Kill points: early and late in the pushes, then in the photo uploads.
    total_changes = len(work.change_ids)
    kill_points: list[Callable[[], bool]] = [
        lambda: scalar(live_server, "SELECT count(*) FROM applied_changes") >= 30,
        lambda: scalar(live_server, "SELECT count(*) FROM applied_changes") >= total_changes // 2,
        lambda: scalar(live_server, "SELECT count(*) FROM blobs") >= 10,
        lambda: scalar(live_server, "SELECT count(*) FROM blobs") >= 50,
    ]
    thread = threading.Thread(target=device_loop, name="tablet-sync", daemon=True)
    thread.start()
    checked: list[tuple[int, int]] = []
    try:
        for number, reached in enumerate(kill_points, 1):
            deadline = time.monotonic() + 60
            while not reached() and not finished.is_set():
                assert time.monotonic() < deadline, (
                    f"no progress towards kill {number}: {store.status()}, {store.sync_history()}"
                )
                time.sleep(0.005)
            live_server.kill()
            with transport.lock:
                acknowledged = set(transport.acknowledged)
                photos = set(transport.photos_stored)
            # Still down: everything it said "201" to is in its database, every photo it
            # took is whole on its disk.
            applied = set(column(live_server, "SELECT change_id FROM applied_changes"))
            assert acknowledged <= applied, f"lost: {sorted(acknowledged - applied)[:5]}"
            stored = set(column(live_server, "SELECT sha256 FROM blobs"))
            assert photos <= stored
            originals = blob_dir(live_server) / "originals"
            for sha in photos:
                assert file_sha256(originals / sha[:2] / sha) == sha
            checked.append((len(acknowledged), len(photos)))
            time.sleep(0.3)  # the device's requests fail meanwhile
            live_server.start()
        assert finished.wait(120), "the device did not finish after the server came back"
    finally:
        finished.set()
        thread.join(30)
        store_status = store.status()
        transport.close()
        store.close()
    assert not errors, errors
    print(f"server kills: {len(checked)}; acknowledged before each kill: {checked}")
    assert len(checked) == len(kill_points)
    # Each kill came while the server was taking changes or photos it had acknowledged.
    assert checked[0][0] > 0 and checked[2][1] > 0 and checked[-1][1] > checked[2][1]
    assert store_status.pending_changes == store_status.pending_blobs == 0
    # A kill during an upload leaves its temp file behind (referred to by nothing); the
    # server clears such leftovers when it starts, once they are surely stale.
    leftovers = list((blob_dir(live_server) / "incoming").iterdir())
    print(f"temp files left by the kills: {len(leftovers)}")
    an_hour_ago = time.time() - 3700
    for path in leftovers:
        os.utime(path, (an_hour_ago, an_hour_ago))
    live_server.restart()
    assert_server_matches(live_server, data_dir, work)


def test_the_server_clears_what_killed_uploads_left_behind_once_stale(tmp_path: Path) -> None:
    store = FolderBlobStore(tmp_path / "blobs")
    stale = store.incoming / "tmpkilled.part"
    fresh = store.incoming / "tmpuploading.part"  # perhaps another worker's upload
    thumbnail = tmp_path / "blobs" / "thumbnails" / "ab" / "tmpthumb.part"
    thumbnail.parent.mkdir(parents=True)
    for path in (stale, fresh, thumbnail):
        path.write_bytes(b"\xff\xd8\xff half a photo")
    two_hours_ago = time.time() - 7200
    for path in (stale, thumbnail):
        os.utime(path, (two_hours_ago, two_hours_ago))

    assert FolderBlobStore(tmp_path / "blobs").remove_stale_temp_files() == 0  # done at start
    assert not stale.exists() and not thumbnail.exists()
    assert fresh.exists()
