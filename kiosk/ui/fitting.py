"""Screens that fit the device: a page that scrolls when the window is smaller than the
screen was laid out for, and the breakpoint where two columns become one.

Shops run the app on 7-inch tablets (1024 × 600), iPads (1024 × 768), tablets held
upright (800 × 1280), dense screens (1280 × 800 at 1.5 or 2 pixels per dp) and the
lobby's PC (1280 × 800, 1024 × 768, 1080 × 1920 upright). Every screen's layout is in
dp, so what matters is the window in dp:

- **narrow** (under :data:`NARROW_BELOW_DP` wide): a screen's side-by-side columns are
  put one above the other (the ``.kv`` rules read ``app.narrow``);
- a screen's page is never laid out smaller than the least size it needs
  (:attr:`FittedScreen.page_min_dp`, wide and narrow): on a smaller window it keeps that
  size and scrolls (:class:`PageScroll`), so nothing is squeezed over something else
  nor cut off.

A drawing surface on a scrolling page (the car diagram, a photo, the signature pad)
keeps its touches: a finger drawn across it signs or moves a mark; the page is scrolled
from anywhere else.
"""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.core.window import Window
from kivy.effects.scroll import ScrollEffect
from kivy.metrics import Metrics, dp
from kivy.properties import NumericProperty
from kivy.uix.screenmanager import Screen
from kivy.uix.scrollview import ScrollView
from kivy.uix.widget import Widget

# Under this many dp wide, two columns become one (a tablet held upright, or dense).
NARROW_BELOW_DP = 1000
# Under this many dp wide, the walk-around's tabs leave no room for the saved note
# beside them: it goes on a line of its own.
ROOMY_FROM_DP = 1200
# Under this many dp high the lobby kiosk's screens put less space between things.
SHORT_BELOW_DP = 700


def window_dp() -> tuple[float, float]:
    """The window's size in dp (what the layouts are measured in)."""
    scale = Metrics.dp or 1.0
    return Window.width / scale, Window.height / scale


def is_narrow() -> bool:
    return window_dp()[0] < NARROW_BELOW_DP


def is_roomy() -> bool:
    return window_dp()[0] >= ROOMY_FROM_DP


def is_short() -> bool:
    return window_dp()[1] < SHORT_BELOW_DP


class PageScroll(ScrollView):
    """A screen's page, laid out at least ``min_width`` × ``min_height`` (px): when the
    window is smaller, the page keeps that size and scrolls; when it is larger, the
    page fills it and nothing scrolls (touches go straight to the page)."""

    min_width = NumericProperty(0)
    min_height = NumericProperty(0)

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("effect_cls", ScrollEffect)
        kwargs.setdefault("always_overscroll", False)
        kwargs.setdefault("bar_width", dp(8))
        kwargs.setdefault("scroll_type", ["bars", "content"])
        super().__init__(**kwargs)
        self.fbind("size", self._fit)
        self.fbind("min_width", self._fit)
        self.fbind("min_height", self._fit)

    def add_widget(self, widget: Widget, *args: Any, **kwargs: Any) -> None:
        widget.size_hint = (None, None)
        super().add_widget(widget, *args, **kwargs)
        self._fit()

    def _fit(self, *_args: Any) -> None:
        page = self._viewport
        if page is None:
            return
        width, height = max(self.width, self.min_width), max(self.height, self.min_height)
        page.size = (width, height)
        self.do_scroll_x = width > self.width + 0.5
        self.do_scroll_y = height > self.height + 0.5
        if not self.do_scroll_y:
            self.scroll_y = 1.0
        if not self.do_scroll_x:
            self.scroll_x = 0.0

    def on_touch_down(self, touch: Any) -> bool:
        if self.collide_point(*touch.pos) and self._surface_at(touch) is not None:
            # Drawn on, not scrolled: straight to the page (the surface takes the touch).
            touch.push()
            touch.apply_transform_2d(self.to_local)
            try:
                return bool(Widget.on_touch_down(self, touch))
            finally:
                touch.pop()
        return bool(super().on_touch_down(touch))

    def _surface_at(self, touch: Any) -> Widget | None:
        return self.surface_at_window(*self.to_window(*touch.pos))

    def surface_at_window(self, x: float, y: float) -> Widget | None:
        """The drawing surface at window point (x, y), if there is one."""
        pending = list(self.children)
        while pending:
            widget = pending.pop()
            if widget.opacity <= 0:
                continue
            left, bottom = widget.to_window(widget.x, widget.y)
            right, top = widget.to_window(widget.right, widget.top)
            if not (left <= x <= right and bottom <= y <= top):
                continue
            if getattr(widget, "takes_drags", False):
                return widget
            pending.extend(widget.children)
        return None


class FittedScreen(Screen):
    """A screen whose page (its rule's one child) is held by a :class:`PageScroll`.

    ``page_min_dp`` is the least size, in dp, at which the page's layout works: wide
    and narrow (see :func:`is_narrow`); 0 where any size does."""

    page_min_dp: tuple[tuple[float, float], tuple[float, float]] = ((0, 0), (0, 0))
    page: PageScroll | None = None

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)  # the rule builds the page
        self._hold_page()

    def _hold_page(self) -> None:
        if self.page is not None or not self.children:
            return
        content = self.children[-1]
        self.remove_widget(content)
        self.page = PageScroll()
        self.page.add_widget(content)
        self.add_widget(self.page, index=len(self.children))
        app = App.get_running_app()
        if app is not None and hasattr(app, "narrow"):
            app.fbind("narrow", self._fit_page)
        message = self.ids.get("message")
        if message is not None:  # a message shown makes the page that much taller
            message.fbind("height", self._fit_page)
        self._fit_page()

    def extra_height(self) -> float:
        """Pixels the page needs beyond ``page_min_dp`` now (a row that comes and goes)."""
        return 0.0

    def _fit_page(self, *_args: Any) -> None:
        if self.page is None:
            return
        width, height = self.page_min_dp[1 if is_narrow() else 0]
        message = self.ids.get("message")
        extra = (message.height if message is not None else 0) + self.extra_height()
        self.page.min_width = dp(width)
        self.page.min_height = dp(height) + extra if height else 0

    def scroll_to_top(self) -> None:
        if self.page is not None:
            self.page.scroll_y = 1.0
            self.page.scroll_x = 0.0
