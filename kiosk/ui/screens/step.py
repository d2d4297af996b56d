"""What every check-in step screen shares: its field messages and the controller."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kivy.app import App
from kivy.properties import ListProperty

from kiosk.ui.fitting import FittedScreen

if TYPE_CHECKING:
    from kiosk.ui.checkin import CheckinController


class StepScreen(FittedScreen):
    """A step of the check-in; ``issues`` are the field messages it shows."""

    page_min_dp = ((0, 740), (0, 1000))  # dp: (wide, narrow); scrolls on a smaller window

    issues = ListProperty()

    @property
    def checkin(self) -> CheckinController:
        app: Any = App.get_running_app()
        return app.checkin

    def reset(self) -> None:
        """Forget what was typed here (the next customer must not see it)."""
        self.issues = []

    def prepare(self) -> None:
        """Called before the screen is shown: fill it from the check-in so far."""
