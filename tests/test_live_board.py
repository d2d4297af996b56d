"""The live board: a check-in on the kiosk shows on the open board and the tablets'
queue at once, pushed by the server (server-sent events), never by a reload.

One real server process (SQLite, the demo shop) for the module, with three streams
allowed and a heartbeat every second; a lobby kiosk checks a customer in by touch while
its sync round is held (so only the immediate push can deliver it); the board in
Chromium and a Kivy-free tablet (its sync and its event listener) show it. Then who may
listen, the cap on streams, heartbeats and a stream freed when its reader leaves. On
PostgreSQL, two server processes on one database: a change through one reaches a
tablet listening on the other (``LISTEN/NOTIFY``).
"""

from __future__ import annotations

import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from browser_fixtures import CHROMIUM, BrowserForOneTest
from live_server import LiveServer, PairedDevice
from test_kiosk_flow_live import check_in_by_qr

from kiosk.services.device_store import DeviceSettings, DeviceStore
from kiosk.services.live_events import LiveEvents, LiveNotice
from kiosk.services.local_store import LocalStore
from kiosk.services.pairing import PairingService
from kiosk.services.scanner import DummyScanner
from kiosk.services.sync import BackgroundSync, SyncEngine, SyncTransport
from kiosk.services.tablet_queue import open_visits
from kiosk.ui.headless import HeadlessApp
from shared import domain
from shared.wire import to_wire

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.live  # real server processes: not in the --fast loop

PASSWORD = "demo-pass-2026"
MAX_STREAMS = 3
# Well under the board's own refresh (15 s, 60 s while live) and the tablet's round
# (an hour here): only a live event can bring the check-in this fast.
LIVE_WAIT_S = 8.0


def wait_for(condition: Callable[[], bool], timeout: float, message: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {message}")
        time.sleep(0.02)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path_factory.mktemp("live-board") / "server")
    shutil.copyfile(sqlite_template, live.root / "server.sqlite3")  # migrated already
    live.extra_env = {"LIVE_MAX_STREAMS": str(MAX_STREAMS), "LIVE_HEARTBEAT_SECONDS": "1"}
    live.start()
    try:
        live.cli("demo")
        yield live
    finally:
        live.stop()
        print(f"--- server log tail ---\n{live.log_tail()}")


def pairing_code(server: LiveServer, role: str) -> str:
    """A code issued by the demo shop's manager over HTTP (quicker than the CLI)."""
    with requests.Session() as manager:
        signed_in = manager.post(
            f"{server.url}/api/v1/auth/login",
            json={"username": "manager", "password": PASSWORD},
            timeout=10,
        )
        assert signed_in.ok, signed_in.text
        issued = manager.post(f"{server.url}/api/v1/pairing-codes", json={"role": role}, timeout=10)
        assert issued.status_code == 201, issued.text
        return str(issued.json()["code"])


def pair(server: LiveServer, role: str, data_dir: Path) -> DeviceStore:
    devices = DeviceStore(data_dir)
    devices.save(DeviceSettings(server_url=server.url, mode=role))
    PairingService(devices).pair(pairing_code(server, role), f"Live {role}")
    return devices


def paired(server: LiveServer, role: str, data_dir: Path) -> PairedDevice:
    settings = pair(server, role, data_dir).load()
    return PairedDevice(settings.token or "", settings.device_id or "", role)


class Tablet:
    """A tablet without its screens: local store, background sync, live events."""

    def __init__(self, server: LiveServer, data_dir: Path, interval_s: float = 3600) -> None:
        settings = pair(server, "tablet", data_dir).load()
        self.store = LocalStore(data_dir, settings.device_id or "")
        self.transport = SyncTransport(settings.server_url, settings.token or "")
        self.sync = BackgroundSync(SyncEngine(self.store, self.transport), interval_s=interval_s)
        self.heard: list[LiveNotice] = []
        self.events = LiveEvents(settings.server_url, settings.token or "", self._heard)

    def _heard(self, notice: LiveNotice) -> None:
        self.heard.append(notice)
        self.sync.request_sync()

    def start(self) -> Tablet:
        self.sync.start()
        self.events.start()
        return self

    def queue_ids(self) -> set[str]:
        return {entry.visit_id for entry in open_visits(self.store)}

    def close(self) -> None:
        assert self.events.stop(timeout=5), "the listener ended"
        self.sync.stop(timeout=10)
        self.transport.close()
        self.store.close()


def open_board(browser: Any, server: LiveServer) -> Any:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", "li.na")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(re.compile(r".*/board$"))
    page.wait_for_selector("#board-live.on", timeout=10_000)
    return page


@pytest.mark.ui
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed")
def test_a_kiosk_check_in_shows_on_the_open_board_and_the_tablet_queue(
    server: LiveServer,
    kiosk_app: Callable[..., HeadlessApp],
    browser_for_one_test: BrowserForOneTest,
    tmp_path: Path,
) -> None:
    tablet = Tablet(server, tmp_path / "tablet").start()
    try:
        see_a_check_in_live(server, kiosk_app, browser_for_one_test, tablet, tmp_path)
    finally:
        tablet.close()


def see_a_check_in_live(
    server: LiveServer,
    kiosk_app: Callable[..., HeadlessApp],
    browser: BrowserForOneTest,
    tablet: Tablet,
    tmp_path: Path,
) -> None:
    scanner = DummyScanner()
    kiosk = kiosk_app(
        pair(server, "kiosk", tmp_path / "kiosk"), qr_scanner=scanner, sync_interval=3600
    )
    try:
        board = open_board(browser, server)
        assert board.inner_text("#board-live") == "Live"
        board.evaluate("window.sameLoad = true")  # gone if the page reloads
        wait_for(tablet.events.connected.is_set, 10, "the tablet listening")
        store = kiosk.app.local_store
        kiosk.wait_until(lambda: len(store.find("appointment")) == 5, timeout=20)
        engine = kiosk.app.sync.engine
        # The kiosk's sync round cannot run: only the push at the save can send it.
        with engine._round:
            visit_id = check_in_by_qr(kiosk, scanner, "Q7M4KX")
            ticket = kiosk.app.checkin.receipt.ticket_number
            board.wait_for_selector(
                f"#board-cards .visit-card:has-text('{ticket}')", timeout=LIVE_WAIT_S * 1000
            )
            assert board.evaluate("window.sameLoad") is True
            card = board.inner_text(f"#board-cards .visit-card:has-text('{ticket}')")
            assert "Waiting 0 min" in card
            wait_for(lambda: visit_id in tablet.queue_ids(), LIVE_WAIT_S, "the tablet queue")
            assert store.status().pending_changes == 0
        # What the tablet heard named the visit, and nothing about the customer.
        named = [n for n in tablet.heard if n.name == "visit" and visit_id in n.visit_ids]
        assert named, tablet.heard
        assert set(named[0].data) <= {"visits", "more"}
    finally:
        browser.close()  # the board's stream ends with its page


def events_get(server: LiveServer, token: str | None, path: str = "/api/v1/events") -> Any:
    headers = {"Accept": "text/event-stream"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.get(server.url + path, headers=headers, stream=True, timeout=(3, 10))


def open_stream(server: LiveServer, token: str, timeout: float = 10) -> Any:
    """A stream, once a place is free (a reader that left frees its place at once)."""
    deadline = time.monotonic() + timeout
    while True:
        stream = events_get(server, token)
        if stream.status_code == 200:
            return stream
        stream.close()
        assert stream.status_code == 503 and time.monotonic() < deadline, stream.status_code
        time.sleep(0.2)


def test_who_may_listen_the_cap_on_streams_and_heartbeats(
    server: LiveServer, tmp_path: Path
) -> None:
    kiosk = paired(server, "kiosk", tmp_path / "kiosk")
    tablet = paired(server, "tablet", tmp_path / "tablet")
    # A kiosk gets no events (it never lists the shop's visits); nor does a stranger;
    # the board's stream is for signed-in staff, a tablet's token does not open it.
    for token, path, status in [
        (kiosk.token, "/api/v1/events", 403),
        (None, "/api/v1/events", 401),
        (tablet.token, "/board/events", 403),
    ]:
        with events_get(server, token, path) as refused:
            assert refused.status_code == status, (path, refused.status_code)
            assert not refused.headers["Content-Type"].startswith("text/event-stream")

    # Streams of the test before (a closed browser, a stopped tablet) end within a moment.
    streams = [open_stream(server, tablet.token) for _ in range(MAX_STREAMS)]
    try:
        first = streams[0].iter_content(chunk_size=None)
        assert next(first).startswith(b"retry: 2000\nid: ")
        # After a second of quiet, a heartbeat. The server's background work (jobs, the
        # sender) may tell of a change first: only events may come before it.
        for _ in range(5):
            chunk = next(first)
            if chunk == b": heartbeat\n\n":
                break
            assert chunk.startswith(b"id: ") and b"\nevent: " in chunk, chunk
        else:
            raise AssertionError("no heartbeat among the stream's first chunks")
        with events_get(server, tablet.token) as over:
            assert over.status_code == 503
            assert over.headers["Retry-After"] == "30"
            assert over.json()["type"].endswith("/too-many-streams")
        # A reader goes away: its stream ends and its place is free again.
        streams.pop().close()
        streams.append(open_stream(server, tablet.token))
        assert requests.get(f"{server.url}/api/v1/health", timeout=5).ok
    finally:
        for stream in streams:
            stream.close()


def push_a_walk_in(server: LiveServer, token: str, key: str) -> str:
    """A tablet's check-in of a new customer, pushed over HTTP; the visit's id."""
    customer = domain.Customer(name="Live Test", phone="+8613800138111")
    vehicle = domain.Vehicle(customer_id=customer.id, plate="粤B54321", make="BYD", model="Han")
    visit = domain.Visit(
        ticket_number="T-LIVE", customer_id=customer.id, vehicle_id=vehicle.id, mileage_in_km=1
    )
    visit.status_token = domain.status_token_for(key, visit.id)
    changes = []
    now_ms = int(time.time() * 1000)
    for at, (kind, record) in enumerate(
        [("customer", customer), ("vehicle", vehicle), ("visit", visit)]
    ):
        fields = to_wire(record)
        fields.pop("id")
        changes.append(
            {
                "change_id": str(uuid.uuid4()),
                "kind": kind,
                "id": record.id,
                "hlc": f"{now_ms + at:016d}-0000-tablet",
                "fields": fields,
            }
        )
    pushed = requests.post(
        f"{server.url}/api/v1/sync/push",
        json={"schema": 1, "changes": changes},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert pushed.status_code == 200, pushed.text
    assert [r["status"] for r in pushed.json()["results"]] == [201, 201, 201], pushed.text
    return visit.id


@pytest.mark.postgres
def test_a_change_through_one_process_reaches_a_tablet_on_another(
    migrated_postgres_url: str, tmp_path: Path
) -> None:
    first = LiveServer(tmp_path / "first", migrated_postgres_url)
    second = LiveServer(tmp_path / "second", migrated_postgres_url)
    try:
        starting = threading.Thread(target=second.start)  # both at once: quicker
        starting.start()
        first.start()
        starting.join()
        assert second.running
        # One tablet: its token works through either process (one database).
        listener = first.pair_device("tablet")
        heard: list[LiveNotice] = []
        events = LiveEvents(second.url, listener.token, heard.append)
        events.start()
        try:
            wait_for(lambda: any(n.name == "hello" for n in heard), 10, "the stream open")
            visit_id = push_a_walk_in(first, listener.token, listener.status_link_key)
            wait_for(
                lambda: any(visit_id in n.visit_ids for n in heard), 5, "the other process's event"
            )
        finally:
            assert events.stop(timeout=5)
    finally:
        second.stop()
        first.stop()
        print(f"--- first ---\n{first.log_tail(20)}\n--- second ---\n{second.log_tail(20)}")
