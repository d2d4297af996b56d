"""Drive ``CheckinApp`` without a main loop: for tests and the screenshot script.

Set ``SDL_VIDEODRIVER=offscreen`` (and ``KIVY_NO_ARGS=1``) before Kivy is imported;
then :class:`HeadlessApp` builds the app into Kivy's one window, advances frames by
hand, touches widgets and saves screenshots.

Why not ``App.run()``/``App.stop()``: ``stop()`` closes Kivy's event loop for good, so
a second app in the same process would never draw. Instead the app is prepared as
``run()`` does it (``_run_prepare``: build, add to the window, ``on_start``) and taken
down by hand (``on_stop``, remove from the window, forget the running app). The kv
rules are loaded once per process (``load_kv_files``), so building many apps is safe.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from kivy.app import App
from kivy.base import EventLoop
from kivy.core.window import Window
from kivy.input.motionevent import MotionEvent
from kivy.metrics import dp
from kivy.uix.scrollview import ScrollView
from kivy.uix.widget import Widget

from kiosk.ui.app import CheckinApp

DEFAULT_SIZE = (1280, 800)


class _Finger(MotionEvent):
    """A touch at window pixel coordinates (like ``kivy.tests.common.UnitTestTouch``,
    which imports pytest)."""

    def __init__(self, x: float, y: float) -> None:
        super().__init__(
            "headless",
            1,
            {"x": x / (Window.width - 1.0), "y": y / (Window.height - 1.0)},
            is_touch=True,
            type_id="touch",
        )
        self.profile = ["pos"]

    def depack(self, args: dict[str, float]) -> None:
        self.sx = args["x"]
        self.sy = args["y"]
        super().depack(args)


def _visible_box(page: ScrollView) -> tuple[float, float, float, float]:
    left, bottom = page.to_window(page.x, page.y)
    right, top = page.to_window(page.right, page.top)
    return max(left, 0), max(bottom, 0), min(right, Window.width), min(top, Window.height)


def _shows(page: ScrollView, target: Widget) -> bool:
    """``page`` shows the whole of ``target``, or as much as it can (a taller target
    fills it)."""
    left, bottom, right, top = _visible_box(page)
    t_left, t_bottom = target.to_window(target.x, target.y)
    t_right, t_top = target.to_window(target.right, target.top)
    fits_x = (t_left >= left - 1 and t_right <= right + 1) or (t_left <= left and t_right >= right)
    fits_y = (t_bottom >= bottom - 1 and t_top <= top + 1) or (t_bottom <= bottom and t_top >= top)
    return fits_x and fits_y


def _bare_spot(
    page: ScrollView, box: tuple[float, float, float, float], dx: float, dy: float
) -> tuple[float, float] | None:
    """Where a finger can start a swipe of (dx, dy) on ``page``: inside it all the way,
    clear of its scroll bars and of a drawing surface (which keeps its touches)."""
    left, bottom, right, top = box
    bar = page.bar_width + dp(8)
    fractions = (0.5, 0.3, 0.7, 0.15, 0.85, 0.05, 0.95, 0.4, 0.6, 0.22, 0.78)
    # The page's own margin at its left edge, too (nothing is drawn there).
    xs = [left + (right - left - bar) * f for f in fractions] + [left + dp(6)]
    ys = [bottom + (top - bottom) * f for f in fractions]
    surface_at = getattr(page, "surface_at_window", None)
    for x in xs:
        for y in ys:
            end = (x + dx, y + dy)
            if not (left <= end[0] <= right - bar and bottom + bar <= end[1] <= top):
                continue
            if surface_at is not None and surface_at(x, y) is not None:
                continue
            if not _inner_scroller_at(page, x, y):
                return x, y
    return None


def _inner_scroller_at(page: ScrollView, x: float, y: float) -> bool:
    """A list that scrolls by itself is at window point (x, y) on ``page``."""
    pending = list(page.children)
    while pending:
        widget = pending.pop()
        left, bottom = widget.to_window(widget.x, widget.y)
        right, top = widget.to_window(widget.right, widget.top)
        if not (left <= x <= right and bottom <= y <= top):
            continue
        if isinstance(widget, ScrollView):
            return True
        pending.extend(widget.children)
    return False


class HeadlessApp:
    """One ``CheckinApp`` on the offscreen window, with frame, touch and screenshot helpers."""

    def __init__(self, app: CheckinApp, size: tuple[int, int] = DEFAULT_SIZE) -> None:
        self.app = app
        self.size = size
        self.started = False

    def start(self) -> HeadlessApp:
        EventLoop.ensure_window()
        if tuple(Window.size) != self.size:
            Window.size = self.size
        self.app._run_prepare()
        self.started = True
        self.pump(3)
        return self

    def stop(self) -> None:
        if not self.started:
            return
        self.started = False
        toast = getattr(self.app, "toast", None)
        if toast is not None:
            # A message shown in one test must not fade out in the next app's window.
            toast.cancel()
        self.app.dispatch("on_stop")
        for child in Window.children[:]:
            Window.remove_widget(child)
        EventLoop.touches.clear()
        App._running_app = None
        self.pump(1)

    def __enter__(self) -> HeadlessApp:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- time --------------------------------------------------------------------------

    def pump(self, frames: int = 1) -> None:
        """Advance ``frames`` frames: clock callbacks, layout, drawing."""
        for _ in range(frames):
            EventLoop.idle()

    def wait_until(
        self, condition: Callable[[], object], timeout: float = 10.0, message: str = ""
    ) -> None:
        """Advance frames until ``condition()`` holds (background results arrive by Clock)."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(message or "condition not met in time")
            self.pump()
            time.sleep(0.01)
        self.pump(2)

    def idle_for(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.pump()
            time.sleep(0.01)

    # -- input -------------------------------------------------------------------------

    def tap(self, widget: Widget, *, wait_for_saves: bool = True) -> None:
        """Touch ``widget`` at its centre and lift the finger, as a person would; then,
        as a person looks at the screen, wait for a save it started on a worker thread
        (a check-in, a walk-around signed or finished) to finish."""
        self.pump()  # lay out what the last step changed, so the widget is where it shows
        self.reach(widget)
        x, y = widget.to_window(*widget.center)
        if not (0 <= x < Window.width and 0 <= y < Window.height):
            raise AssertionError(f"{widget!r} is off screen at {(x, y)}")
        touch = _Finger(x, y)
        EventLoop.post_dispatch_input("begin", touch)
        self.pump()
        EventLoop.post_dispatch_input("end", touch)
        self.pump()
        if wait_for_saves and self.saving():
            self.wait_until(lambda: not self.saving(), message="a save did not finish")

    def reach(self, widget: Widget, tries: int = 8) -> None:
        """Bring ``widget`` into view as a person does: swipe the page (each scrolling
        page around it) until the whole of it shows. Nothing happens when it shows.

        The page first (so that a list on it shows), then the list (so that its row
        shows)."""
        scrollers = []
        node = widget.parent
        while node is not None and node is not Window:
            if isinstance(node, ScrollView):
                scrollers.insert(0, node)
            node = node.parent
        for index, page in enumerate(scrollers):
            target = scrollers[index + 1] if index + 1 < len(scrollers) else widget
            for _ in range(tries):
                if not (page.do_scroll_x or page.do_scroll_y) or _shows(page, target):
                    break
                self._swipe_towards(page, target)
        if not all(
            _shows(page, scrollers[i + 1] if i + 1 < len(scrollers) else widget)
            for i, page in enumerate(scrollers)
            if page.do_scroll_x or page.do_scroll_y
        ):
            raise AssertionError(f"{widget!r} cannot be scrolled into view")

    def _swipe_towards(self, page: ScrollView, widget: Widget) -> None:
        left, bottom = page.to_window(page.x, page.y)
        right, top = page.to_window(page.right, page.top)
        left, bottom = max(left, 0), max(bottom, 0)
        right, top = min(right, Window.width), min(top, Window.height)
        w_left, w_bottom = widget.to_window(widget.x, widget.y)
        w_right, w_top = widget.to_window(widget.right, widget.top)
        margin = dp(16)
        # How far the content must move (up: positive dy), at most what a finger can.
        dy = 0.0
        if w_bottom < bottom:
            dy = min(bottom + margin - w_bottom, top - w_top - margin)
        elif w_top > top:
            dy = max(top - margin - w_top, bottom - w_bottom + margin)
        dx = 0.0
        if w_left < left:
            dx = min(left + margin - w_left, right - w_right - margin)
        elif w_right > right:
            dx = max(right - margin - w_right, left - w_left + margin)
        reach_x, reach_y = (right - left) * 0.8, (top - bottom) * 0.8
        dx, dy = max(-reach_x, min(reach_x, dx)), max(-reach_y, min(reach_y, dy))
        start = None
        for _ in range(5):  # a shorter swipe where a long one finds no room
            start = _bare_spot(page, (left, bottom, right, top), dx, dy)
            if start is not None:
                break
            dx, dy = dx / 2, dy / 2
        if start is None:
            raise AssertionError(f"no spot on {page!r} to swipe from")
        finger = _Finger(*start)
        EventLoop.post_dispatch_input("begin", finger)
        steps = 6
        for step in range(1, steps + 1):  # moved at once: a swipe, not a press
            x, y = start[0] + dx * step / steps, start[1] + dy * step / steps
            finger.move({"x": x / (Window.width - 1.0), "y": y / (Window.height - 1.0)})
            EventLoop.post_dispatch_input("update", finger)
        # Held still a moment before lifting: the page stops where the finger left it.
        time.sleep(0.18)
        EventLoop.post_dispatch_input("update", finger)
        EventLoop.post_dispatch_input("end", finger)
        self.wait_until(
            lambda: abs(page.effect_y.velocity) < 1 and abs(page.effect_x.velocity) < 1,
            timeout=3,
            message="the page did not stop scrolling",
        )

    def saving(self) -> bool:
        """A check-in or a walk-around is being saved on a worker thread."""
        return any(
            getattr(getattr(self.app, name, None), "saving", False)
            for name in ("checkin", "walkaround")
        )

    def drag(self, widget: Widget, points: list[tuple[float, float]]) -> None:
        """One finger stroke across ``widget``: ``points`` in widget units (0..1, y up)."""
        self.pump()
        self.reach(widget)

        def window_xy(point: tuple[float, float]) -> tuple[float, float]:
            return widget.to_window(
                widget.x + point[0] * widget.width, widget.y + point[1] * widget.height
            )

        x, y = window_xy(points[0])
        touch = _Finger(x, y)
        EventLoop.post_dispatch_input("begin", touch)
        for point in points[1:]:
            x, y = window_xy(point)
            touch.move({"x": x / (Window.width - 1.0), "y": y / (Window.height - 1.0)})
            EventLoop.post_dispatch_input("update", touch)
        EventLoop.post_dispatch_input("end", touch)
        self.pump()

    def type_text(self, text: str) -> None:
        """Type on a hardware keyboard (what SDL reports as text input)."""
        for char in text:
            Window.dispatch("on_textinput", char)
        self.pump()

    def press_key(self, key: int) -> None:
        Window.dispatch("on_key_down", key, 0, "", [])
        Window.dispatch("on_key_up", key, 0)
        self.pump()

    # -- looking -----------------------------------------------------------------------

    @property
    def screen(self) -> str:
        return self.app.manager.current

    def screenshot(self, path: str | os.PathLike[str]) -> Path:
        """Save what the window shows as a PNG at exactly ``path``."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Buttons keep their pressed look for ButtonBehavior.min_state_time after a
        # quick tap; let such timers run out so the picture shows the settled screen.
        self.idle_for(0.1)
        # Window.screenshot() numbers its files (name0001.png); rename to the exact path.
        saved = Window.screenshot(name=str(target.with_name(f".{target.stem}.png")))
        os.replace(saved, target)
        return target
