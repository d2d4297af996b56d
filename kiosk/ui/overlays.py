"""Layers over the screens: "Are you still there?" and the staff PIN pad.

The staff PIN pad opens only by a long press on a hidden corner (top left); the kiosk
leaves full-screen mode only with the right PIN.
"""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock, ClockEvent
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.widget import Widget

LONG_PRESS_S = 3.0


class IdleOverlay(FloatLayout):
    """A dimmed screen with a countdown; any touch on it means "still here"."""

    seconds_left = NumericProperty(0)
    shown = BooleanProperty(False)

    # Hidden, it lets every touch through; shown, it takes them all (any touch on the
    # dimmed screen, or its button, means "still here": KioskRoot notes the activity).
    def on_touch_down(self, touch: Any) -> bool:
        if not self.shown:
            return False
        super().on_touch_down(touch)
        return True

    def on_touch_move(self, touch: Any) -> bool:
        return super().on_touch_move(touch) if self.shown else False

    def on_touch_up(self, touch: Any) -> bool:
        return super().on_touch_up(touch) if self.shown else False


class StaffPinOverlay(FloatLayout):
    """A PIN pad for staff; after the right PIN, the staff menu."""

    shown = BooleanProperty(False)
    unlocked = BooleanProperty(False)
    message = ObjectProperty(None, allownone=True)

    def open(self) -> None:
        self.ids.pin_pad.text = ""
        self.message = None
        self.unlocked = False
        self.shown = True

    def close(self) -> None:
        self.ids.pin_pad.text = ""
        self.shown = False
        self.unlocked = False

    def on_touch_down(self, touch: Any) -> bool:
        if not self.shown:
            return False
        super().on_touch_down(touch)
        return True  # nothing under the pad reacts while it is open

    def on_touch_move(self, touch: Any) -> bool:
        return super().on_touch_move(touch) if self.shown else False

    def on_touch_up(self, touch: Any) -> bool:
        return super().on_touch_up(touch) if self.shown else False


class StaffCorner(Widget):
    """An invisible square in the top-left corner: hold it 3 seconds to open the PIN pad."""

    __events__ = ("on_long_press",)
    hold_s = NumericProperty(LONG_PRESS_S)
    _event: ClockEvent | None = None

    def on_touch_down(self, touch: Any) -> bool:
        if not self.collide_point(*touch.pos):
            return False
        touch.grab(self)
        self._event = Clock.schedule_once(lambda _dt: self.dispatch("on_long_press"), self.hold_s)
        return False  # the touch still reaches what is underneath

    def on_touch_up(self, touch: Any) -> bool:
        if touch.grab_current is self:
            touch.ungrab(self)
            if self._event is not None:
                self._event.cancel()
                self._event = None
        return False

    def on_long_press(self) -> None:
        """Event: held long enough."""
