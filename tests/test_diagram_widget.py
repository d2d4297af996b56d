"""The car diagram widget alone, headless: a tap places a mark where the finger was, a drag
moves today's mark (not an earlier visit's, not once signed), marks show as coded badges.

The widget is built on Kivy's one offscreen window without the app (see
``kiosk_fixtures.py`` for why frames are advanced by hand). Set
``DIAGRAM_SCREENSHOT=docs/screenshots/tablet-diagram.png`` to keep a picture of it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from kivy.base import EventLoop
from tablet_fixtures import Finger

from shared.domain import DamageMark, DamageType, DiagramView

if TYPE_CHECKING:
    from kiosk.ui.diagram import CarDiagram

pytestmark = pytest.mark.ui

SIZE = (1280, 800)


def pump(frames: int = 2) -> None:
    for _ in range(frames):
        EventLoop.idle()


def tap(x: float, y: float) -> None:
    finger = Finger(x, y)
    EventLoop.post_dispatch_input("begin", finger)
    pump(1)
    EventLoop.post_dispatch_input("end", finger)
    pump(1)


def drag(points: list[tuple[float, float]]) -> None:
    finger = Finger(*points[0])
    EventLoop.post_dispatch_input("begin", finger)
    pump(1)
    for point in points[1:]:
        finger.move_to(*point)
        EventLoop.post_dispatch_input("update", finger)
        pump(1)
    EventLoop.post_dispatch_input("end", finger)
    pump(2)


def window_point(diagram: CarDiagram, x: float, y: float) -> tuple[float, float]:
    """Where on the window the drawing's (x, y) (0..1, y down) is."""
    left, bottom, width, height = diagram.picture_rect()
    return diagram.to_window(left + x * width, bottom + (1 - y) * height)


@pytest.fixture
def diagram(kivy_window: Any) -> Iterator[CarDiagram]:
    """The widget alone on Kivy's one window (made 1280×800 by ``kivy_window``)."""
    from kiosk.ui.diagram import CarDiagram

    Window = kivy_window
    EventLoop.ensure_window()
    if tuple(Window.size) != SIZE:
        Window.size = SIZE
    Window.clearcolor = (0.93, 0.945, 0.957, 1)
    widget = CarDiagram(view="left", size_hint=(None, None), size=(1100, 560), pos=(90, 120))
    Window.add_widget(widget)
    pump(4)
    try:
        yield widget
    finally:
        Window.remove_widget(widget)
        EventLoop.touches.clear()
        pump(1)


def record(diagram: CarDiagram) -> dict[str, list[Any]]:
    events: dict[str, list[Any]] = {"place": [], "move": [], "pick": []}
    diagram.bind(
        on_place_mark=lambda _w, x, y: events["place"].append((x, y)),
        on_move_mark=lambda _w, mark_id, x, y: events["move"].append((mark_id, x, y)),
        on_pick_mark=lambda _w, mark_id, earlier: events["pick"].append((mark_id, earlier)),
    )
    return events


def mark(x: float, y: float, kind: str = "A", severity: int = 2, view: str = "left") -> DamageMark:
    return DamageMark(
        walkaround_id="00000000-0000-4000-8000-000000000001",
        view=DiagramView(view),
        x=x,
        y=y,
        damage_type=DamageType(kind),
        severity=severity,
    )


def test_a_tap_on_the_drawing_places_a_mark_there(diagram: CarDiagram) -> None:
    events = record(diagram)
    _left, _bottom, width, height = diagram.picture_rect()
    assert width / height == pytest.approx(1000 / 420, rel=0.02)  # the drawing keeps its shape
    tap(*window_point(diagram, 0.25, 0.6))
    ((x, y),) = events["place"]
    assert x == pytest.approx(0.25, abs=0.003) and y == pytest.approx(0.6, abs=0.003)
    tap(diagram.x + 2, diagram.y + 2)  # the margin around the drawing: nothing placed
    assert len(events["place"]) == 1


def test_marks_show_as_badges_and_todays_can_be_dragged(diagram: CarDiagram) -> None:
    events = record(diagram)
    today = mark(0.4, 0.55)
    before = mark(0.7, 0.4, "U", 1)
    elsewhere = mark(0.5, 0.5, view="front")
    diagram.show_marks([today, elsewhere], earlier=[before])
    pump(2)
    badge, old = diagram.badge(today.id), diagram.badge(before.id)
    assert badge is not None and old is not None and diagram.badge(elsewhere.id) is None
    assert (badge.text, badge.earlier, old.text, old.earlier) == ("A2", False, "U1", True)
    assert badge.center == pytest.approx(window_point(diagram, 0.4, 0.55), abs=1)

    start = window_point(diagram, 0.4, 0.55)
    end = window_point(diagram, 0.5, 0.35)
    drag([start, (start[0] + 30, start[1] - 10), end])
    ((mark_id, x, y),) = events["move"]
    assert mark_id == today.id
    assert x == pytest.approx(0.5, abs=0.003) and y == pytest.approx(0.35, abs=0.003)
    assert events["place"] == []  # a drag is not a tap on the drawing

    drag([window_point(diagram, 0.7, 0.4), window_point(diagram, 0.2, 0.2)])
    assert len(events["move"]) == 1  # the earlier visit's mark stays put
    assert old.center == pytest.approx(window_point(diagram, 0.7, 0.4), abs=1)

    tap(*window_point(diagram, 0.7, 0.4))
    assert events["pick"] == [(before.id, True)]

    shot = os.environ.get("DIAGRAM_SCREENSHOT")
    if shot:
        more = [mark(0.16, 0.72, "G", 1), mark(0.86, 0.62, "B", 3)]
        today.x, today.y = x, y
        diagram.show_marks([today, *more], earlier=[before])
        diagram.selected_mark = today.id
        pump(3)
        from kivy.core.window import Window

        saved = Window.screenshot(name=str(Path(shot).with_name(".diagram.png")))
        os.replace(saved, shot)


def test_a_signed_sheet_locks_the_marks(diagram: CarDiagram) -> None:
    events = record(diagram)
    today = mark(0.4, 0.55)
    diagram.show_marks([today])
    diagram.locked = True
    pump(2)
    drag([window_point(diagram, 0.4, 0.55), window_point(diagram, 0.6, 0.3)])
    assert events["move"] == [] and events["pick"] == []
    assert diagram.badge(today.id).center == pytest.approx(window_point(diagram, 0.4, 0.55), abs=1)
    tap(*window_point(diagram, 0.4, 0.55))
    assert events["pick"] == [(today.id, False)]  # still opens it (an edit makes version 2)


def test_the_view_and_caption_follow_the_settings(diagram: CarDiagram) -> None:
    diagram.view = "front"
    diagram.lang = "zh_CN"
    pump(3)
    assert diagram.source.endswith("front@2x.png")
    assert diagram.caption not in ("", "Front")  # the view's name in Chinese
    _left, _bottom, width, height = diagram.picture_rect()
    assert width / height == pytest.approx(600 / 420, rel=0.02)
