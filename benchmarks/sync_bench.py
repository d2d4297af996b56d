"""Sync benchmark: a device syncing visits and photos to a real server on loopback.

Prints, from one run on this machine:
- batched records per second (customer + vehicle + visit changes, pushed in batches);
- photo MB/s through the sync protocol, and in the same run the MB/s of a raw HTTP
  upload of the same bytes to a minimal receiver (streams to a file, fsyncs), as a ratio;
- the request count and latency of a sync with nothing new;
- what is sent again after the device process is killed in the middle of the photos.

Goals on the 2-core machine: photos >= 80 % of the raw upload, >= 2,000 records/s,
a no-op sync = 1 request, <= one photo re-sent after a kill.

The raw upload sends one photo at a time on one connection and the receiver only
writes and fsyncs; the sync client keeps several uploads open (one body on the wire at
a time) while the server hashes, checks, fsyncs and records each photo. The photo and
raw rounds alternate, on fresh photos each time, and the median ratio is reported with
the load average: other work on the machine moves these figures a lot.

    .venv/bin/python benchmarks/sync_bench.py [--visits 1000] [--photos 40]
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import requests
from PIL import Image
from waitress.server import create_server

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from fault_proxy import FaultProxy  # noqa: E402
from live_server import LiveServer  # noqa: E402
from timing import load_averages  # noqa: E402

from kiosk.services.local_store import LocalStore  # noqa: E402
from kiosk.services.sync import SyncEngine, SyncTransport  # noqa: E402
from shared import domain  # noqa: E402
from shared.wire import to_wire  # noqa: E402


def fields_of(record: Any) -> dict[str, Any]:
    data = to_wire(record)
    data.pop("id")
    return data


def make_photo(index: int) -> bytes:
    """A 1-3 MB JPEG: noise compresses badly, like a real photo of a car park."""
    width = 1400 + (index * 97) % 800
    height = width * 3 // 4
    image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def save_visits(store: LocalStore, count: int) -> list[str]:
    visit_ids = []
    for n in range(count):
        customer = domain.Customer(name=f"Customer {n}", phone=f"+86138{n:08d}")
        vehicle = domain.Vehicle(customer_id=customer.id, plate=f"京A{n % 100000:05d}")
        visit = domain.Visit(
            ticket_number=f"B-{n:04d}",
            customer_id=customer.id,
            vehicle_id=vehicle.id,
            concern_text="Benchmark visit",
        )
        store.save("customer", customer.id, fields_of(customer))
        store.save("vehicle", vehicle.id, fields_of(vehicle))
        store.save("visit", visit.id, fields_of(visit))
        visit_ids.append(visit.id)
    return visit_ids


def save_photos(store: LocalStore, visit_id: str, photos: list[bytes]) -> None:
    for data in photos:
        blob = store.put_blob(data, "image/jpeg")
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
        photo = domain.VisitPhoto(
            visit_id=visit_id,
            image=domain.PhotoRef(
                sha256=blob.sha256,
                size_bytes=blob.size,
                content_type=domain.ImageType.jpeg,
                width=width,
                height=height,
            ),
        )
        store.save("photo", photo.id, fields_of(photo), blob_refs=[blob.sha256])


class RawReceiver:
    """The baseline: an HTTP server that streams each PUT body to a file and fsyncs it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

        def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            stream = environ["wsgi.input"]
            target = folder / uuid.uuid4().hex
            with target.open("wb") as out:
                remaining = length
                while remaining:
                    chunk = stream.read(min(256 * 1024, remaining))
                    if not chunk:
                        break
                    out.write(chunk)
                    remaining -= len(chunk)
                out.flush()
                os.fsync(out.fileno())
            start_response("201 Created", [("Content-Type", "application/json")])
            return [b"{}"]

        self.server = create_server(app, host="127.0.0.1", port=0, threads=4)
        self.port = self.server.effective_port  # type: ignore[union-attr]
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()

    def close(self) -> None:
        # Let the worker threads finish (a worker still answering would pull the
        # trigger after it is closed), then close the sockets.
        self.server.task_dispatcher.shutdown()  # type: ignore[union-attr]
        self.server.close()


def raw_upload_seconds(photos: list[bytes], folder: Path) -> float:
    receiver = RawReceiver(folder)
    session = requests.Session()
    try:
        start = time.perf_counter()
        for data in photos:
            answer = session.put(
                f"http://127.0.0.1:{receiver.port}/upload",
                data=io.BytesIO(data),
                headers={"Content-Type": "image/jpeg"},
            )
            answer.raise_for_status()
        return time.perf_counter() - start
    finally:
        session.close()
        receiver.close()


ROUNDS = 5

CHILD = """
import sys
from pathlib import Path
from kiosk.services.local_store import LocalStore
from kiosk.services.sync import SyncEngine, SyncTransport
store = LocalStore(Path(sys.argv[1]), sys.argv[2])
with SyncTransport(sys.argv[3], sys.argv[4]) as transport:
    SyncEngine(store, transport).sync_once()
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=1000)
    parser.add_argument("--photos", type=int, default=40)
    args = parser.parse_args()

    load_before = load_averages()  # the figures mean little on a busy machine
    with tempfile.TemporaryDirectory(prefix="sync-bench-") as tmp_name:
        tmp = Path(tmp_name)
        server = LiveServer(tmp / "server").start()
        try:
            print(f"Generating {args.photos} photos ...", flush=True)
            photos = [make_photo(n) for n in range(args.photos)]
            photo_bytes = sum(len(p) for p in photos)
            mb = photo_bytes / 1_000_000

            # -- records -------------------------------------------------------------
            tablet = server.pair_device("tablet")
            token = tablet.token
            # As in the app, the device's clock carries its paired id as node id.
            store = LocalStore(tmp / "tablet", tablet.device_id)
            visit_ids = save_visits(store, args.visits)
            changes = store.status().pending_changes
            with SyncTransport(server.url, token) as transport:
                engine = SyncEngine(store, transport, batch_size=500)
                start = time.perf_counter()
                engine.sync_once()
                record_seconds = time.perf_counter() - start

                # -- photos through sync, against a raw upload of the same bytes -----
                # Alternating rounds on fresh photos; the median ratio resists the noise
                # of a shared machine.
                (tmp / "raw").mkdir()
                ratios, photo_times, raw_times = [], [], []
                for round_number in range(ROUNDS):
                    if round_number:
                        photos = [make_photo(n) for n in range(args.photos)]
                    save_photos(store, visit_ids[round_number], photos)
                    start = time.perf_counter()
                    report = engine.sync_once()
                    photo_times.append(time.perf_counter() - start)
                    assert report.blobs_uploaded == args.photos, report
                    raw_times.append(raw_upload_seconds(photos, tmp / "raw"))
                    ratios.append(raw_times[-1] / photo_times[-1])
                photo_seconds = statistics.median(photo_times)
                raw_seconds = statistics.median(raw_times)

                # -- no-op sync --------------------------------------------------------
                latencies, counts = [], []
                for _ in range(5):
                    start = time.perf_counter()
                    counts.append(engine.sync_once().requests)
                    latencies.append(time.perf_counter() - start)
            store.close()

            # -- bytes re-sent after a kill ---------------------------------------------
            # Fresh photos: the server already has the ones above.
            resent = kill_and_resume(server, tmp, [make_photo(n) for n in range(20)])
        finally:
            server.stop()

    load_after = load_averages()
    records_per_second = changes / record_seconds
    photo_rate, raw_rate = mb / photo_seconds, mb / raw_seconds
    print()
    print(f"load average (1, 5, 15 min): {load_before} before, {load_after} after")
    print(
        f"records: {changes} changes of {args.visits} visits in {record_seconds:.2f} s "
        f"= {records_per_second:,.0f} records/s (goal >= 2,000)"
    )
    print(
        f"photos: {args.photos} photos, {mb:.1f} MB in {photo_seconds:.2f} s = "
        f"{photo_rate:.1f} MB/s"
    )
    print(f"raw upload of the same bytes: {raw_seconds:.2f} s = {raw_rate:.1f} MB/s")
    print(
        f"photo throughput / raw upload = {statistics.median(ratios):.0%} median of "
        f"{ROUNDS} rounds ({', '.join(f'{r:.0%}' for r in ratios)}) (goal >= 80%)"
    )
    print(
        f"no-op sync: {statistics.median(counts):.0f} request(s), median "
        f"{statistics.median(latencies) * 1000:.1f} ms (goal: 1 request)"
    )
    print(
        f"after a kill mid-photos: {resent['photos_resent']} photo(s) sent again "
        f"(goal <= 1); killed after {resent['kill_after_mb']:.1f} of "
        f"{resent['mb_total']:.1f} MB"
    )


class CountingProxy(FaultProxy):
    """Passes everything through and counts the photo uploads that start."""

    MARK = b"PUT /api/v1/blobs/"

    def __init__(self, upstream_port: int) -> None:
        self.uploads_started = 0
        self._count_lock = threading.Lock()
        super().__init__(upstream_port)

    def _pump_up(self, client: Any, upstream: Any, fault: Any, done: Any) -> None:
        tail = b""
        try:
            while not done.is_set():
                data = client.recv(64 * 1024)
                if not data:
                    break
                window = tail + data
                with self._count_lock:
                    self.uploads_started += window.count(self.MARK) - tail.count(self.MARK)
                tail = window[-len(self.MARK) :]
                upstream.sendall(data)
                self._add(up=len(data))
        except OSError:
            pass
        finally:
            done.set()


def kill_and_resume(server: LiveServer, tmp: Path, photos: list[bytes]) -> dict[str, Any]:
    """Kill the syncing device (SIGKILL) part way through its photos, then resume.

    A photo counts as sent again when its upload started a second time (counted at the
    proxy between device and server).
    """
    token = server.pair("tablet")
    data_dir = tmp / "killed-tablet"
    node = f"killed-{uuid.uuid4().hex[:8]}"
    store = LocalStore(data_dir, node)
    (visit_id,) = save_visits(store, 1)
    save_photos(store, visit_id, photos)
    store.close()
    total = sum(len(p) for p in photos)
    proxy = CountingProxy(server.port)
    try:
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(data_dir), node, proxy.url, token], cwd=ROOT
        )
        while proxy.counts.bytes_up < total * 0.45 and child.poll() is None:
            time.sleep(0.002)
        child.send_signal(signal.SIGKILL)
        child.wait()
        killed_after = proxy.counts.bytes_up
        store = LocalStore(data_dir, node)
        with SyncTransport(proxy.url, token) as transport:
            SyncEngine(store, transport).sync_once()
        assert store.status().pending_blobs == 0
        store.close()
    finally:
        proxy.close()
    return {
        "photos_resent": proxy.uploads_started - len(photos),
        "mb_total": total / 1_000_000,
        "kill_after_mb": killed_after / 1_000_000,
    }


if __name__ == "__main__":
    main()
