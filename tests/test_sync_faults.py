"""The sync promise under faults: nothing a customer or an advisor entered is lost or doubled.

Every test here runs the real client code (``LocalStore``, ``SyncEngine``,
``SyncTransport``) against a real ``checkin-server`` process on loopback (the
``live_server`` fixture: SQLite, and PostgreSQL too when ``TEST_DATABASE_URL`` is set),
except the Hypothesis state machine, which talks to the Flask app in-process to stay
fast. The end state is always checked the same way (``sync_workload``): the server holds
exactly the device's records, each saved change applied once, every photo stored
byte-identical by SHA-256 and none referred to but missing.

- the client, as an OS process of its own, is SIGKILLed at random moments while it
  syncs (``SYNC_KILLS`` kills, 20 by default; ``SYNC_KILLS=200`` for a long run);
- a fault-injecting TCP proxy cuts requests, resets connections, drops answers the
  server has committed, and delays;
- the server is SIGKILLed during ingest: everything it acknowledged is still there;
- two tablets edit one visit offline and sync in both orders: the same final state and
  the same conflict history; a Hypothesis state machine does the same for random
  interleavings of edits, syncs and crashes on three tablets;
- bad input gets a clear 4xx problem document, stores nothing, does not blow the
  server's memory, and the server keeps serving.

Environment: ``SYNC_KILLS`` (client kills, default 20; the workload grows with it),
``SYNC_EXAMPLES`` (Hypothesis examples, default 50), ``SYNC_NO_SHRINK=1`` (report a
failing example as found, without shrinking it: for long bug-hunting runs).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from fault_proxy import Fault, FaultProxy
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from live_server import LiveServer, live_server_fixture  # noqa: F401
from PIL import Image
from server_fixtures import Shop, bearer
from sync_workload import (
    assert_device_drained,
    assert_server_matches,
    blob_dir,
    column,
    fast_transport,
    fields_of,
    file_sha256,
    jpeg_photo,
    new_id,
    save_workload,
    scalar,
    short_retry,
)

from kiosk.services.local_store import LocalStore
from kiosk.services.sync import (
    API_PREFIX,
    PARALLEL_UPLOADS,
    DeviceUnpaired,
    RequestRefused,
    ServerUnreachable,
    SyncEngine,
    SyncError,
    SyncTransport,
    UnexpectedResponse,
)
from shared import domain
from sync_server import db
from sync_server.shop_tables import Device
from sync_server.sync.blob_folder import FolderBlobStore
from sync_server.sync.records import lock_feed, update_server_record
from sync_server.sync.tables import SyncCounter, SyncRecord

CLIENT_SCRIPT = Path(__file__).with_name("sync_client.py")
SYNC_KILLS = int(os.environ.get("SYNC_KILLS", "20"))
# Enough work that every kill lands mid-sync: a kill comes at the latest once the server
# has taken a fair share of what is left, and there must be shares for all of them. The
# photos the killed client had fully sent (up to PARALLEL_UPLOADS) are still stored after
# the kill, so each kill takes a few more.
VISITS = max(100, SYNC_KILLS // 2)
PHOTOS = max(300, (5 + PARALLEL_UPLOADS) * SYNC_KILLS)


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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


# --- 4. two tablets edit one visit offline ------------------------------------------------


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


# --- 5. bad input ---------------------------------------------------------------------------


def png_bomb(width: int = 20_000, height: int = 20_000) -> bytes:
    """A valid PNG of ``width`` × ``height`` black pixels (1 bit each): tiny on the wire."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes((width + 7) // 8)  # filter byte, then the row's pixels
    compressor = zlib.compressobj(9)
    pixels = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def assert_problem(response: requests.Response, *statuses: int) -> dict[str, Any]:
    """A 4xx problem document (RFC 9457) with a title, and one of the expected statuses."""
    with response:
        assert response.status_code in statuses, (response.status_code, response.text[:300])
        status = response.status_code
        assert response.headers["Content-Type"].startswith("application/problem+json")
        problem = response.json()
    assert problem["status"] == status and problem["title"] and problem["type"]
    return problem


def test_bad_input_gets_a_clear_refusal_and_stores_nothing(
    live_server: LiveServer, tmp_path: Path
) -> None:
    token = live_server.pair("tablet")
    headers = {**bearer(token), "Accept": "application/json, application/problem+json"}
    api = live_server.url + API_PREFIX
    session = requests.Session()
    session.headers.update(headers)

    def push_raw(body: bytes, content_type: str = "application/json") -> requests.Response:
        return session.post(
            f"{api}/sync/push", data=body, headers={"Content-Type": content_type}, timeout=30
        )

    def put_photo(sha: str, data: bytes, content_type: str = "image/jpeg") -> requests.Response:
        return session.put(
            f"{api}/blobs/{sha}", data=data, headers={"Content-Type": content_type}, timeout=60
        )

    customer = domain.Customer(name="Li Lei", phone="+8613812345678")
    good_change = {
        "change_id": new_id(),
        "kind": "customer",
        "id": customer.id,
        "hlc": "0001790000000000-0000-tablet",
        "fields": fields_of(customer),
    }
    try:
        # Malformed JSON, a body that is not an object, the wrong media type.
        assert_problem(push_raw(b'{"schema": 1, "changes": [{'), 400)
        assert_problem(push_raw(b"[1, 2, 3]"), 400)
        assert_problem(push_raw(b"schema=1", "application/x-www-form-urlencoded"), 415)
        # Wrong types for the envelope; an unknown schema version.
        for body in ({"schema": "1", "changes": []}, {"schema": 1, "changes": {"a": 1}}):
            assert_problem(push_raw(json.dumps(body).encode()), 400)
        problem = assert_problem(
            push_raw(json.dumps({"schema": 99, "changes": [good_change]}).encode()), 400
        )
        assert problem["type"].endswith("schema-unsupported")
        # Wrong types inside changes: each refused on its own with a problem, none kept.
        wrong = [
            {**good_change, "change_id": 5},
            {**good_change, "change_id": new_id(), "fields": "name=Li"},
            {**good_change, "change_id": new_id(), "hlc": 17},
            {**good_change, "change_id": new_id(), "fields": {**good_change["fields"], "name": 7}},
            {**good_change, "change_id": new_id(), "kind": "invoice"},
        ]
        with push_raw(json.dumps({"schema": 1, "changes": wrong}).encode()) as response:
            assert response.status_code == 200
            results = response.json()["results"]
        assert [result["status"] for result in results] == [422] * len(wrong)
        assert all(result["problem"]["title"] for result in results)
        # More than the 2 MiB a push may carry.
        padding = "x" * (3 * 1024 * 1024)
        oversized = {"schema": 1, "changes": [{**good_change, "fields": {"notes": padding}}]}
        assert_problem(push_raw(json.dumps(oversized).encode()), 413)

        # Photos: a wrong hash, a truncated JPEG, a non-image, a type that is not taken,
        # one above the upload limit.
        photo = jpeg_photo(7)
        other_sha = sha256_of(jpeg_photo(8))
        assert_problem(put_photo(other_sha, photo), 422)
        truncated = photo[: len(photo) // 2]
        assert_problem(put_photo(sha256_of(truncated), truncated), 422)
        text_file = b"this is not a photo, just a note\n" * 100
        assert_problem(put_photo(sha256_of(text_file), text_file), 415, 422)
        assert_problem(put_photo(sha256_of(text_file), text_file, "text/plain"), 415)
        png_as_jpeg = io.BytesIO()
        Image.new("RGB", (40, 30), "red").save(png_as_jpeg, "PNG")
        assert_problem(put_photo(sha256_of(png_as_jpeg.getvalue()), png_as_jpeg.getvalue()), 415)
        huge = b"\xff\xd8\xff" + bytes(26 * 1024 * 1024)
        assert_problem(put_photo(sha256_of(huge), huge), 413)

        # A pixel bomb: 400 megapixels in a ~50 kB PNG. Refused from its header, without
        # the server's memory growing by what decoding it would take (~400 MB and more).
        bomb = png_bomb()
        assert len(bomb) < 1_000_000
        pid = live_server.pid
        assert pid is not None
        before = rss_kib(pid)
        problem = assert_problem(put_photo(sha256_of(bomb), bomb, "image/png"), 422)
        assert problem["type"].endswith("image-too-many-pixels")
        grown_mib = (rss_kib(pid) - before) / 1024
        print(f"server RSS grew by {grown_mib:.1f} MiB for the pixel bomb")
        assert grown_mib < 150

        # Nothing of all that was kept, anywhere.
        for table in ("applied_changes", "sync_records", "blobs", "field_conflicts"):
            assert scalar(live_server, f"SELECT count(*) FROM {table}") == 0, table
        files = [path for path in blob_dir(live_server).rglob("*") if path.is_file()]
        assert files == []

        # And it keeps serving: healthy, and the good change goes through.
        with session.get(f"{api}/health", timeout=10) as health:
            assert health.status_code == 200
        with push_raw(json.dumps({"schema": 1, "changes": [good_change]}).encode()) as response:
            assert response.status_code == 200
            assert response.json()["results"][0]["status"] == 201
        assert_problem(put_photo(other_sha, photo), 422)  # still refused after all that
        assert pid == live_server.pid and live_server.running
    finally:
        session.close()


# --- 4b. random interleavings of edits, syncs and crashes (Hypothesis) ---------------------


class FlaskTransport:
    """:class:`SyncTransport`'s interface over the Flask test client (no sockets: fast).

    ``lose_answers_after`` makes every call after that many lose its answer *after* the
    server handled it, as when the device crashes or the Wi-Fi drops at that moment.
    """

    def __init__(self, client: FlaskClient, token: str) -> None:
        self.client = client
        self.headers = bearer(token)
        self.request_count = 0
        self.lose_answers_after: int | None = None

    def _send(self, method: str, path: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        self.request_count += 1
        headers = self.headers | (kwargs.pop("headers", None) or {})
        response = self.client.open(API_PREFIX + path, method=method, headers=headers, **kwargs)
        if self.lose_answers_after is not None:
            self.lose_answers_after -= 1
            if self.lose_answers_after < 0:
                raise ServerUnreachable(f"{method} {path}: the answer was lost")
        status, body = response.status_code, response.get_json(silent=True)
        if status == 401:
            raise DeviceUnpaired(body or {})
        if 400 <= status < 500:
            raise RequestRefused(status, body or {"status": status})
        if status >= 300:
            raise ServerUnreachable(f"{method} {path}: HTTP {status}", status)
        if not isinstance(body, dict):
            raise UnexpectedResponse(f"{method} {path}: not a JSON object")
        return status, body

    def push(self, changes: Any, epoch: str = "") -> dict[str, Any]:
        body = {"schema": 1, "changes": list(changes)}
        headers = {"X-Feed-Epoch": epoch} if epoch else None
        return self._send("POST", "/sync/push", json=body, headers=headers)[1]

    def missing_blobs(self, shas: Any) -> list[str]:
        return self._send("POST", "/blobs/missing", json={"sha256": list(shas)})[1]["missing"]

    def upload_blob(self, sha256: str, path: Path, content_type: str) -> int:
        data = path.read_bytes()
        return self._send("PUT", f"/blobs/{sha256}", data=data, content_type=content_type)[0]

    def pull(self, since: int, limit: int = 500) -> dict[str, Any]:
        return self._send("GET", f"/sync/changes?since={since}&limit={limit}")[1]


# Fields of a visit any tablet may edit, with the values the machine draws for them.
EDITABLE_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "concern_text": st.sampled_from(["Brake noise", "Squeal", "Grinding", "Pulls left", "日"]),
    "mileage_in_km": st.integers(min_value=1, max_value=300_000),
    "reminders_opt_in": st.booleans(),
    "contact_channel": st.sampled_from(["sms", "phone", "email"]),
}
DEVICES = 3
DESK = -1  # edits made on the server, at the service desk
VISITS_PER_EXAMPLE = 2


@dataclass(frozen=True)
class Edit:
    device: int
    visit_id: str
    field: str
    value: Any
    hlc: str
    base: str | None


class TabletsMachine(RuleBasedStateMachine):
    """Three tablets edit the same visits offline, sync, and crash, in any order, while
    the service desk edits them on the server."""

    app: Flask
    client: FlaskClient
    tokens: list[str]
    uids: list[str]
    feed_position: Callable[[], int]

    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="tablets-"))
        self.stores: list[LocalStore] = []
        self.transports = [FlaskTransport(self.client, token) for token in self.tokens]
        # New tablets that have already pulled everything earlier examples left on the
        # server: each example then costs the same, however many ran before it.
        position = self.feed_position()
        for device in range(DEVICES):
            self.stores.append(self._open(device))
            self.stores[-1].apply_pulled([], position)
        self.visit_ids: list[str] = []
        self.notes: set[str] = set()
        self.last_edit: dict[tuple[int, str, str], Edit] = {}
        self.all_edits: list[Edit] = []

    def _open(self, device: int) -> LocalStore:
        return LocalStore(self.root / f"tablet-{device}", self.uids[device])

    def _engine(self, device: int) -> SyncEngine:
        return SyncEngine(self.stores[device], self.transports[device], batch_size=5)  # type: ignore[arg-type]

    @initialize()
    def check_in(self) -> None:
        """Tablet 0 checks in the visits; every tablet syncs, so all start knowing them."""
        store = self.stores[0]
        for n in range(VISITS_PER_EXAMPLE):
            customer = domain.Customer(name=f"Customer {n}", phone="+8613812345678")
            vehicle = domain.Vehicle(customer_id=customer.id, plate=f"粤B{n:05d}")
            visit = domain.Visit(
                ticket_number=f"H-{n:03d}", customer_id=customer.id, vehicle_id=vehicle.id
            )
            for kind, record in (("customer", customer), ("vehicle", vehicle), ("visit", visit)):
                saved = store.save(kind, record.id, fields_of(record))
            for name in EDITABLE_FIELDS:
                value = saved.fields[name]
                self.all_edits.append(Edit(0, visit.id, name, value, saved.hlc, None))
            self.visit_ids.append(visit.id)
        for device in range(DEVICES):
            self._engine(device).sync_once()

    @rule(
        device=st.integers(0, DEVICES - 1),
        visit=st.integers(0, VISITS_PER_EXAMPLE - 1),
        data=st.data(),
    )
    def edit(self, device: int, visit: int, data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(sorted(EDITABLE_FIELDS)), label="field")
        value = data.draw(EDITABLE_FIELDS[name], label="value")
        visit_id = self.visit_ids[visit]
        base = self.stores[device].clocks("visit", visit_id).get(name)
        change = self.stores[device].save("visit", visit_id, {name: value})
        made = Edit(device, visit_id, name, value, change.hlc, base)
        self.last_edit[(device, visit_id, name)] = made
        self.all_edits.append(made)

    @rule(visit=st.integers(0, VISITS_PER_EXAMPLE - 1), data=st.data())
    def desk_edit(self, visit: int, data: st.DataObject) -> None:
        """The advisor at the service desk edits the visit on the server itself."""
        name = data.draw(st.sampled_from(sorted(EDITABLE_FIELDS)), label="field")
        value = data.draw(EDITABLE_FIELDS[name], label="value")
        visit_id = self.visit_ids[visit]
        with self.app.app_context():
            session = db.session()
            lock_feed(session)
            before = session.get(SyncRecord, ("visit", visit_id))
            base = before.clocks.get(name) if before else None
            update_server_record(session, "visit", visit_id, {name: value})
            session.commit()
            hlc = session.get(SyncRecord, ("visit", visit_id)).clocks[name]
        made = Edit(DESK, visit_id, name, value, hlc, base)
        self.last_edit[(DESK, visit_id, name)] = made
        self.all_edits.append(made)

    @rule(device=st.integers(0, DEVICES - 1), visit=st.integers(0, VISITS_PER_EXAMPLE - 1))
    def add_note(self, device: int, visit: int) -> None:
        note = domain.VisitNote(visit_id=self.visit_ids[visit], text=f"note by {device}")
        self.stores[device].save("note", note.id, fields_of(note))
        self.notes.add(note.id)

    @rule(device=st.integers(0, DEVICES - 1))
    def sync(self, device: int) -> None:
        self._engine(device).sync_once()

    @rule(device=st.integers(0, DEVICES - 1), answers=st.integers(0, 3))
    def crash_while_syncing(self, device: int, answers: int) -> None:
        """The server handles the requests, but after ``answers`` of them the device dies."""
        transport = self.transports[device]
        transport.lose_answers_after = answers
        try:
            self._engine(device).sync_once()
        except SyncError:
            pass
        finally:
            transport.lose_answers_after = None
        self.restart(device)

    @rule(device=st.integers(0, DEVICES - 1))
    def restart(self, device: int) -> None:
        """The app is killed between two operations and starts again on the same data."""
        self.stores[device].close()
        self.stores[device] = self._open(device)

    @invariant()
    def nothing_waits_forever_parked(self) -> None:
        for store in self.stores:
            assert store.status().parked == 0, store.parked()

    def teardown(self) -> None:
        try:
            if self.visit_ids:
                self.everyone_agrees()
        finally:
            for store in self.stores:
                store.close()
            shutil.rmtree(self.root, ignore_errors=True)

    def assert_no_edit_lost(self, visit_id: str, record: dict[str, Any]) -> None:
        """Each tablet's last edit of a field is the value now, or kept in the history.

        An edit is accounted for when its value is the field's value now; when the
        history has it (its clock among the losers); when a tablet replaced it knowing it
        (that edit's base is its clock: an update, not a loss); or when a newer edit with
        the same value is accounted for (a change arriving after a newer one with the
        very value the field holds is no loss, so it leaves no entry of its own).
        """
        now = record["fields"]
        lost = {
            (c["field"], c["losing_hlc"], json.dumps(c["losing_value"]))
            for c in record["conflicts"]
        }
        edits = [e for e in self.all_edits if e.visit_id == visit_id]
        seen = {(e.field, e.base) for e in edits if e.base is not None}

        def accounted(edit: Edit) -> bool:
            if (now.get(edit.field), record["clocks"].get(edit.field)) == (edit.value, edit.hlc):
                return True
            if (edit.field, edit.hlc, json.dumps(edit.value)) in lost:
                return True
            if (edit.field, edit.hlc) in seen:
                return True
            return any(
                accounted(newer)
                for newer in edits
                if newer.field == edit.field and newer.value == edit.value and newer.hlc > edit.hlc
            )

        for (_, edit_visit, name), edit in self.last_edit.items():
            if edit_visit == visit_id:
                assert accounted(edit), (
                    f"tablet {edit.device}'s {name}={edit.value!r} ({edit.hlc}) is lost: "
                    f"now {now.get(name)!r}, history {record['conflicts']}"
                )

    def everyone_agrees(self) -> None:
        # A full sync of everyone, then everyone pulls what the others sent.
        for _ in range(2):
            for device in range(DEVICES):
                self._engine(device).sync_once()
        for store in self.stores:
            assert_device_drained(store)
        for visit_id in self.visit_ids:
            record = self.client.get(
                f"{API_PREFIX}/records/visit/{visit_id}", headers=self.transports[0].headers
            ).get_json()
            fields = {k: v for k, v in record["fields"].items() if k != "id"}
            for device, store in enumerate(self.stores):
                local = {k: v for k, v in store.get("visit", visit_id).items() if k != "id"}
                assert local == fields, f"tablet {device} differs on visit {visit_id}"
                local_clocks = {
                    k: v for k, v in store.clocks("visit", visit_id).items() if k != "id"
                }
                assert local_clocks == record["clocks"], f"tablet {device} clocks"
            self.assert_no_edit_lost(visit_id, record)
        # Notes merge by union: the server and every tablet have every note.
        for note_id in self.notes:
            response = self.client.get(
                f"{API_PREFIX}/records/note/{note_id}", headers=self.transports[0].headers
            )
            assert response.status_code == 200, note_id
        for store in self.stores:
            assert {note["id"] for note in store.find("note")} >= self.notes


# A passing run takes seconds; the timeout leaves room for Hypothesis to shrink a failure.
@pytest.mark.timeout(900)
def test_random_interleavings_of_edits_syncs_and_crashes_converge(app: Flask, shop: Shop) -> None:
    client = app.test_client()
    tokens = [shop.device_token("tablet", f"Tablet {device}") for device in range(DEVICES)]
    with app.app_context():
        # Each tablet stamps its clocks with its uid, as a paired tablet does.
        paired = db.session().query(Device).order_by(Device.id).all()
        uids = [device.uid for device in paired[-DEVICES:]]

    def feed_position() -> int:
        with app.app_context():
            return db.session().query(SyncCounter.value).scalar() or 0

    class Machine(TabletsMachine):
        pass

    Machine.app, Machine.client, Machine.tokens, Machine.uids = app, client, tokens, uids
    Machine.feed_position = staticmethod(feed_position)
    sqlite = app.config["DATABASE_URL"].startswith("sqlite")
    run_state_machine_as_test(
        Machine,
        settings=settings(
            # Fewer on PostgreSQL: the interleavings are the engine's, the same on both.
            max_examples=int(os.environ.get("SYNC_EXAMPLES", "50" if sqlite else "20")),
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
            database=None,
            phases=[Phase.generate] if os.environ.get("SYNC_NO_SHRINK") else list(Phase),
        ),
    )
