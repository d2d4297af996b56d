"""Fixtures for the kiosk tests: a fake shop server on loopback, stores, headless apps.

``shop_server`` is a real HTTP server (``http.server`` in a thread on 127.0.0.1) that
answers the device part of the API contract (``POST /api/v1/devices/pair``,
``GET /api/v1/devices/me``) with the contract's bodies and problem documents, so the
client's real ``requests`` code is exercised; nothing inside ``requests`` is mocked.

``kiosk_app`` builds a ``CheckinApp`` into Kivy's single offscreen window and takes it
down after the test. Kivy gotchas it handles (see ``kiosk.ui.headless``):

- There is one Kivy window per process; it is created on first import of
  ``kivy.core.window`` with the size in ``Config`` at that moment (set here first).
- ``App.run()``/``App.stop()`` are not used: ``stop()`` closes the event loop for good,
  after which no later app in the process would draw or get touches. Frames are
  advanced by hand (``EventLoop.idle()``), which also delivers ``Clock`` callbacks, i.e.
  the results of background threads.
- ``.kv`` files are loaded once per process; loading one twice doubles its widgets.
- Each app's background threads are joined at teardown, and their late results are
  dropped, so nothing from one test runs during the next.
"""

from __future__ import annotations

import json
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from kiosk.services.device_store import DeviceSettings, DeviceStore
from kiosk.services.pairing_code import PAIRING_ALPHABET

WINDOW_SIZE = (1280, 800)
SHOP_NAME = "Bright Auto Service"

PAIRING_MESSAGES = {
    "pairing_code_unknown": ("This pairing code is not known.", "无法识别此配对码。"),
    "pairing_code_expired": ("This pairing code has expired.", "此配对码已过期。"),
    "pairing_code_used": ("This pairing code has already been used.", "此配对码已被使用。"),
}


@dataclass
class FakeDevice:
    device_id: str
    name: str
    role: str
    revoked: bool = False


@dataclass
class FakeShopServer:
    """What the sync server tells devices, with knobs for failures."""

    shop: dict[str, str] = field(default_factory=lambda: {"name": SHOP_NAME, "plate_region": "京"})
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    devices: dict[str, FakeDevice] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    # Failure knobs: a fixed status for every request, a body that is not JSON, a delay.
    fail_status: int | None = None
    garbage_body: bool = False
    delay_s: float = 0.0
    url: str = ""

    # -- what a manager would do -------------------------------------------------------

    def issue_code(self, role: str = "kiosk", device_name: str = "", state: str = "new") -> str:
        """A fresh 8-character code; ``state`` may be ``"expired"`` or ``"used"``."""
        code = "".join(secrets.choice(PAIRING_ALPHABET) for _ in range(8))
        self.codes[code] = {"role": role, "device_name": device_name, "state": state}
        return code

    def add_device(self, role: str = "kiosk", name: str = "Lobby kiosk") -> str:
        """A paired device; returns its token."""
        token = secrets.token_urlsafe(16)
        self.devices[token] = FakeDevice(str(uuid.uuid4()), name, role)
        return token

    def revoke(self, token: str) -> None:
        self.devices[token].revoked = True

    # -- what the server answers -------------------------------------------------------

    def answer(
        self, method: str, path: str, headers: dict[str, str], body: Any
    ) -> tuple[int, str, Any]:
        self.requests.append({"method": method, "path": path, "headers": headers, "body": body})
        if self.delay_s:
            time.sleep(self.delay_s)
        if self.fail_status:
            return self.fail_status, "application/problem+json", _problem(self.fail_status)
        if method == "POST" and path == "/api/v1/devices/pair":
            return self._pair(body)
        if method == "GET" and path == "/api/v1/devices/me":
            token = headers.get("Authorization", "").removeprefix("Bearer ")
            device = self.devices.get(token)
            if device is None or device.revoked:
                return 401, "application/problem+json", _problem(401)
            return 200, "application/json", self._device_json(device)
        return 404, "application/problem+json", _problem(404)

    def _pair(self, body: Any) -> tuple[int, str, Any]:
        code = body.get("code", "") if isinstance(body, dict) else ""
        entry = self.codes.get(code)
        reason = None
        if entry is None:
            reason = "pairing_code_unknown"
        elif entry["state"] == "used":
            reason = "pairing_code_used"
        elif entry["state"] == "expired":
            reason = "pairing_code_expired"
        if reason is not None:
            english, chinese = PAIRING_MESSAGES[reason]
            problem = _problem(400, detail=english)
            problem["errors"] = [
                {
                    "field": "code",
                    "code": reason,
                    "message": english,
                    "message_zh": chinese,
                    "severity": "error",
                }
            ]
            return 400, "application/problem+json", problem
        entry["state"] = "used"
        name = body.get("device_name") or entry["device_name"] or f"{entry['role']} {code[:4]}"
        token = secrets.token_urlsafe(16)
        device = FakeDevice(str(uuid.uuid4()), name, entry["role"])
        self.devices[token] = device
        return 201, "application/json", self._device_json(device) | {"token": token}

    def _device_json(self, device: FakeDevice) -> dict[str, Any]:
        # The real server's shape: the device's name is "name"; the shop nested.
        return {
            "device_id": device.device_id,
            "name": device.name,
            "role": device.role,
            "paired_at": "2025-01-01T08:00:00+00:00",
            "last_seen_at": None,
            "revoked_at": None,
            "shop": dict(self.shop),
        }


def _problem(status: int, detail: str = "") -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"https://service-lane.example/problems/http-{status}",
        "title": "Problem",
        "status": status,
    }
    if detail:
        body["detail"] = detail
    return body


def _handler_for(server: FakeShopServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._serve(None)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            self._serve(body)

        def _serve(self, body: Any) -> None:
            status, content_type, payload = server.answer(
                self.command, self.path, dict(self.headers.items()), body
            )
            data = (
                b"<html>not the API</html>"
                if server.garbage_body
                else json.dumps(payload).encode("utf-8")
            )
            self.send_response(status)
            self.send_header("Content-Type", "text/html" if server.garbage_body else content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output quiet

    return Handler


@pytest.fixture
def shop_server() -> Iterator[FakeShopServer]:
    """A fake sync server on 127.0.0.1 (a free port), stopped after the test."""
    fake = FakeShopServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(fake))
    httpd.daemon_threads = True
    fake.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, name="fake-shop-server", daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@pytest.fixture
def unreachable_url() -> str:
    """A loopback URL where nothing listens (connection refused at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def kiosk_store(tmp_path: Path) -> DeviceStore:
    """An empty data folder: the device has never been paired."""
    return DeviceStore(tmp_path / "kiosk-data")


@pytest.fixture
def unpaired_store(kiosk_store: DeviceStore, shop_server: FakeShopServer) -> DeviceStore:
    """A device that knows the address of ``shop_server`` but has not been paired."""
    kiosk_store.save(DeviceSettings(server_url=shop_server.url))
    return kiosk_store


@pytest.fixture
def paired_store(kiosk_store: DeviceStore, shop_server: FakeShopServer) -> DeviceStore:
    """A kiosk already paired with ``shop_server`` (its token is known there)."""
    token = shop_server.add_device("kiosk")
    kiosk_store.save(
        DeviceSettings(
            server_url=shop_server.url,
            mode="kiosk",
            device_id="d-1",
            device_name="Lobby kiosk",
            token=token,
            role="kiosk",
            shop_name=SHOP_NAME,
            plate_region="京",
        )
    )
    return kiosk_store


@pytest.fixture(scope="session")
def kivy_window() -> Any:
    """Kivy's one window, created headless at 1280×800 (the first time only)."""
    from kivy.config import Config

    Config.set("graphics", "width", str(WINDOW_SIZE[0]))
    Config.set("graphics", "height", str(WINDOW_SIZE[1]))
    Config.set("kivy", "exit_on_escape", "0")
    Config.set("graphics", "maxfps", "0")  # frames advanced by hand need no pacing
    from kivy.core.window import Window

    return Window


@pytest.fixture
def kiosk_app(kivy_window: Any) -> Iterator[Callable[..., Any]]:
    """Factory: ``kiosk_app(store, **CheckinApp kwargs)`` -> a started ``HeadlessApp``.

    Each call builds a fresh ``CheckinApp``; all are taken down after the test.
    """
    from kiosk.ui.app import CheckinApp
    from kiosk.ui.headless import HeadlessApp

    started: list[HeadlessApp] = []

    def make(store: DeviceStore, **kwargs: Any) -> HeadlessApp:
        harness = HeadlessApp(CheckinApp(store=store, **kwargs), size=WINDOW_SIZE)
        started.append(harness)
        return harness.start()

    yield make
    for harness in reversed(started):
        harness.stop()
