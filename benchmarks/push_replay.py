"""Push throughput with lean clients: the server's capacity to take pushes.

The scale-out benchmark's tablets are real devices (their SQLite store, their sync
engine), and on this machine their CPU comes from the same two cores as the servers'.
Here every tablet's pushes are recorded ahead of time, untimed, and replayed by lean
clients during the measured window:

- **Recorded**: each tablet is a real device (``LocalStore``, ``SyncEngine``) paired
  with the shop, in step with its feed (one sync round), that saves its share of the
  check-ins. Its sync engine then sends its outbox as it always does (same batch size,
  its feed epoch) to a :class:`RecordingTransport`, which keeps each push's serialised
  body and headers (the device's own bearer token) instead of sending it, and answers
  as the server does when it takes every change.
- **Replayed**: on "go", one OS process per tablet sends its pushes in order, one at a
  time as a device does, each to one of the processes at random (a load balancer), over
  one keep-alive HTTP connection per process (``http.client``), and checks that the
  server took every change (2xx results). A ``503`` (a bounded lock wait) is sent again,
  as a device would, and counted.

Nothing is pulled in between: this is push throughput alone. The real devices' figures
(push and convergence) stay in ``scale_bench.py``.
"""

from __future__ import annotations

import http.client
import json
import logging
import multiprocessing
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scale_shop import CpuWindow, Shop, profile
from sync_workload import save_workload

from kiosk.services.local_store import LocalStore
from kiosk.services.sync import SyncEngine, SyncTransport
from shared.sync_protocol import API_PREFIX, EPOCH_HEADER, push_message


@dataclass(frozen=True)
class RecordedPush:
    headers: dict[str, str]
    body: bytes
    changes: int


class RecordingTransport(SyncTransport):
    """Keeps each push the sync engine makes (body as ``requests`` serialises it, the
    device's headers) instead of sending it; answers that the server took every change."""

    def __init__(self, base_url: str, token: str) -> None:
        super().__init__(base_url, token)
        self.recorded: list[RecordedPush] = []

    def push(self, changes: Any, epoch: str = "") -> dict[str, Any]:
        headers = {
            **{name: str(value) for name, value in self.session.headers.items()},
            "Content-Type": "application/json",
        }
        if epoch:
            headers[EPOCH_HEADER] = epoch
        # As ``requests`` sends ``json=``: the standard encoder, ASCII, no NaN.
        body = json.dumps(push_message(changes), allow_nan=False).encode("utf-8")
        self.recorded.append(RecordedPush(headers, body, len(changes)))
        return {
            "results": [{"change_id": change["change_id"], "status": 201} for change in changes],
            "missing_blobs": [],
        }


def record_pushes(
    folder: Path, n: int, device: tuple[str, str], url: str, visits: int
) -> list[RecordedPush]:
    """Tablet ``n``'s pushes of its share of the work, made by its own sync engine."""
    token, device_id = device
    store = LocalStore(folder / f"recorded{n}", device_id)
    with SyncTransport(url, token) as transport:
        SyncEngine(store, transport).sync_once()  # in step with the feed, its epoch known
    save_workload(store, visits, 0, seed=n + 1, device=device_id)
    recorder = RecordingTransport(url, token)
    SyncEngine(store, recorder, batch_size=200).push_now()
    recorder.close()
    store.close()
    return recorder.recorded


def _replay(n: int, pushes: list[RecordedPush], urls: list[str], start: Any, results: Any) -> None:
    """One lean client: tablet ``n``'s recorded pushes, in order, one at a time."""
    logging.disable(logging.INFO)
    rng = random.Random(n)
    connections = {}
    for url in urls:
        parts = urlsplit(url)
        connections[url] = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        connections[url].connect()  # a tablet in use has its connections open
    path = f"{API_PREFIX}/sync/push"
    taken = retried = 0
    start.wait()
    cpu_began = time.process_time()
    for push in pushes:
        while True:
            connection = connections[rng.choice(urls)]
            connection.request("POST", path, body=push.body, headers=push.headers)
            response = connection.getresponse()
            answer = response.read()
            if response.status != 503:
                break
            retried += 1
            time.sleep(0.05)
        if response.status != 200:
            results.put(("failed", n, f"{response.status}: {answer[:300]!r}"))
            return
        statuses = [result["status"] for result in json.loads(answer)["results"]]
        taken += sum(1 for status in statuses if 200 <= status < 300)
    pushed = time.perf_counter()
    results.put(("replayed", n, pushed, time.process_time() - cpu_began, taken, retried))
    for connection in connections.values():
        connection.close()


def run_replay(
    shop: Shop, devices: int, visits: int, profile_dir: str = "", label: str = ""
) -> dict[str, float]:
    """The shop's tablets' pushes recorded, then replayed at once; the figures."""
    recorded = [
        record_pushes(shop.folder, n, shop.paired[n], shop.urls[n % len(shop.urls)], visits)
        for n in range(devices)
    ]
    expected = sum(push.changes for pushes in recorded for push in pushes)
    context = multiprocessing.get_context("fork")
    start, results = context.Event(), context.Queue()
    clients = [
        context.Process(target=_replay, args=(n, recorded[n], shop.urls, start, results))
        for n in range(devices)
    ]
    for client in clients:
        client.start()
    window = CpuWindow(shop)
    window.start()
    profilers = profile(
        profile_dir,
        [(f"server{k}", server.pid or 0) for k, server in enumerate(shop.servers)],
        f"replay-{label}",
    )
    start.set()
    answers = [results.get(timeout=600) for _ in clients]
    spent = window.sample()
    window.stop()
    for profiler in profilers:
        profiler.send_signal(2)  # SIGINT: py-spy writes its profile
        profiler.wait(timeout=60)
    for client in clients:
        client.join(timeout=60)
    failed = [answer for answer in answers if answer[0] != "replayed"]
    if failed:
        raise RuntimeError(f"a replayed push was refused: {failed[0]}")
    taken = sum(answer[4] for answer in answers)
    changes = shop.changes_since_earlier()
    if taken != expected or changes != expected:
        raise RuntimeError(f"{expected} changes replayed, {taken} taken, {changes} saved")
    push_s = max(answer[2] for answer in answers) - window.began
    per_thousand = 1000 / changes
    clients_cpu = sum(answer[3] for answer in answers)
    return {
        "changes": changes,
        "push_s": push_s,
        "per_s": changes / push_s,
        "retried": sum(answer[5] for answer in answers),
        "cpu_server": spent["servers"] * per_thousand,
        "cpu_postgres": spent["postgres"] * per_thousand,
        "cpu_clients": clients_cpu * per_thousand,
        "machine_cores": spent["machine_cores"],
        "our_cores": (spent["servers"] + spent["postgres"] + clients_cpu) / spent["wall"],
        "server_cores": spent["servers"] / spent["wall"],
        "postgres_cores": spent["postgres"] / spent["wall"],
    }
