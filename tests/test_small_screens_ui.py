"""The advisor tablet and the lobby kiosk on the screens shops really have: a 7-inch
tablet (1024 × 600, then resized to an iPad-class 1024 × 768), a tablet held upright
(800 × 1280), a dense one (1280 × 800 at 1.5 pixels per dp); the lobby's 1024 × 768 and
upright 1080 × 1920 screens.

At each size the walk-around (damage marked on the diagram, a photo, the odometer and
fuel, belongings, the customer's signature), the queue, and the kiosk's check-in are
driven by touches only — a swipe where the page is taller than the screen — and on
every screen, in English and in Chinese, ``layout_problems`` walks the widget tree: each
button, field, text and drawing a user needs is inside what can be seen (or scrolled
to), overlaps nothing, shows its whole text, and is at least a finger wide.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kiosk_flow_steps import (
    SIGNATURE,
    kiosk_data_fixture,  # noqa: F401
    screen,
)
from layout_check import layout_problems
from tablet_fixtures import (
    ADVISOR,
    TabletVisit,
    diagram_point,
    make_photo,
    sign_on,
    tablet_data_fixture,  # noqa: F401
    tap_at,
)

from kiosk.services.camera import FileImportCamera
from kiosk.services.device_store import DeviceStore
from kiosk.services.scanner import DummyScanner
from kiosk.ui.headless import HeadlessApp

pytestmark = pytest.mark.ui

# Pixels, pixels per dp, and a second window the same tablet app is then resized to
# (every step looked at again there: cheaper than a second walk).
TABLETS: dict[str, tuple[tuple[int, int], float, tuple[int, int] | None]] = {
    "7-inch 1024x600, then iPad-class 1024x768": ((1024, 600), 1.0, (1024, 768)),
    "upright 800x1280": ((800, 1280), 1.0, None),
    "dense 1280x800 at 1.5": ((1280, 800), 1.5, None),
}
KIOSKS = {"lobby 1024x768": (1024, 768), "upright 1080x1920": (1080, 1920)}
STEPS = ("damage", "photos", "car", "belongings", "deferred", "sign")


@pytest.fixture(name="start_at")
def start_at_fixture(kivy_window: Any) -> Iterator[Callable[..., HeadlessApp]]:
    """Factory: a ``CheckinApp`` on a window of ``size`` pixels at ``density``."""
    from kivy.metrics import Metrics

    from kiosk.ui.app import CheckinApp

    started: list[HeadlessApp] = []

    def start(
        store: DeviceStore, size: tuple[int, int], density: float = 1.0, **kwargs: Any
    ) -> HeadlessApp:
        Metrics.density = density  # before the screens are built: their dp are read then
        harness = HeadlessApp(CheckinApp(store=store, **kwargs), size=size)
        started.append(harness)
        return harness.start()

    yield start
    for harness in reversed(started):
        if harness.started and harness.app.toast.message is not None:
            harness.app.toast.hide()
            harness.idle_for(0.5)
        harness.stop()
    Metrics.density = 1.0


class Looks:
    """What was wrong on each screen looked at, by where it was."""

    def __init__(self, harness: HeadlessApp, size: str) -> None:
        self.harness, self.size, self.problems = harness, size, []

    def at(self, where: str) -> None:
        self.harness.pump(2)
        label = f"{self.size} {self.harness.app.lang} {where}"
        self.problems += layout_problems(label)

    def assert_none(self) -> None:
        assert not self.problems, "\n".join(self.problems[:25])


def language(header: Any, lang: str) -> Any:
    return next(button for button in header.ids.language.children if button.language == lang)


@pytest.mark.parametrize("size", list(TABLETS))
def test_walkaround_and_queue_are_usable_on_small_tablets(
    start_at: Callable[..., HeadlessApp], tablet_data: TabletVisit, tmp_path: Path, size: str
) -> None:
    pixels, density, then = TABLETS[size]
    harness = start_at(tablet_data.devices, pixels, density, start_sync=False, idle_timeout=3600)
    app = harness.app
    app.advisor = ADVISOR
    flow = app.walkaround
    flow.camera = FileImportCamera([make_photo(tmp_path / "door.jpg")])
    flow.open(tablet_data.visit_id)
    looks = Looks(harness, size)
    looks.at("damage")

    # A dent marked on the drawing (the page swiped to it first where it is below).
    damage = flow.screen("damage")
    harness.reach(damage.ids.diagram)
    tap_at(harness, *diagram_point(damage.ids.diagram, 0.35, 0.6))
    assert len(flow.sheet.marks) == 1, "the touch on the drawing placed no mark"
    looks.at("damage editor")
    harness.tap(damage.severity_tiles[2])
    harness.tap(damage.ids.editor_done)
    assert flow.sheet.marks[0].severity == 2
    header = damage.ids.header

    harness.tap(header.ids.tab_photos)
    photos = flow.screen("photos")
    harness.tap(photos.ids.take)
    harness.wait_until(lambda: len(flow.sheet.photos) == 1, message="the photo was not read")
    looks.at("photos")

    harness.tap(photos.ids.header.ids.tab_car)
    car = flow.screen("car")
    for key in "52400":
        harness.tap(car.ids.odometer_pad.key_buttons[key])
    harness.tap(car.ids.save_odometer)
    harness.tap(car.fuel_tiles[6])
    assert flow.sheet.walkaround.odometer_km == 52_400
    assert flow.sheet.walkaround.fuel_eighths == 6
    looks.at("car")

    harness.tap(car.ids.header.ids.tab_belongings)
    belongings = flow.screen("belongings")
    harness.tap(belongings.item_tiles["documents"])
    looks.at("belongings")

    harness.tap(belongings.ids.header.ids.tab_sign)
    sign = flow.screen("sign")
    looks.at("sign")
    sign_on(harness, sign.ids.pad)
    harness.tap(sign.ids.sign)
    assert flow.state == "signed_unchanged", sign.ids.message.text
    looks.at("signed")

    # Every step again in Chinese, from its tab.
    harness.tap(language(sign.ids.header, "zh_CN"))
    assert app.lang == "zh_CN"
    for step in STEPS:
        current = flow.screen(flow.step)
        harness.tap(current.ids.header.ids[f"tab_{step}"])
        assert flow.step == step
        looks.at(step)

    if then is not None:
        from kivy.core.window import Window

        Window.size = then
        harness.pump(3)
        looks.size = f"{then[0]}x{then[1]}"
        for step in STEPS:
            harness.tap(flow.screen(flow.step).ids.header.ids[f"tab_{step}"])
            looks.at(step)

    harness.tap(flow.screen(flow.step).ids.header.ids.close)
    assert harness.screen == "queue"
    queue = app.manager.get_screen("queue")
    harness.wait_until(lambda: queue.loaded)
    looks.at("queue")
    harness.tap(language(queue, "en"))
    looks.at("queue")
    looks.assert_none()


@pytest.mark.parametrize("size", list(KIOSKS))
def test_kiosk_check_in_is_usable_on_lobby_screens(
    start_at: Callable[..., HeadlessApp], kiosk_data: DeviceStore, size: str
) -> None:
    harness = start_at(kiosk_data, KIOSKS[size], qr_scanner=DummyScanner(), start_sync=False)
    app = harness.app
    looks = Looks(harness, size)
    looks.at("welcome")
    harness.tap(app.welcome_screen.ids.language.ids.zh_CN)
    looks.at("welcome")

    for key in "3812345678":  # the shown 1 and ten digits: looked up at the last
        harness.tap(app.welcome_screen.ids.phone_pad.key_buttons[key])
    harness.pump(2)
    assert harness.screen == "confirm"
    confirm = screen(harness, "confirm")
    looks.at("confirm")
    harness.tap(confirm.ids.change_concerns)
    concern = screen(harness, "concern")
    harness.tap(concern.tiles["brakes"])
    looks.at("concern")
    harness.tap(concern.ids.next)
    assert harness.screen == "confirm"
    harness.tap(confirm.ids.header.ids.language.ids.en)
    assert app.lang == "en"
    looks.at("confirm")
    harness.drag(confirm.ids.pad, SIGNATURE)
    harness.tap(confirm.ids.finish)
    assert harness.screen == "done"
    looks.at("done")
    looks.assert_none()


def test_the_layout_check_sees_overlap_cut_text_small_targets_and_off_screen(
    kivy_window: Any,
) -> None:
    """What the checks above would miss if the walk found nothing: each kind of fault."""
    from kivy.base import EventLoop
    from kivy.uix.button import Button
    from kivy.uix.floatlayout import FloatLayout
    from kivy.uix.label import Label

    was = tuple(kivy_window.size)
    kivy_window.size = (1024, 600)
    page = FloatLayout()
    parts = [
        Button(text="Save", size_hint=(None, None), size=(200, 60), pos=(10, 10)),
        Button(text="Cancel", size_hint=(None, None), size=(200, 60), pos=(100, 30)),
        Button(text="Tiny", size_hint=(None, None), size=(30, 30), pos=(500, 10)),
        Button(text="Gone", size_hint=(None, None), size=(120, 60), pos=(980, 300)),
        Label(text="A long sentence in a box far too small", size_hint=(None, None),
              size=(60, 20), pos=(600, 400)),
    ]  # fmt: skip
    for part in parts:
        page.add_widget(part)
    kivy_window.add_widget(page)
    try:
        EventLoop.idle()  # laid out
        EventLoop.idle()
        problems = "\n".join(layout_problems())
    finally:
        kivy_window.remove_widget(page)
        kivy_window.size = was
    assert "'Save'" in problems and "'Cancel'" in problems and "overlap" in problems
    assert "'Tiny' is 30×30: under 44 dp" in problems
    assert "'Gone' is outside the screen" in problems
    assert "does not fit its 60×20" in problems
