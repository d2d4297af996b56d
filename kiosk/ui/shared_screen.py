"""A screen many people touch: the idle timeout and the staff PIN.

:class:`SharedScreenGuard` is that part of ``CheckinApp``. On the lobby kiosk, a
check-in nobody touches is asked about ("Are you still there?") and then wiped, so the
next customer sees nothing of it; leaving kiosk mode (closing the app) takes the staff
PIN. On the tablet, an advisor left signed in on a counter is signed out after a while,
never in the middle of a walk-around. Every check is a look at the clock and at state in
memory.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kivy.clock import Clock, ClockEvent

from kiosk.services.idle import IdleState, IdleWatch
from kiosk.services.staff_pin import verify_pin
from shared.i18n import Text

if TYPE_CHECKING:
    from kiosk.ui.app import CheckinApp

log = logging.getLogger(__name__)

IDLE_CHECK_S = 0.25
WRONG_PIN = Text("That PIN is not right.", "kiosk")
NO_PIN_SET = Text(
    "No staff PIN is set. Start the app once with --staff-pin 1234 (your own digits).",
    "kiosk",
)
SIGNED_OUT_IDLE = Text("Signed out after 10 minutes without use.", "kiosk")


class SharedScreenGuard:
    """Idle timeout and staff PIN (see the module docstring).

    ``advisor_idle_s`` is read at each check (the app's setting, tests shorten it).
    """

    def __init__(self, app: CheckinApp, advisor_idle_s: Callable[[], float]) -> None:
        self.app = app
        self.advisor_idle_s = advisor_idle_s
        self.may_close = False
        self._idle_event: ClockEvent | None = None

    @property
    def idle(self) -> IdleWatch:
        """The app's idle watch (read each time: tests replace it with a fake clock)."""
        return self.app.idle

    def start(self) -> None:
        self._idle_event = Clock.schedule_interval(lambda _dt: self.check_idle(), IDLE_CHECK_S)

    def stop(self) -> None:
        if self._idle_event is not None:
            self._idle_event.cancel()
            self._idle_event = None

    def note_activity(self) -> None:
        self.idle.touched()
        self.app.tablet.last_touch = time.monotonic()

    def check_idle(self) -> None:
        """Ask "Are you still there?" after the idle time, and wipe the check-in after it.

        On the tablet: sign the advisor out after ``advisor_idle_s`` untouched, except
        during a walk-around (the customer may be reading the sheet).
        """
        app = self.app
        if app.mode == "tablet":
            idle_for = time.monotonic() - app.tablet.last_touch
            if (
                app.advisor is not None
                and idle_for > self.advisor_idle_s()
                and not app.walkaround.in_progress
            ):
                app.tablet.sign_out(SIGNED_OUT_IDLE)
            return
        if not app.checkin.in_progress:
            self.idle.touched()
            app.idle_overlay.shown = False
            return
        reading = self.idle.reading()
        if reading.state is IdleState.active:
            app.idle_overlay.shown = False
        elif reading.state is IdleState.asking:
            app.idle_overlay.seconds_left = reading.seconds_left
            app.idle_overlay.shown = True
        else:
            log.info("Nobody touched the kiosk: check-in wiped")
            app.idle_overlay.shown = False
            app.staff_overlay.close()
            app.checkin.start_over()

    def still_here(self) -> None:
        self.idle.touched()
        self.app.idle_overlay.shown = False

    def open_staff_pin(self) -> None:
        overlay = self.app.staff_overlay
        overlay.open()
        if not self.app.store.load().staff_pin_hash:
            overlay.message = NO_PIN_SET

    def check_staff_pin(self, pin: str) -> None:
        overlay = self.app.staff_overlay
        stored = self.app.store.load().staff_pin_hash
        if not stored:
            overlay.message = NO_PIN_SET
        elif verify_pin(pin, stored):
            overlay.message = None
            overlay.unlocked = True
        else:
            overlay.message = WRONG_PIN
            overlay.ids.pin_pad.text = ""

    def leave_kiosk_mode(self) -> None:
        """Staff unlocked with the PIN: the app may close now."""
        if not self.app.staff_overlay.unlocked:
            return
        log.info("Staff left kiosk mode with the PIN")
        self.may_close = True
        self.app.stop()

    def keep_open(self, *_args: Any, **_kwargs: Any) -> bool:
        """Whether to refuse closing the window: a paired lobby kiosk closes only
        through the staff PIN."""
        app = self.app
        return app.mode == "kiosk" and app.settings.is_paired and not self.may_close
