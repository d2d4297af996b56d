"""A signature pad: draws the finger's strokes and keeps them as vector points.

Points are in pad units (0..1 across and down, ``y`` growing downwards like an image)
with milliseconds since the stroke began, which is what ``shared.domain.Signature``
stores. Reusable: the advisor tablet uses it for the check-in sheet.
"""

from __future__ import annotations

import time
from typing import Any

from kivy.graphics import Color, Line
from kivy.properties import ListProperty, NumericProperty
from kivy.uix.widget import Widget

from kiosk.ui import palette
from shared.domain import Signature, SignaturePurpose, StrokePoint, new_id

INK_WIDTH = 2.5


class SignaturePad(Widget):
    """Touch to sign; ``strokes`` holds the lines drawn; :meth:`clear` starts again."""

    takes_drags = True  # on a scrolling page, a finger here draws (kiosk.ui.fitting)

    strokes = ListProperty()
    ink_length = NumericProperty(0.0)

    def __init__(self, **kwargs: Any) -> None:
        self._lines: dict[int, tuple[Line, float, list[StrokePoint]]] = {}
        super().__init__(**kwargs)
        self.bind(size=self._redraw, pos=self._redraw)

    def clear(self) -> None:
        self.strokes = []
        self.ink_length = 0.0
        self._lines.clear()
        self._redraw()

    # -- touches -----------------------------------------------------------------------

    def on_touch_down(self, touch: Any) -> bool:
        if not self.collide_point(*touch.pos):
            return super().on_touch_down(touch)
        touch.grab(self)
        with self.canvas.after:
            Color(*palette.TEXT)
            line = Line(points=list(touch.pos), width=INK_WIDTH)
        self._lines[touch.uid] = (line, time.monotonic(), [self._point(touch.pos, 0)])
        return True

    def on_touch_move(self, touch: Any) -> bool:
        if touch.grab_current is not self or touch.uid not in self._lines:
            return super().on_touch_move(touch)
        line, started, points = self._lines[touch.uid]
        x = min(max(touch.x, self.x), self.right)
        y = min(max(touch.y, self.y), self.top)
        line.points += [x, y]
        points.append(self._point((x, y), int((time.monotonic() - started) * 1000)))
        return True

    def on_touch_up(self, touch: Any) -> bool:
        if touch.grab_current is not self:
            return super().on_touch_up(touch)
        touch.ungrab(self)
        entry = self._lines.pop(touch.uid, None)
        if entry is not None:
            self.strokes = [*self.strokes, entry[2]]
            self.ink_length = Signature(
                visit_id=new_id(),
                purpose=SignaturePurpose.consent,
                strokes=list(self.strokes),
                signed_sha256="0" * 64,
            ).ink_length()
        return True

    # -- drawing -----------------------------------------------------------------------

    def _point(self, pos: tuple[float, float], t_ms: int) -> StrokePoint:
        width, height = max(self.width, 1.0), max(self.height, 1.0)
        x = min(max((pos[0] - self.x) / width, 0.0), 1.0)
        y = min(max(1.0 - (pos[1] - self.y) / height, 0.0), 1.0)
        return StrokePoint(round(x, 4), round(y, 4), t_ms)

    def _redraw(self, *_args: Any) -> None:
        self.canvas.after.clear()
        with self.canvas.after:
            Color(*palette.TEXT)
            for stroke in self.strokes:
                points = [
                    coordinate
                    for point in stroke
                    for coordinate in (
                        self.x + point.x * self.width,
                        self.y + (1.0 - point.y) * self.height,
                    )
                ]
                Line(points=points, width=INK_WIDTH)
