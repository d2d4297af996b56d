"""Syncing in the background thread, and the HTTP transport against a tiny scripted server."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from device_sync import DEVICE_ID, jpeg_photo, quick_retry, save_notes
from live_server import LiveServer, free_port, live_server_fixture  # noqa: F401

from kiosk.services.local_store import LocalStore
from kiosk.services.sync import (
    BackgroundSync,
    DeviceUnpaired,
    RequestRefused,
    ServerUnreachable,
    SyncReport,
    SyncState,
    SyncTransport,
    UnexpectedResponse,
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    with LocalStore(tmp_path / "tablet", DEVICE_ID) as opened:
        yield opened


class ScriptedEngine:
    """Stands in for SyncEngine: fails or succeeds as told, counts rounds."""

    def __init__(self, store: LocalStore, outcomes: list[Exception | None]) -> None:
        self.store = store
        self.outcomes = outcomes
        self.rounds = 0
        self.round_done = threading.Event()

    def sync_once(self) -> SyncReport:
        self.rounds += 1
        outcome = self.outcomes.pop(0) if self.outcomes else None
        self.round_done.set()
        if outcome is not None:
            self.store.note_sync_error(getattr(outcome, "code", "sync_failed"), str(outcome))
            raise outcome
        self.store.note_sync_success()
        return SyncReport()


def test_background_sync_wakes_on_request_and_publishes_its_state(store: LocalStore) -> None:
    engine = ScriptedEngine(store, [])
    states: list[SyncState] = []
    background = BackgroundSync(engine, interval_s=3600, on_state=states.append)  # type: ignore[arg-type]
    background.start()
    try:
        assert engine.round_done.wait(5)
        deadline = time.monotonic() + 5
        while not (states and not states[-1].running) and time.monotonic() < deadline:
            time.sleep(0.01)
        save_notes(store, 2)
        engine.round_done.clear()
        background.request_sync()  # a check-in was saved: do not wait an hour
        assert engine.round_done.wait(5)
    finally:
        assert background.stop(timeout=5)
    assert engine.rounds == 2
    assert states[0].running and not states[-1].running
    assert states[-1].pending_changes == 2
    assert states[-1].last_success_at is not None and states[-1].last_error is None
    assert background.state() == states[-1]


def test_background_sync_backs_off_after_failures_and_survives_bugs(store: LocalStore) -> None:
    engine = ScriptedEngine(
        store, [ServerUnreachable("down"), ServerUnreachable("down"), RuntimeError("bug"), None]
    )
    background = BackgroundSync(
        engine,  # type: ignore[arg-type]
        interval_s=0.01,
        max_backoff_s=0.05,
        jitter=lambda: 1.0,
    )
    delays = []
    for failures in range(6):
        background.failures = failures
        delays.append(background.next_delay())
    assert delays == pytest.approx([0.01, 0.01, 0.02, 0.04, 0.05, 0.05])
    background.failures = 0

    background.start()
    deadline = time.monotonic() + 5
    while engine.rounds < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert background.stop(timeout=5)
    assert engine.rounds >= 5  # the RuntimeError did not end the thread
    assert background.failures == 0 and background.state().last_error is None


def test_backoff_jitter_spreads_the_retries() -> None:
    background = BackgroundSync(None, interval_s=10, max_backoff_s=300, jitter=lambda: 0.0)  # type: ignore[arg-type]
    background.failures = 3
    assert background.next_delay() == 20  # half of 40, the least jitter
    background.failures = 10
    assert background.next_delay() == 150


# --- the HTTP transport -------------------------------------------------------------------


class ScriptedHandler(BaseHTTPRequestHandler):
    """Answers from the server's script; records what it received."""

    script: list[tuple[int, dict[str, Any] | str]]
    received: list[tuple[str, str, dict[str, str], bytes]]

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        self.received.append((self.command, self.path, dict(self.headers), body))
        status, payload = self.script.pop(0) if self.script else (200, {})
        data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
        self.send_response(status)
        kind = "text/html" if isinstance(payload, str) else "application/json"
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def scripted_server() -> Iterator[tuple[str, type[ScriptedHandler]]]:
    handler = type("Handler", (ScriptedHandler,), {"script": [], "received": []})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", handler
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_transport_retries_server_errors_and_sends_the_bearer_token(scripted_server) -> None:
    url, handler = scripted_server
    handler.script += [(503, {}), (502, {}), (200, {"results": [], "missing_blobs": []})]
    with SyncTransport(url, "secret-token", retry=quick_retry()) as transport:
        assert transport.push([]) == {"results": [], "missing_blobs": []}
        assert transport.request_count == 1
    assert len(handler.received) == 3  # two retries by urllib3, one protocol call
    method, path, headers, body = handler.received[-1]
    assert (method, path) == ("POST", "/api/v1/sync/push")
    assert headers["Authorization"] == "Bearer secret-token"
    assert json.loads(body) == {"schema": 1, "changes": []}


def test_transport_maps_refusals(scripted_server) -> None:
    url, handler = scripted_server
    problem = {"status": 422, "title": "Some fields need attention"}
    handler.script += [
        (401, {"status": 401, "title": "Pair again"}),
        (422, problem),
        (503, {}), (503, {}), (503, {}), (503, {}),
        (200, "<html>Welcome to the hotel Wi-Fi</html>"),
    ]  # fmt: skip
    with SyncTransport(url, "t", retry=quick_retry()) as transport:
        with pytest.raises(DeviceUnpaired):
            transport.pull(0)
        with pytest.raises(RequestRefused) as refused:
            transport.missing_blobs(["ab" * 32])
        assert refused.value.status == 422 and refused.value.problem == problem
        with pytest.raises(ServerUnreachable) as unreachable:
            transport.pull(0)
        assert unreachable.value.status == 503
        with pytest.raises(UnexpectedResponse):
            transport.pull(0)


def test_transport_reports_an_unreachable_server() -> None:
    nobody_listens = f"http://127.0.0.1:{free_port()}"
    with (
        SyncTransport(nobody_listens, "t", retry=quick_retry()) as transport,
        pytest.raises(ServerUnreachable),
    ):
        transport.pull(0)


def test_photo_upload_streams_the_file_with_its_type(scripted_server, tmp_path: Path) -> None:
    url, handler = scripted_server
    photo = jpeg_photo(3)
    path = tmp_path / "photo"
    path.write_bytes(photo)
    sha = hashlib.sha256(photo).hexdigest()
    handler.script += [(503, {}), (201, {"sha256": sha})]
    with SyncTransport(url, "t", retry=quick_retry()) as transport:
        assert transport.upload_blob(sha, path, "image/jpeg") == 201
    for method, sent_path, headers, body in handler.received:
        # The retry sent the whole file again (urllib3 rewound it).
        assert (method, sent_path, body) == ("PUT", f"/api/v1/blobs/{sha}", photo)
        assert headers["Content-Type"] == "image/jpeg"
        assert headers["Content-Length"] == str(len(photo))
