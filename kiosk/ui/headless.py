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

    def saving(self) -> bool:
        """A check-in or a walk-around is being saved on a worker thread."""
        return any(
            getattr(getattr(self.app, name, None), "saving", False)
            for name in ("checkin", "walkaround")
        )

    def drag(self, widget: Widget, points: list[tuple[float, float]]) -> None:
        """One finger stroke across ``widget``: ``points`` in widget units (0..1, y up)."""
        self.pump()

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
