"""The car diagram on the advisor tablet: tap to place a damage mark, drag to move it.

:class:`CarDiagram` shows one view's drawing (``assets/diagram/<view>@2x.png``, the
same drawing as the printed check-in sheet) with the marks on it as coded badges
(``A2``): today's marks filled red, damage from earlier visits as grey rings that
cannot be dragged. It holds no walk-around logic: the screen listens to its events and
calls ``kiosk.services.walkaround.WalkaroundSheet``, then hands the marks back with
:meth:`CarDiagram.show_marks`.

Events (positions as the sheet keeps them: 0..1 across and down the drawing):

* ``on_place_mark(x, y)`` — a tap on the drawing, away from any badge;
* ``on_move_mark(mark_id, x, y)`` — a badge dragged and let go (only while not
  ``locked``; the screen locks the diagram once the customer signed, an edit then being
  a new version that must be signed again);
* ``on_pick_mark(mark_id, earlier)`` — a badge tapped without moving (to edit it, or
  to carry an earlier mark over).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kivy.lang import Builder
from kivy.metrics import dp
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.label import Label

from shared.domain import DamageMark, DiagramView, label
from shared.resources import diagram_dir

KV_PATH = Path(__file__).with_suffix(".kv")
DIAGRAM_DIR = diagram_dir()
BADGE_SIZE = 44  # dp: a fingertip
# A finger that moves less than this (dp) between down and up has tapped, not dragged.
TAP_SLOP = 8


def load_kv() -> None:
    """Load ``diagram.kv`` once per process (the app may have loaded it already)."""
    if str(KV_PATH) not in Builder.files:
        Builder.load_file(str(KV_PATH))


def drawing_path(view: str) -> str:
    return str(DIAGRAM_DIR / f"{DiagramView(view).value}@2x.png")


@dataclass(frozen=True)
class BadgeSpot:
    """What a badge shows: which mark, its code, where, and whether it is from before."""

    mark_id: str
    code: str
    x: float
    y: float
    earlier: bool = False


class MarkBadge(Label):
    """One damage mark on the drawing: a disc with its auction code."""

    mark_id = StringProperty("")
    code = StringProperty("")
    earlier = BooleanProperty(False)
    spot_x = NumericProperty(0.0)
    spot_y = NumericProperty(0.0)
    selected = BooleanProperty(False)


class CarDiagram(FloatLayout):
    """One view of the car with its damage marks; see the module docstring for events."""

    takes_drags = True  # on a scrolling page, a finger here draws (kiosk.ui.fitting)

    view = StringProperty(DiagramView.left.value)
    lang = StringProperty("en")
    caption = StringProperty("")
    source = StringProperty("")
    locked = BooleanProperty(False)
    selected_mark = StringProperty("")
    spots = ListProperty()
    drawing = ObjectProperty(None, allownone=True)

    __events__ = ("on_place_mark", "on_move_mark", "on_pick_mark")

    def __init__(self, **kwargs: Any) -> None:
        load_kv()
        self._drags: dict[int, tuple[MarkBadge, tuple[float, float], bool]] = {}
        self._badges: list[MarkBadge] = []
        super().__init__(**kwargs)
        self.bind(view=self._update_view, lang=self._update_view)
        self._update_view()

    # -- what the screen calls ---------------------------------------------------------

    def show_marks(self, marks: list[DamageMark], earlier: list[DamageMark] | None = None) -> None:
        """Show this view's marks (``marks``: today's; ``earlier``: from earlier visits)."""
        view = DiagramView(self.view)
        spots = [
            BadgeSpot(mark.id, mark.condition_code, mark.x, mark.y, earlier=True)
            for mark in earlier or []
            if mark.view == view
        ]
        spots += [
            BadgeSpot(mark.id, mark.condition_code, mark.x, mark.y)
            for mark in marks
            if mark.view == view and not mark.deleted
        ]
        self.spots = spots

    def picture_rect(self) -> tuple[float, float, float, float]:
        """Where the drawing is on screen (x, y, width, height): it keeps its shape."""
        drawing = self.drawing
        if drawing is None or not drawing.texture:
            return self.x, self.y, self.width, self.height
        width, height = drawing.norm_image_size
        return (
            drawing.center_x - width / 2,
            drawing.center_y - height / 2,
            width,
            height,
        )

    def to_spot(self, window_x: float, window_y: float) -> tuple[float, float] | None:
        """The drawing position (0..1, y down) under a point, or None off the drawing."""
        x, y = self.to_widget(window_x, window_y)
        left, bottom, width, height = self.picture_rect()
        if width <= 0 or height <= 0:
            return None
        across, down = (x - left) / width, 1 - (y - bottom) / height
        if not (0 <= across <= 1 and 0 <= down <= 1):
            return None
        return round(across, 4), round(down, 4)

    def badge(self, mark_id: str) -> MarkBadge | None:
        return next((b for b in self._badges if b.mark_id == mark_id), None)

    # -- events (for the screen to bind) -----------------------------------------------

    def on_place_mark(self, x: float, y: float) -> None:
        pass

    def on_move_mark(self, mark_id: str, x: float, y: float) -> None:
        pass

    def on_pick_mark(self, mark_id: str, earlier: bool) -> None:
        pass

    # -- drawing -----------------------------------------------------------------------

    def _update_view(self, *_args: Any) -> None:
        self.source = drawing_path(self.view)
        self.caption = label(DiagramView(self.view)).render(self.lang)

    def on_spots(self, _widget: Any, spots: list[BadgeSpot]) -> None:
        for badge in self._badges:
            self.remove_widget(badge)
        self._badges = []
        for spot in spots:
            badge = MarkBadge(
                mark_id=spot.mark_id,
                code=spot.code,
                earlier=spot.earlier,
                spot_x=spot.x,
                spot_y=spot.y,
                selected=spot.mark_id == self.selected_mark,
                size_hint=(None, None),
                size=(dp(BADGE_SIZE), dp(BADGE_SIZE)),
            )
            self._badges.append(badge)
        # Earlier marks first, so today's are drawn over them and are touched first.
        for badge in self._badges:
            self.add_widget(badge)
        self._place_badges()

    def on_selected_mark(self, _widget: Any, mark_id: str) -> None:
        for badge in self._badges:
            badge.selected = badge.mark_id == mark_id

    def on_size(self, *_args: Any) -> None:
        self._place_badges()

    def on_pos(self, *_args: Any) -> None:
        self._place_badges()

    def _place_badges(self, *_args: Any) -> None:
        left, bottom, width, height = self.picture_rect()
        for badge in self._badges:
            badge.center = (left + badge.spot_x * width, bottom + (1 - badge.spot_y) * height)

    # -- touches -----------------------------------------------------------------------

    def on_touch_down(self, touch: Any) -> bool:
        if not self.collide_point(*touch.pos):
            return False
        x, y = touch.pos
        for badge in reversed(self._badges):  # the one drawn on top first
            if badge.collide_point(x, y):
                touch.grab(self)
                self._drags[touch.uid] = (badge, (x, y), False)
                return True
        spot = self.to_spot(*self.to_window(x, y))
        if spot is not None:
            self.dispatch("on_place_mark", *spot)
            return True
        return super().on_touch_down(touch)

    def on_touch_move(self, touch: Any) -> bool:
        if touch.grab_current is not self or touch.uid not in self._drags:
            return super().on_touch_move(touch)
        badge, start, moved = self._drags[touch.uid]
        far = abs(touch.x - start[0]) + abs(touch.y - start[1]) > dp(TAP_SLOP)
        if moved or far:
            self._drags[touch.uid] = (badge, start, True)
            if badge.earlier or self.locked:
                return True  # earlier marks and a signed sheet's marks stay where they are
            left, bottom, width, height = self.picture_rect()
            badge.center = (
                min(max(touch.x, left), left + width),
                min(max(touch.y, bottom), bottom + height),
            )
        return True

    def on_touch_up(self, touch: Any) -> bool:
        if touch.grab_current is not self or touch.uid not in self._drags:
            return super().on_touch_up(touch)
        touch.ungrab(self)
        badge, _start, moved = self._drags.pop(touch.uid)
        if not moved:
            self.selected_mark = badge.mark_id
            self.dispatch("on_pick_mark", badge.mark_id, badge.earlier)
            return True
        spot = self.to_spot(*self.to_window(*badge.center))
        if spot is not None and not (badge.earlier or self.locked):
            badge.spot_x, badge.spot_y = spot
            self.dispatch("on_move_mark", badge.mark_id, *spot)
        self._place_badges()
        return True
