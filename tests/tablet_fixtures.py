"""Helpers for the advisor tablet's walk-around tests: a paired tablet whose local store
holds a visit as the server sends it to tablets (customer, car, visit, and the car's
earlier visit with its walk-around), generated camera pictures, and touches at exact
spots of the car diagram, a photo and the signature pad.

Import the fixtures into a test module::

    from tablet_fixtures import start_tablet_fixture, tablet_data_fixture  # noqa: F401

and name ``tablet_data`` or ``start_tablet`` as a test's argument.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from kivy.base import EventLoop
from kivy.input.motionevent import MotionEvent
from PIL import Image

from kiosk.services.advisors import Advisor
from kiosk.services.camera import FileImportCamera
from kiosk.services.device_store import DeviceSettings, DeviceStore
from kiosk.services.local_store import LocalStore
from shared import domain
from shared.domain import DamageType, DiagramView
from shared.visit_status import VisitStatus
from shared.wire import to_wire

if TYPE_CHECKING:  # importing it makes Kivy's window: only once the fixtures set its size
    from live_server import LiveServer

    from kiosk.ui.headless import HeadlessApp

TABLET_ID = "7d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
SERVER_CLOCK = "0001700000000000-0000-server"
ADVISOR = Advisor("li.na", "Li Na 李娜", 2)
# A signature: a wave and an underline, in pad units (x right, y up), for HeadlessApp.drag.
SIGNATURE_WAVE = [(0.1, 0.6), (0.22, 0.35), (0.34, 0.7), (0.46, 0.35), (0.58, 0.7), (0.7, 0.4)]
SIGNATURE_LINE = [(0.15, 0.22), (0.5, 0.2), (0.85, 0.22)]


@dataclass(frozen=True)
class TabletVisit:
    """What the tablet's store holds: today's visit, and the car's earlier damage."""

    devices: DeviceStore
    visit_id: str
    vehicle_id: str
    earlier_mark_id: str
    earlier_visit_id: str


def pulled(kind: str, record: Any) -> dict[str, Any]:
    """A record as ``GET /sync/changes`` gives it to a tablet."""
    fields = to_wire(record)
    record_id = fields.pop("id")
    return {
        "seq": 1,
        "kind": kind,
        "id": record_id,
        "fields": fields,
        "clocks": dict.fromkeys(fields, SERVER_CLOCK),
    }


def seed_visit(store: LocalStore) -> tuple[str, str, str, str]:
    """Today's visit of Wang Fang's Camry, and a dent recorded at its visit in May."""
    customer = domain.Customer(name="王芳", phone="+8613612345678")
    vehicle = domain.Vehicle(
        customer_id=customer.id, plate="粤BD12345", make="Toyota", model="Camry", year=2021,
        vin="LVGBM51K0PG012345", last_mileage_km=48_210,
    )  # fmt: skip
    before = domain.Visit(
        ticket_number="T-003", customer_id=customer.id, vehicle_id=vehicle.id,
        status=VisitStatus.delivered, checked_in_at=datetime(2026, 5, 12, 2, 30, tzinfo=UTC),
    )  # fmt: skip
    old_sheet = domain.Walkaround(visit_id=before.id, odometer_km=48_210)
    old_dent = domain.DamageMark(
        walkaround_id=old_sheet.id, view=DiagramView.right, x=0.7, y=0.55,
        damage_type=DamageType.dent, severity=2,
    )  # fmt: skip
    today = domain.Visit(
        ticket_number="T-012", customer_id=customer.id, vehicle_id=vehicle.id,
        concern_codes=[domain.ConcernCode.brakes], concern_text="Squeal from the front brakes",
        mileage_in_km=52_340,
    )  # fmt: skip
    store.apply_pulled(
        [
            pulled("customer", customer),
            pulled("vehicle", vehicle),
            pulled("visit", before),
            pulled("walkaround", old_sheet),
            pulled("damage_mark", old_dent),
            pulled("visit", today),
        ],
        next_since=6,
    )
    return today.id, vehicle.id, old_dent.id, before.id


@pytest.fixture(name="tablet_data")
def tablet_data_fixture(tmp_path: Path) -> TabletVisit:
    """A paired tablet (offline server) with today's visit in its local store."""
    data = tmp_path / "tablet"
    with LocalStore(data, TABLET_ID) as store:
        visit_id, vehicle_id, earlier_mark_id, earlier_visit_id = seed_visit(store)
    devices = DeviceStore(data)
    devices.save(
        DeviceSettings(
            server_url="http://127.0.0.1:9",
            mode="tablet",
            role="tablet",
            token="token",
            device_id=TABLET_ID,
            device_name="Advisor tablet 1",
            shop_name="Bright Auto Service",
            plate_region="CN",
            ticket_prefix="T",
        )
    )
    return TabletVisit(devices, visit_id, vehicle_id, earlier_mark_id, earlier_visit_id)


@pytest.fixture(name="start_tablet")
def start_tablet_fixture(
    kiosk_app: Callable[..., HeadlessApp], tablet_data: TabletVisit
) -> Iterator[Callable[..., HeadlessApp]]:
    """Factory: the tablet app with Li Na signed in and today's walk-around open."""
    started: list[HeadlessApp] = []

    def start(camera: FileImportCamera | None = None, **kwargs: Any) -> HeadlessApp:
        kwargs.setdefault("start_sync", False)
        kwargs.setdefault("idle_timeout", 3600)
        harness = kiosk_app(tablet_data.devices, **kwargs)
        started.append(harness)
        app = harness.app
        app.advisor = ADVISOR
        app.walkaround.camera = camera or FileImportCamera()
        app.walkaround.open(tablet_data.visit_id)
        harness.pump(3)
        return harness

    yield start
    for harness in started:
        settle_toast(harness)


def settle_toast(harness: HeadlessApp) -> None:
    """Let a toast (e.g. "walk-around finished") fade out while its app still runs: its
    timer and animation would otherwise ask for the app during the next test."""
    if harness.started and harness.app.toast.message is not None:
        harness.app.toast.hide()
        harness.idle_for(0.5)


# -- pictures ---------------------------------------------------------------------------


def make_photo(path: Path, seed: int = 1, size: tuple[int, int] = (1200, 900)) -> Path:
    """A camera-like JPEG: a gradient with a bright panel, different for each ``seed``."""
    gradient = Image.linear_gradient("L").resize(size)
    shifted = gradient.point(lambda v: (v + seed * 70) % 256)
    image = Image.merge("RGB", (shifted, gradient, gradient))
    image.paste((235, 235, 240), (size[0] // 3, size[1] // 3, size[0] // 2, size[1] // 2))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=88)
    for band in (gradient, shifted, image):
        band.close()
    path.write_bytes(buffer.getvalue())
    return path


# -- touches at exact spots -------------------------------------------------------------


class Finger(MotionEvent):
    """A touch at window pixels, moved and lifted by hand."""

    def __init__(self, x: float, y: float) -> None:
        super().__init__("tablet-test", id(self), self._args(x, y), is_touch=True, type_id="touch")
        self.profile = ["pos"]

    @staticmethod
    def _args(x: float, y: float) -> dict[str, float]:
        from kivy.core.window import Window

        return {"x": x / (Window.width - 1.0), "y": y / (Window.height - 1.0)}

    def depack(self, args: dict[str, float]) -> None:
        self.sx, self.sy = args["x"], args["y"]
        super().depack(args)

    def move_to(self, x: float, y: float) -> None:
        self.move(self._args(x, y))


def touch_path(harness: HeadlessApp, points: list[tuple[float, float]]) -> None:
    """One finger down at the first window point, through the others, up at the last."""
    harness.pump()
    finger = Finger(*points[0])
    EventLoop.post_dispatch_input("begin", finger)
    harness.pump()
    for point in points[1:]:
        finger.move_to(*point)
        EventLoop.post_dispatch_input("update", finger)
        harness.pump()
    EventLoop.post_dispatch_input("end", finger)
    harness.pump(2)


def tap_at(harness: HeadlessApp, x: float, y: float) -> None:
    touch_path(harness, [(x, y)])


def diagram_point(diagram: Any, x: float, y: float) -> tuple[float, float]:
    """Where on the window the drawing's (x, y) is (0..1 across and down the drawing)."""
    left, bottom, width, height = diagram.picture_rect()
    return diagram.to_window(left + x * width, bottom + (1 - y) * height)


def photo_point(view: Any, x: float, y: float) -> tuple[float, float]:
    """Where on the window the photo's (x, y) is (0..1 across and down the photo)."""
    return view.spot_to_window(x, y)


def sign_on(harness: HeadlessApp, pad: Any) -> None:
    """The customer signs with a finger: a wave, then an underline."""
    harness.drag(pad, SIGNATURE_WAVE)
    harness.drag(pad, SIGNATURE_LINE)


def message(screen: Any) -> str:
    """What a screen's message line says."""
    return screen.ids.message.text


def language_button(screen: Any, lang: str) -> Any:
    """The header's button that switches the screens to ``lang``."""
    toggle = screen.ids.header.ids.language
    return next(button for button in toggle.children if button.language == lang)


def the_mark(sheet: Any, mark_id: str) -> domain.DamageMark:
    """The open walk-around sheet's damage mark with this id."""
    return next(mark for mark in sheet.marks if mark.id == mark_id)


def pair_tablet(live_server: LiveServer, data_dir: Path) -> DeviceStore:
    """A tablet paired with the live server by a pairing code (``checkin-server pair``)."""
    from kiosk.services.pairing import PairingService

    devices = DeviceStore(data_dir)
    devices.save(DeviceSettings(server_url=live_server.url, mode="tablet"))
    code = live_server.pairing_code("tablet")
    settings = PairingService(devices).pair(code, "Advisor tablet 1")
    assert settings.role == "tablet"
    return devices
