"""The lobby kiosk's flows as a customer walks them: counted touches, a paired kiosk with
today's appointments, the screens' parts a test reads."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kiosk_flow_fixtures import (
    DEVICE_ID,
    store_with_appointments,
)

from kiosk.services.device_store import DeviceSettings, DeviceStore
from kiosk.services.local_store import LocalStore
from kiosk.services.scanner import DummyScanner
from kiosk.ui.headless import HeadlessApp

SIGNATURE = [(0.1, 0.6), (0.25, 0.3), (0.4, 0.7), (0.55, 0.3), (0.7, 0.65), (0.9, 0.4)]


class Touches:
    """Counts the touches a customer makes (a signature stroke is one)."""

    def __init__(self, harness: HeadlessApp) -> None:
        self.harness = harness
        self.count = 0

    def tap(self, widget: Any) -> None:
        self.count += 1
        self.harness.tap(widget)

    def keys(self, pad: Any, text: str) -> None:
        for char in text:
            self.tap(pad.key_buttons[char])

    def sign(self, pad: Any, strokes: list[list[tuple[float, float]]] | None = None) -> None:
        for stroke in strokes or [SIGNATURE]:
            self.count += 1
            self.harness.drag(pad, stroke)


@pytest.fixture(name="kiosk_data")
def kiosk_data_fixture(tmp_path: Path) -> DeviceStore:
    """A paired kiosk (offline server) with today's appointments in its local store.
    Import it (and ``start_kiosk_fixture``) into a test module to use it."""
    data = tmp_path / "kiosk"
    store_with_appointments(data).close()
    devices = DeviceStore(data)
    devices.save(
        DeviceSettings(
            server_url="http://127.0.0.1:9",
            mode="kiosk",
            role="kiosk",
            token="token",
            device_id=DEVICE_ID,
            shop_name="Bright Auto Service",
            plate_region="CN",
            ticket_prefix="K3",
        )
    )
    return devices


@pytest.fixture(name="start_kiosk")
def start_kiosk_fixture(
    kiosk_app: Callable[..., HeadlessApp], kiosk_data: DeviceStore
) -> Callable[..., tuple[HeadlessApp, DummyScanner, Touches]]:
    """Starts the paired kiosk with sync off: its harness, QR scanner and touch counter."""

    def start(**kwargs: Any) -> tuple[HeadlessApp, DummyScanner, Touches]:
        scanner = DummyScanner()
        harness = kiosk_app(kiosk_data, qr_scanner=scanner, start_sync=False, **kwargs)
        return harness, scanner, Touches(harness)

    return start


def screen(harness: HeadlessApp, name: str) -> Any:
    return harness.app.checkin.screen(name)


def sign(harness: HeadlessApp) -> None:
    harness.drag(screen(harness, "confirm").ids.pad, SIGNATURE)


def shown_messages(harness: HeadlessApp, name: str) -> str:
    return screen(harness, name).ids.message.text


def finish_common_steps(harness: HeadlessApp, touches: Touches) -> None:
    """The confirm screen with what is preset: sign, then "I agree — check in"."""
    assert harness.screen == "confirm"
    touches.sign(screen(harness, "confirm").ids.pad)
    touches.tap(screen(harness, "confirm").ids.finish)


def saved(harness: HeadlessApp) -> tuple[LocalStore, dict[str, Any]]:
    store = harness.app.local_store
    receipt = harness.app.checkin.receipt
    assert store is not None and receipt is not None
    visit = store.get("visit", receipt.visit_id)
    assert visit is not None
    return store, visit
